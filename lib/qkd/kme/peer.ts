// What one KME site asks of the other (docs/kme.md): store filled units, reserve / abort / confirm /
// resolve allocations, announce 004 key streams and allocate 004 chunks. Two carriers implement it: a
// direct call (both sites in one process) and HTTPS with mutual TLS (peer-https.ts).
import type { LinkStats } from '../link.js';
import type { KeyBinding, Site, UnitIn } from './store.js';

export interface StreamAnnouncement {
  ksid: string;
  ownerApp: string;
  peerApp: string;
  chunkBytes: number;
  qos: string;
  /**
   * The stream's remaining lifetime when sent, ms: the peer site closes it that long after receiving it
   * (a duration, not a timestamp, so the sites' clocks need not agree). Absent: the peer's maximum.
   */
  ttlMs?: number;
  /** The stream's incarnation (random per creation): the same one again is a re-announcement, another is a reused KSID. */
  gen?: string;
}

/**
 * A participant's answer to a reservation: 'closed' = a 004 chunk of a stream that is closed (or no
 * longer known) at this site — its application left, so nothing was reserved; the coordinator aborts.
 */
export type ReserveAnswer = 'ok' | 'aborted' | 'closed';

// A reservation (step 2) carries `createdMs`: the coordinator's clock (ms since the epoch) when it began
// the tx (step 1). The participant refuses one older than limits.maxReservationAgeS + maxClockSkewS by
// its own clock ('aborted'), or stamped more than maxClockSkewS ahead of it (refused): so a delayed copy
// of a reservation can only be accepted within a bounded time after the tx began, and a tombstone only
// has to outlive that (docs/kme.md, "Tombstones").

export type ResolveAnswer = 'pending' | 'confirmed' | 'aborted';
export type AllocateAnswer = { status: 'ok'; txid: string } | { status: 'empty' } | { status: 'unknown-stream' };

export interface PeerApi {
  storeUnits(units: UnitIn[], link?: LinkStats): Promise<void>;
  reserve(txid: string, bindings: KeyBinding[], createdMs: number): Promise<ReserveAnswer>;
  abort(txid: string): Promise<'aborted' | 'unknown' | 'confirmed'>;
  confirm(txid: string): Promise<void>;
  resolve(txid: string): Promise<ResolveAnswer>;
  announceStream(a: StreamAnnouncement): Promise<'ok' | 'in-use'>;
  allocateChunk(ksid: string, index: number): Promise<AllocateAnswer>;
}

/** The receiving side of PeerApi: what a site does when its peer calls. `from` is the calling site. */
export interface PeerHandlers {
  onStoreUnits(from: Site, units: UnitIn[], link?: LinkStats): void;
  onReserve(from: Site, txid: string, bindings: KeyBinding[], createdMs: number): ReserveAnswer;
  onAbort(from: Site, txid: string): 'aborted' | 'unknown' | 'confirmed';
  onConfirm(from: Site, txid: string): void;
  onResolve(from: Site, txid: string): ResolveAnswer;
  onAnnounceStream(from: Site, a: StreamAnnouncement): 'ok' | 'in-use';
  onAllocateChunk(from: Site, ksid: string, index: number): Promise<AllocateAnswer>;
}

/** The peer could not be reached (or did not answer); the caller leaves its tx pending. */
export class PeerUnreachableError extends Error {
  override readonly name = 'PeerUnreachableError';
}

/** The peer answered but refused (e.g. a unit conflict); the caller aborts its tx. */
export class PeerRefusedError extends Error {
  override readonly name = 'PeerRefusedError';
}

/**
 * Both sites in one process: a direct call, made asynchronous so the caller's transaction has committed
 * and the event loop turns (as it would over the network). Handler exceptions become PeerRefusedError.
 */
export function inProcessPeer(from: Site, target: () => PeerHandlers | undefined, delayMs = 0): PeerApi {
  const call = async <T>(f: (h: PeerHandlers) => T | Promise<T>): Promise<T> => {
    // delayMs (tests): a network-like gap, widening the windows between protocol steps for crash tests.
    await new Promise<void>((r) => (delayMs > 0 ? setTimeout(r, delayMs) : setImmediate(r)));
    const h = target();
    if (!h) throw new PeerUnreachableError('peer site is not running');
    try {
      return await f(h);
    } catch (e) {
      if (e instanceof PeerUnreachableError) throw e;
      throw new PeerRefusedError(e instanceof Error ? e.message : String(e));
    }
  };
  return {
    storeUnits: (u, l) => call((h) => h.onStoreUnits(from, u, l)),
    reserve: (t, b, c) => call((h) => h.onReserve(from, t, b, c)),
    abort: (t) => call((h) => h.onAbort(from, t)),
    confirm: (t) => call((h) => h.onConfirm(from, t)),
    resolve: (t) => call((h) => h.onResolve(from, t)),
    announceStream: (a) => call((h) => h.onAnnounceStream(from, a)),
    allocateChunk: (k, i) => call((h) => h.onAllocateChunk(from, k, i)),
  };
}
