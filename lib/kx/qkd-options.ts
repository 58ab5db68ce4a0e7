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
/**
 * Default maxPendingKeyRequests. A healthy KME answers enc_keys in milliseconds, so an honest server
 * rarely has more than a handful of fetches in flight; 32 absorbs bursts of real clients while a
 * flooding client that holds requests open (a slow or hanging KME, up to timeoutMs each) can pin at most
 * 32 keys' worth of requests, not the whole pool.
 */
export const DEFAULT_MAX_PENDING_KEY_REQUESTS = 32;

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

// ---------- the server's key budget ----------

interface KeyBudgetState {
  pending: number;
  /** Token bucket (only with keyRequestRate). */
  tokens: number;
  refilledAt: number;
}

/**
 * Budget state per `qkd` object, the object every connection of a server shares: serverConfigTemplate
 * (lib/net/options.ts) keeps the server's options, and with them this object, for the server's life
 * (setSecureContext() rebuilds the options but keeps the same `qkd`), and qkdPskServerOptions() closes
 * over it. Keying on `qkd` rather than on the options object also makes servers that share one `qkd`
 * (one SAE, one KME pool) share one budget, which is the resource being protected.
 */
const budgets = new WeakMap<QkdOptions, KeyBudgetState>();

/** The clock the rate limit reads (tests may replace it through setKeyBudgetClock). */
let clock: () => number = () => performance.now();
/** For tests: the clock of the rate limiter, in ms; no argument restores the real one. */
export function setKeyBudgetClock(now?: () => number): void {
  clock = now ?? (() => performance.now());
}

function budgetConfig(q: QkdOptions): { max: number; rate?: { perSecond: number; burst: number } } {
  const max = q.maxPendingKeyRequests ?? DEFAULT_MAX_PENDING_KEY_REQUESTS;
  if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
    throw new TLSError('internal_error', `qkd.maxPendingKeyRequests must be a positive integer or Infinity, got ${String(max)}`);
  }
  const rate = q.keyRequestRate;
  if (rate === undefined) return { max };
  if (!(typeof rate === 'object' && rate !== null && Number.isFinite(rate.perSecond) && rate.perSecond > 0 && Number.isInteger(rate.burst) && rate.burst >= 1)) {
    throw new TLSError('internal_error', 'qkd.keyRequestRate must be { perSecond > 0, burst: a positive integer }');
  }
  return { max, rate };
}

/**
 * Take a slot (and, with keyRequestRate, a token) for one server-side KME key request, or throw a
 * handshake_failure without touching the KME. Returns the release function (idempotent). A refused
 * request takes nothing: neither a slot nor a token.
 */
export function acquireKeyRequest(q: QkdOptions): () => void {
  const { max, rate } = budgetConfig(q);
  let b = budgets.get(q);
  if (!b) {
    b = { pending: 0, tokens: rate?.burst ?? 0, refilledAt: clock() };
    budgets.set(q, b);
  }
  if (b.pending >= max) {
    throw new TLSError('handshake_failure', `QKD key budget exhausted: ${b.pending} requests in flight (maxPendingKeyRequests ${max})`);
  }
  if (rate) {
    const now = clock();
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.refilledAt) / 1000) * rate.perSecond);
    b.refilledAt = now;
    if (b.tokens < 1) {
      throw new TLSError('handshake_failure', `QKD key budget exhausted: rate limit of ${rate.perSecond} requests/s (burst ${rate.burst}) reached (keyRequestRate)`);
    }
    b.tokens -= 1;
  }
  b.pending++;
  const state = b;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    state.pending--;
  };
}

/** For tests and monitoring: KME key requests in flight under this `qkd` object. */
export function pendingKeyRequests(q: QkdOptions): number {
  return budgets.get(q)?.pending ?? 0;
}

/**
 * kmeCall for a KME request a client can make the server issue (the server's key fetch, the PSK
 * server's dec_keys): under the key budget. The slot is released when the call settles, or as soon as
 * the handshake is aborted or timeoutMs passes, even if the delivery ignores its signal.
 */
export async function serverKmeCall<T>(q: QkdOptions, signal: AbortSignal, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const release = acquireKeyRequest(q);
  try {
    return await kmeCall(q, signal, what, (s) => {
      if (s.aborted) release();
      else s.addEventListener('abort', release, { once: true });
      return call(s);
    });
  } finally {
    release();
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
