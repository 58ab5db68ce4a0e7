// RFC 5246 §6.2.1: record content types and size limits.
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;
export type ContentTypeCode = (typeof ContentType)[keyof typeof ContentType];

export function isContentType(t: number): t is ContentTypeCode {
  return t >= 20 && t <= 23;
}

export function contentTypeName(t: number): string {
  return (['change_cipher_spec', 'alert', 'handshake', 'application_data'] as const)[t - 20] ?? `unknown(${t})`;
}

/** TLS 1.2 on the wire. */
export const TLS12 = 0x0303;
export const TLS10 = 0x0301;

/** §6.2.1: TLSPlaintext.length MUST NOT exceed 2^14. */
export const MAX_PLAINTEXT = 1 << 14;
/** §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;
export const RECORD_HEADER = 5;
