// RFC 5246 §7.2 alert protocol: levels, descriptions, and the one error type every layer throws.

export const AlertLevel = { warning: 1, fatal: 2 } as const;

/** RFC 5246 §7.2, RFC 4279 §2 (unknown_psk_identity), RFC 7301 §3.2 (no_application_protocol). */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  decompression_failure: 30,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  unsupported_extension: 110,
  unrecognized_name: 112,
  unknown_psk_identity: 115,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof AlertDescription;

const names = new Map<number, AlertName>(
  Object.entries(AlertDescription).map(([k, v]) => [v, k as AlertName]),
);

export function alertName(code: number): string {
  return names.get(code) ?? `unknown_alert(${code})`;
}

/**
 * Every protocol failure is a TLSError carrying the alert that describes it. `sent` says whether we
 * sent the alert to the peer (a local failure) or received it (the peer failed us).
 */
export class TLSError extends Error {
  readonly alert: AlertName;
  readonly alertCode: number;
  /** 'local': we detected the problem and send the alert; 'remote': the peer sent us the alert. */
  readonly origin: 'local' | 'remote';
  /** node-style error code, e.g. ERR_TLS_ALERT_BAD_RECORD_MAC. */
  readonly code: string;

  /**
   * `options.code` replaces the ERR_TLS_ALERT_* code (and the alert prefix of the message) for failures
   * that are not alerts at all, such as the transport closing mid-handshake (node's ECONNRESET).
   */
  constructor(alert: AlertName, message: string, origin: 'local' | 'remote' = 'local', options?: { cause?: unknown; code?: string }) {
    const prefix = options?.code ? '' : origin === 'local' ? `${alert}: ` : `peer sent alert ${alert}: `;
    super(`${prefix}${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TLSError';
    this.alert = alert;
    this.alertCode = AlertDescription[alert];
    this.origin = origin;
    this.code = options?.code ?? `ERR_TLS_ALERT_${alert.toUpperCase()}`;
  }

  static fromRemote(code: number): TLSError {
    const name = names.get(code);
    if (!name) return new TLSError('illegal_parameter', `peer sent unknown alert ${code}`, 'local');
    return new TLSError(name, `received fatal alert ${name} (${code})`, 'remote');
  }
}

/** Shorthand used by codecs: throw a decode_error. */
export function decodeError(message: string): never {
  throw new TLSError('decode_error', message);
}
