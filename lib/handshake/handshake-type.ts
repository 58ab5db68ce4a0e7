// RFC 5246 §7.4 HandshakeType (+ RFC 5077 new_session_ticket, RFC 6066 §8 certificate_status).
export const HandshakeType = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
  certificate_status: 22, // RFC 6066 §8: after Certificate, before ServerKeyExchange
} as const;
export type HandshakeTypeCode = (typeof HandshakeType)[keyof typeof HandshakeType];

const names = new Map<number, string>(Object.entries(HandshakeType).map(([k, v]) => [v, k]));
export function handshakeTypeName(t: number): string {
  return names.get(t) ?? `unknown_handshake(${t})`;
}
export function isKnownHandshakeType(t: number): boolean {
  return names.has(t);
}
