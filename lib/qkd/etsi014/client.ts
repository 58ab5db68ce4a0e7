// ETSI GS QKD 014 V1.1.1 §5 client: Get status (§5.2), Get key (§5.3), Get key with key IDs (§5.4),
// over HTTPS with mutual TLS (§4.3) through the injected TLS seam. Every answer is validated; every
// failure is a KeyDeliveryError carrying the KME's own message.
import { KeyDeliveryError, type KeyDeliveryErrorKind } from '../key-delivery.js';
import { HttpsClient, type HttpsResponse } from './http1.js';
import { defaultTlsConnect, type Pem, type TlsConnect, type TlsSocketLike } from './tls-seam.js';
import {
  Etsi014FormatError,
  parseErrorBody,
  parseKeyContainer,
  parseStatus,
  type DecodedKey,
  type KeyRequest,
  type Status,
} from './types.js';

export interface Etsi014ClientOptions {
  /** The KME's base URL, `https://host:port` (the API lives under /api/v1/keys). */
  url: string;
  /** This SAE's certificate, its key, and the CA that issued the KME's certificate (PEM). */
  cert: Pem;
  key: Pem;
  ca: Pem;
  /** TLS seam; default node:tls (see tls-seam.ts). */
  tlsConnect?: TlsConnect;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Keep-alive for idle connections; 0 = one connection per request. Default 2000 ms. */
  idleMs?: number;
  /** Largest accepted answer; default 1 MiB. */
  maxBodyBytes?: number;
  /** Extra check of the KME's certificate after the TLS handshake (throw to refuse). */
  verifyServer?: (socket: TlsSocketLike) => void;
}

export interface KeysResult {
  keys: DecodedKey[];
  extension?: unknown;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Message of §5.4 / Annex B used for unknown or already delivered keys. */
export const KEYS_NOT_FOUND = 'one or more keys specified are not found on KME';

export class Etsi014Client {
  private readonly http: HttpsClient;

  constructor(opts: Etsi014ClientOptions) {
    this.http = new HttpsClient(
      {
        url: opts.url,
        cert: opts.cert,
        key: opts.key,
        ca: opts.ca,
        tlsConnect: opts.tlsConnect ?? defaultTlsConnect,
        ...(opts.verifyServer ? { verifyServer: opts.verifyServer } : {}),
      },
      {
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        ...(opts.idleMs === undefined ? {} : { idleMs: opts.idleMs }),
        ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
      },
    );
  }

  get kme(): string {
    return this.http.kme;
  }

  /** §5.2 Get status: `GET /api/v1/keys/{slave_SAE_ID}/status`. */
  async status(slaveSaeId: string, opts: CallOptions = {}): Promise<Status> {
    const res = await this.http.request({ method: 'GET', path: keysPath(slaveSaeId, 'status'), ...sig(opts) });
    return this.decode(res, parseStatus);
  }

  /**
   * §5.3 Get key: `POST .../{slave_SAE_ID}/enc_keys` with a §6.2 key request, or GET with `number` and
   * `size` only. The container must hold exactly `number` keys (default 1) of `size` bits when given.
   */
  async getKey(
    slaveSaeId: string,
    request: KeyRequest = {},
    opts: CallOptions & { method?: 'POST' | 'GET' } = {},
  ): Promise<KeysResult> {
    const method = opts.method ?? 'POST';
    let path = keysPath(slaveSaeId, 'enc_keys');
    if (method === 'GET') {
      const extra = Object.keys(request).filter((k) => k !== 'number' && k !== 'size');
      if (extra.length > 0) throw new TypeError(`GET enc_keys carries only number and size, not ${extra.join(', ')}`);
      const q = new URLSearchParams();
      if (request.number !== undefined) q.set('number', String(request.number));
      if (request.size !== undefined) q.set('size', String(request.size));
      const qs = q.toString();
      if (qs) path += `?${qs}`;
    }
    const res = await this.http.request({ method, path, ...(method === 'POST' ? { body: request } : {}), ...sig(opts) });
    return this.decode(res, (v) =>
      parseKeyContainer(v, { number: request.number ?? 1, ...(request.size === undefined ? {} : { sizeBits: request.size }) }),
    );
  }

  /**
   * §5.4 Get key with key IDs: `POST .../{master_SAE_ID}/dec_keys` with §6.4 key IDs, or GET with a
   * single `key_ID`. The container must hold exactly the keys asked for, in order.
   */
  async getKeyWithKeyIds(
    masterSaeId: string,
    keyIds: string[],
    opts: CallOptions & { method?: 'POST' | 'GET'; sizeBits?: number } = {},
  ): Promise<KeysResult> {
    if (keyIds.length === 0) throw new TypeError('at least one key ID is needed');
    const method = opts.method ?? 'POST';
    let path = keysPath(masterSaeId, 'dec_keys');
    if (method === 'GET') {
      if (keyIds.length !== 1) throw new TypeError('GET dec_keys carries exactly one key_ID');
      path += `?${new URLSearchParams({ key_ID: keyIds[0]! }).toString()}`;
    }
    const body = { key_IDs: keyIds.map((id) => ({ key_ID: id })) };
    const res = await this.http.request({ method, path, ...(method === 'POST' ? { body } : {}), ...sig(opts) });
    return this.decode(res, (v) =>
      parseKeyContainer(v, { keyIds, ...(opts.sizeBits === undefined ? {} : { sizeBits: opts.sizeBits }) }),
    );
  }

  close(): void {
    this.http.close();
  }

  private decode<T>(res: HttpsResponse, parse: (v: unknown) => T): T {
    const kme = this.kme;
    if (res.status === 200) {
      const ct = res.headers.get('content-type');
      if (ct !== undefined && !/^application\/json\b/i.test(ct)) {
        throw new KeyDeliveryError('bad-response', { kme, status: 200, reason: `unexpected content type ${ct}` });
      }
      const json = parseJson(res.body);
      if (json === undefined) throw new KeyDeliveryError('bad-response', { kme, status: 200, reason: 'answer is not JSON' });
      try {
        return parse(json);
      } catch (e) {
        if (e instanceof Etsi014FormatError) throw new KeyDeliveryError('bad-response', { kme, status: 200, reason: e.message, cause: e });
        throw e;
      }
    }
    throw errorFromResponse(kme, res);
  }
}

/** Maps a non-200 answer to a KeyDeliveryError (§5.2–§5.4 response codes, §6.5 error format). */
export function errorFromResponse(kme: string, res: HttpsResponse): KeyDeliveryError {
  const body = parseErrorBody(parseJson(res.body));
  const reason = body?.message ?? (res.status === 401 ? 'unauthorized' : `HTTP ${res.status}`);
  const details = body?.details;
  let kind: KeyDeliveryErrorKind;
  switch (res.status) {
    case 400:
      kind = reason === KEYS_NOT_FOUND ? 'not-found' : 'refused';
      break;
    case 401:
      kind = 'unauthorized';
      break;
    case 503:
      // qtls KMEs tell "my peer KME is unreachable" from "my pool is empty" in details.
      kind = details?.some((d) => d['kme_error'] === 'peer_unreachable') ? 'unreachable' : 'empty';
      break;
    default:
      kind = 'bad-response';
  }
  return new KeyDeliveryError(kind, { kme, status: res.status, reason, ...(details ? { details } : {}) });
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function keysPath(saeId: string, op: 'status' | 'enc_keys' | 'dec_keys'): string {
  if (saeId.length === 0) throw new TypeError('SAE ID must not be empty');
  return `/api/v1/keys/${encodeURIComponent(saeId)}/${op}`;
}

function sig(o: CallOptions): { signal?: AbortSignal } {
  return o.signal ? { signal: o.signal } : {};
}
