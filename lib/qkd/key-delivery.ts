// The seam between the QKD key exchange (lib/kx) and a key-delivery API (ETSI GS QKD 014 or 004).
// The TLS core imports only this file: no HTTP, no sockets, no node:tls.

/** One key handed out by a KME. `key` is secret: never log it. */
export interface DeliveredKey {
  /** Opaque key identifier the master sends to the slave: a UUID (014) or `<KSID>/<index>` (004). */
  keyId: string;
  key: Uint8Array;
  /** The delivering KME's ID when the API tells it (014 status `source_KME_ID`, 004 metadata). */
  kmeId?: string;
}

export interface KeyRequestOptions {
  /** Key length in bits; a multiple of 8 (ETSI GS QKD 014 §6.2 `size`; 004 QoS Key_chunk_size × 8). */
  sizeBits: number;
  /** Aborting rejects the pending call with `signal.reason` and tears down its connection. */
  signal?: AbortSignal;
}

/**
 * What the QKD key exchange needs from a key-delivery API, the same for 014 and 004.
 *
 * 014: getKey = `enc_keys` (number 1, size = sizeBits); getKeyById = `dec_keys` with one key_ID.
 * 004: getKey = OPEN_CONNECT (NULL KSID, answered at once with status 1 "peer not yet connected") then
 *      GET_KEY at the next index of that stream; getKeyById = OPEN_CONNECT with the master's KSID (once per
 *      stream) then GET_KEY at the index named in the key ID.
 */
export interface KeyDelivery {
  readonly api: '014' | '004';
  /** The KME this delivery talks to (`https://host:port`, `tls://host:port`): error messages name it. */
  readonly kme?: string;
  /** Master SAE: a new key shared with `slaveSaeId`. */
  getKey(slaveSaeId: string, opts: KeyRequestOptions): Promise<DeliveredKey>;
  /** Slave SAE: the key `masterSaeId` got, by its ID. Each key is handed out once per SAE. */
  getKeyById(masterSaeId: string, keyId: string, opts: KeyRequestOptions): Promise<DeliveredKey>;
  /** Closes connections (and 004 key streams). Pending calls fail. */
  close(): Promise<void>;
}

export type KeyDeliveryErrorKind =
  | 'unreachable' // no connection to the KME (or the KME cannot reach its peer KME)
  | 'timeout' // no answer in time (004 status 6)
  | 'empty' // not enough key material (014 503, 004 status 2)
  | 'not-found' // the key ID is unknown or already delivered (014 400 "...not found on KME")
  | 'unauthorized' // TLS client authentication refused, or 014 401
  | 'bad-response' // the KME's answer does not follow the specification
  | 'refused'; // the KME refused the request (014 400, 004 status 5/7/8)

export interface KeyDeliveryErrorInit {
  kme: string;
  status?: number;
  reason?: string;
  details?: unknown;
  cause?: unknown;
}

/** Every failure of a KeyDelivery (and of the 014/004 clients) is one of these. Carries no key bytes. */
export class KeyDeliveryError extends Error {
  /** The KME's URL (`https://host:port` or `tls://host:port`). */
  readonly kme: string;
  /** HTTP status (014) or 004 status code; undefined when no answer came. */
  readonly status: number | undefined;
  /** The KME's own message (014 `message`), or a description of what went wrong. */
  readonly reason: string;
  readonly kind: KeyDeliveryErrorKind;
  /** 014 `details` array when the KME sent one. */
  readonly details: unknown;

  constructor(kind: KeyDeliveryErrorKind, init: KeyDeliveryErrorInit) {
    const reason = init.reason ?? kind;
    const st = init.status === undefined ? '' : ` ${init.status}`;
    super(`KME ${init.kme}: ${kind}${st}: ${reason}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KeyDeliveryError';
    this.kind = kind;
    this.kme = init.kme;
    this.status = init.status;
    this.reason = reason;
    this.details = init.details;
  }
}
