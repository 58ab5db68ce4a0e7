// The server's QKD key budget (docs/qkd-in-tls.md "Key budget"): every server-side KME key request a
// client can cause (the key fetch of the QKD and hybrid exchanges, the PSK modes' enc_keys / dec_keys)
// takes a slot under qkd.maxPendingKeyRequests and, with qkd.keyRequestRate, a token from a bucket;
// over budget the handshake fails before the KME is asked, so a ClientHello flood cannot drain the pool.
import { TLSError } from '../alert.js';
import { kmeCall, type QkdOptions } from './qkd-options.js';

/**
 * Default maxPendingKeyRequests. A healthy KME answers enc_keys in milliseconds, so an honest server
 * rarely has more than a handful of fetches in flight; 32 absorbs bursts of real clients while a
 * flooding client that holds requests open (a slow or hanging KME, up to timeoutMs each) can pin at most
 * 32 keys' worth of requests, not the whole pool.
 */
export const DEFAULT_MAX_PENDING_KEY_REQUESTS = 32;

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
