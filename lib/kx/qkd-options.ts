// The `qkd` option shared by the QKD exchanges: who we are (SAE ID), how we reach our KME (a
// KeyDelivery: ETSI 014 or 004 client, see lib/qkd/), and the policy for keys.
import { TLSError } from '../alert.js';
import type { KeyDelivery } from '../qkd/key-delivery.js';
import { KeyDeliveryError } from '../qkd/key-delivery.js';

export interface QkdOptions {
  /** Our SAE ID (ETSI: the secure application entity the KME knows us as). */
  saeId: string;
  /** The client of our KME. */
  delivery: KeyDelivery;
  /** QKD key length in bits (default 256). */
  keySizeBits?: number;
  /** How long a KME call may take before the handshake fails (default 10 s). */
  timeoutMs?: number;
  /**
   * Let QKD sessions be resumed (default false: every connection is keyed by a fresh QKD key, so a
   * server neither caches nor issues tickets for QKD and hybrid sessions).
   */
  allowResumption?: boolean;
  /** PSK-compatible modes: the peer's SAE ID (the master SAE whose key IDs a server accepts). */
  peerSaeId?: string;
  /**
   * Server side: how many KME key requests (enc_keys / GET_KEY, and dec_keys in PSK mode `psk`) may be in
   * flight at once for everything using this `qkd` object (default 32; `Infinity` disables). A
   * ClientHello beyond it fails with handshake_failure before any KME call. See "Key budget" in
   * docs/qkd-in-tls.md.
   */
  maxPendingKeyRequests?: number;
  /**
   * Server side: a token bucket on KME key requests — `burst` requests at once, refilled at `perSecond`
   * (fractions allowed). Default: none. The rate a server can sustain is the QKD link's secret key
   * rate divided by the key size (a few kbit/s over 256-bit keys is ~10 keys/s, a metro link can do
   * 1000× more), which qtls cannot know: a built-in number would either refuse honest clients on a fast
   * link or protect nothing on a slow one, so it is left to the deployment; maxPendingKeyRequests still
   * bounds a flood by default.
   */
  keyRequestRate?: { perSecond: number; burst: number };
}

export const DEFAULT_QKD_KEY_BITS = 256;
export const DEFAULT_QKD_TIMEOUT_MS = 10_000;

/** ClientHello qkd_sae extension: delivery interfaces, as numbered on the wire. */
export const QkdApi = { etsi014: 1, etsi004: 2 } as const;

export function qkdOptions(options: Readonly<Record<string, unknown>>): QkdOptions | undefined {
  const q = options.qkd as QkdOptions | undefined;
  return q && typeof q === 'object' && typeof q.saeId === 'string' && q.delivery ? q : undefined;
}

/** Whether sessions of this suite may be cached or resumed under the connection's options. */
export function suiteResumable(kx: string, options: Readonly<Record<string, unknown>>): boolean {
  if (kx !== 'QKD' && kx !== 'ECDHE_QKD') return true;
  return qkdOptions(options)?.allowResumption === true;
}

export function requireQkd(options: Readonly<Record<string, unknown>>): QkdOptions {
  const q = qkdOptions(options);
  if (!q) throw new TLSError('internal_error', 'a QKD suite was negotiated but no qkd option (saeId, delivery) is configured');
  return q;
}

export function apiCode(d: KeyDelivery): number {
  return d.api === '004' ? QkdApi.etsi004 : QkdApi.etsi014;
}

/**
 * Run a KME call with the handshake's abort signal and the configured timeout. Any failure becomes a
 * handshake_failure naming the KME and its reason (the peer sees only the alert).
 */
export async function kmeCall<T>(q: QkdOptions, signal: AbortSignal, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(q.timeoutMs ?? DEFAULT_QKD_TIMEOUT_MS);
  const both = AbortSignal.any([signal, timeout]);
  try {
    return await call(both);
  } catch (e) {
    if (timeout.aborted && !signal.aborted) throw new TLSError('handshake_failure', `QKD ${what}: KME ${kmeName(q)} did not answer within ${q.timeoutMs ?? DEFAULT_QKD_TIMEOUT_MS} ms`, 'local', { cause: e });
    if (e instanceof KeyDeliveryError) throw new TLSError('handshake_failure', `QKD ${what} failed: ${e.message}`, 'local', { cause: e });
    if (e instanceof TLSError) throw e;
    throw new TLSError('handshake_failure', `QKD ${what} failed: ${(e as Error).message}`, 'local', { cause: e });
  }
}

/** How errors and getKeyExchangeInfo() name our KME: its ID when the API tells it, and its URL. */
export function kmeName(q: QkdOptions, kmeId?: string): string {
  const url = q.delivery.kme;
  if (url && kmeId) return `${kmeId} (${url})`;
  return url ?? kmeId ?? '(unnamed)';
}

/** A delivered key must be exactly the size asked for (a short key would silently weaken the session). */
export function checkKeySize(key: Uint8Array, bits: number, kme: string): void {
  if (key.length * 8 !== bits) throw new TLSError('handshake_failure', `QKD key from KME ${kme} has ${key.length * 8} bits, expected ${bits}`);
}
