// One KME site: its store, its SAEs, the coordinator side of the reservation protocol (docs/kme.md) and
// the participant side (the PeerHandlers its peer calls), plus the reconciler that finishes what a
// crash interrupted. The ETSI 014 HTTP layer (api014.ts) and the 004 backend (backend004.ts) call in here.
import { randomUUID } from 'node:crypto';
import type { LinkStats } from '../link.js';
import { tombstoneHorizonMs, type KmeLimits } from './limits.js';
import {
  PeerRefusedError,
  PeerUnreachableError,
  type AllocateAnswer,
  type PeerApi,
  type PeerHandlers,
  type ReserveAnswer,
  type ResolveAnswer,
  type StreamAnnouncement,
} from './peer.js';
import { otherSite, type DeliveredBytes, type KeyBinding, type KeyStore, type Site, type StreamRow, type UnitIn } from './store.js';

export interface SiteOptions {
  site: Site;
  kmeId: string;
  peerKmeId: string;
  /** SAEs attached to this KME (may be masters here, slaves of the peer's masters) */
  localSaes: string[];
  /** SAEs attached to the peer KME */
  peerSaes: string[];
  store: KeyStore;
  limits: KmeLimits;
  /** Reconciler period; default 1000 ms. */
  reconcileMs?: number;
  /** A participant waits this long for a pending tx's coordinator before asking it. Default 2000 ms. */
  resolveAfterMs?: number;
  /**
   * The site's clock (ms since the epoch) for lifetimes and ages: 004 streams, 014 keys, reservation
   * timestamps and tombstones. Default Date.now; tests inject their own.
   */
  now?: () => number;
  log?: (line: string) => void;
}

export type EncResult =
  | { status: 'ok'; keys: DeliveredBytes[] }
  | { status: 'empty'; stored: number; needed: number }
  | { status: 'peer-unreachable'; reason: string };

export type DecResult =
  | { status: 'ok'; keys: DeliveredBytes[] }
  | { status: 'not-found' }
  | { status: 'unauthorized' }
  | { status: 'peer-unreachable'; reason: string };

type AllocResult =
  | { status: 'ok'; txid: string; keys: DeliveredBytes[] }
  | { status: 'empty'; stored: number; needed: number }
  /** a 004 chunk: the stream is closed (or gone) at the peer site — its application left */
  | { status: 'peer-closed' }
  | { status: 'peer-unreachable'; reason: string };

export class KmeSite implements PeerHandlers {
  readonly site: Site;
  readonly kmeId: string;
  readonly peerKmeId: string;
  readonly localSaes: ReadonlySet<string>;
  readonly peerSaes: ReadonlySet<string>;
  readonly store: KeyStore;
  readonly limits: KmeLimits;
  peer: PeerApi | undefined;
  /** The site's clock: 004 stream and 014 key lifetimes, reservation ages, tombstones. */
  readonly now: () => number;
  /** The link's figures: from the local filler, or from the peer's unit pushes. */
  linkStats: LinkStats | undefined;
  /** txids this process is driving right now (the reconciler leaves them alone) */
  private readonly inflight = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly log: (line: string) => void;
  private readonly reconcileMs: number;
  private readonly resolveAfterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private lastCompact = 0;
  closed = false;

  constructor(o: SiteOptions) {
    this.site = o.site;
    this.kmeId = o.kmeId;
    this.peerKmeId = o.peerKmeId;
    this.localSaes = new Set(o.localSaes);
    this.peerSaes = new Set(o.peerSaes);
    this.store = o.store;
    this.limits = o.limits;
    this.log = o.log ?? (() => {});
    this.reconcileMs = o.reconcileMs ?? 1000;
    this.resolveAfterMs = o.resolveAfterMs ?? 2000;
    this.now = o.now ?? Date.now;
    // Streams and 014 txs from a file written before their lifetimes get the longest one, counted from now.
    this.store.setMissingExpiry(this.now() + this.limits.maxStreamTtlS * 1000);
    this.store.setMissingKeyExpiry(this.now() + this.limits.maxKeyAgeS * 1000);
  }

  /** Starts the reconciler (first run at once: a restart finishes what the crash interrupted). */
  start(peer: PeerApi): void {
    this.peer = peer;
    const tick = (): void => {
      if (this.closed) return;
      void this.reconcileOnce().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, this.reconcileMs);
      });
    };
    tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reconciling;
    // Let in-flight protocol steps settle; they fail fast once the peer is gone.
    const deadline = Date.now() + 2000;
    while ((this.inflight.size > 0 || this.locks.size > 0) && Date.now() < deadline) await sleep(10);
    this.store.close();
  }

  /** Units of `keySize` bits ready for this site's masters (014 stored_key_count). */
  storedKeyCount(): number {
    return this.store.counts()[this.site].ready;
  }

  // ---- ETSI 014 operations (inputs already validated by api014.ts) -------------------------------

  /** §5.3 enc_keys: `number` keys of `sizeBits` for `master` (here) and `slaves` (at the peer). */
  async encKeys(master: string, slaves: string[], number: number, sizeBits: number): Promise<EncResult> {
    const keys = Array.from({ length: number }, () => ({ keyId: randomUUID(), master, slaves, sizeBits }));
    const r = await this.allocate(keys, master);
    if (r.status === 'ok') return { status: 'ok', keys: r.keys };
    // 'peer-closed' answers 004 chunks only; a 014 reservation never meets it.
    return r.status === 'peer-closed' ? { status: 'peer-unreachable', reason: 'the peer KME refused the reservation' } : r;
  }

  /** §5.4 dec_keys: the keys `master` got, for `caller` (a slave named at enc_keys). */
  async decKeys(caller: string, master: string, keyIds: string[]): Promise<DecResult> {
    for (let attempt = 0; ; attempt++) {
      const r = this.guard(() => this.store.deliver(keyIds, caller, master, this.now()));
      if (r.status !== 'pending') return r;
      if (attempt >= 2) return { status: 'peer-unreachable', reason: 'the peer KME has not settled these keys yet' };
      // Bound here but not yet known confirmed: ask the coordinator (docs/kme.md, "Delivery to slaves").
      for (const txid of r.txids) {
        const t = this.store.tx(txid);
        if (!t || t.coordinator === this.site) return { status: 'not-found' };
        try {
          await this.resolveWithPeer(txid);
        } catch (e) {
          return { status: 'peer-unreachable', reason: errMsg(e) };
        }
      }
    }
  }

  // ---- the coordinator's side of a reservation ----------------------------------------------------

  /**
   * Steps 1–3 of a reservation, coordinated here: (1) reserve own ready units, tx `pending`; (2) the peer
   * reserves the same units; (3) tx `confirmed`, and with `deliverTo` the same transaction hands that SAE
   * its keys. Step 4 (tell the peer "confirmed") runs in the background.
   */
  async allocate(keys: Omit<KeyBinding, 'seqs'>[], deliverTo?: string): Promise<AllocResult> {
    const peer = this.peer;
    if (!peer || this.closed) return { status: 'peer-unreachable', reason: 'KME is shutting down' };
    const txid = randomUUID();
    // Read before step 1: the reservation carries it, and every tombstone of this txid at the peer is
    // written after it (docs/kme.md, "Tombstones").
    const createdMs = this.now();
    this.inflight.add(txid);
    try {
      const bindings = this.store.beginTx(txid, keys, (k) => [k.master], this.keyExpiry(keys, createdMs));
      if (!bindings) {
        const needed = keys.reduce((a, k) => a + Math.ceil(k.sizeBits / this.limits.keySize), 0);
        return { status: 'empty', stored: this.storedKeyCount(), needed };
      }
      let answer: ReserveAnswer;
      try {
        answer = await peer.reserve(txid, bindings, createdMs);
      } catch (e) {
        if (e instanceof PeerRefusedError) this.log(`site ${this.site}: peer refused reservation ${txid}: ${e.message}`);
        await this.abortCoordinated(txid);
        return { status: 'peer-unreachable', reason: `peer KME ${this.peerKmeId}: ${errMsg(e)}` };
      }
      if (answer === 'closed') {
        // Nothing was reserved there; the abort tombstones the txid at the peer, then releases here (if the
        // peer cannot be reached now, the reconciler finishes the abort).
        await this.abortCoordinated(txid);
        return { status: 'peer-closed' };
      }
      if (answer !== 'ok') {
        await this.abortCoordinated(txid);
        return { status: 'peer-unreachable', reason: `peer KME ${this.peerKmeId} refused the reservation` };
      }
      if (this.closed) {
        // Do not decide while shutting down: the reconciler of the next run aborts it.
        return { status: 'peer-unreachable', reason: 'KME is shutting down' };
      }
      const delivered = this.store.confirmTx(txid, deliverTo);
      this.sendConfirm(txid);
      return { status: 'ok', txid, keys: delivered };
    } finally {
      this.inflight.delete(txid);
    }
  }

  /** Abort a tx coordinated here: the peer first (it tombstones the txid), then locally. */
  private async abortCoordinated(txid: string): Promise<boolean> {
    const peer = this.peer;
    if (!peer || this.closed) return false;
    try {
      const r = await peer.abort(txid);
      if (r === 'confirmed') {
        // Cannot happen: the peer only confirms what this site confirmed. Keep the tx and shout.
        this.log(`site ${this.site}: INVARIANT: peer holds ${txid} confirmed while it is pending here`);
        return false;
      }
      if (this.closed) return false;
      this.store.abortTx(txid, this.now());
      return true;
    } catch {
      return false; // stays pending; the reconciler retries
    }
  }

  private sendConfirm(txid: string): void {
    const peer = this.peer;
    if (!peer) return;
    peer.confirm(txid).then(
      () => {
        if (!this.closed) this.store.markPeerDone(txid);
      },
      () => {}, // the reconciler retries
    );
  }

  /** Participant: ask the coordinator how a pending tx ended, and apply the answer. */
  private async resolveWithPeer(txid: string): Promise<ResolveAnswer> {
    const peer = this.peer;
    if (!peer) throw new PeerUnreachableError('no peer');
    const a = await peer.resolve(txid);
    if (this.closed) return a;
    if (a === 'confirmed') this.store.markConfirmed(txid, this.now());
    else if (a === 'aborted') this.store.abortTx(txid, this.now());
    return a;
  }

  // ---- 004 chunks (the coordinator is the stream owner's site) -----------------------------------

  /**
   * Makes sure chunk (ksid, index) is allocated and known here; returns its txid. Runs the reservation
   * here when this site owns the stream, else asks the owner's site to.
   */
  async ensureChunk(ksid: string, index: number): Promise<AllocateAnswer | { status: 'consumed' } | { status: 'peer-unreachable'; reason: string }> {
    this.expireDue();
    const stream = this.store.stream(ksid);
    // A closed stream (CLOSE, or its TTL ran out) gets no new chunk; one already decided is found below
    // only while the stream is open here.
    if (!stream || stream.closed) return { status: 'unknown-stream' };
    const keyId = chunkKeyId(ksid, index);
    return this.withLock(keyId, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const info = this.store.keyInfo(keyId, stream.ownerApp) ?? this.store.keyInfo(keyId, stream.peerApp);
        if (info) {
          if (info.tx.state === 'confirmed') return { status: 'ok' as const, txid: info.tx.txid };
          if (info.tx.coordinator === this.site) {
            // A leftover of a crash (nothing in flight holds the lock): abort it, then allocate afresh.
            if (!(await this.abortCoordinated(info.tx.txid))) return { status: 'peer-unreachable' as const, reason: 'cannot settle an earlier allocation' };
            continue;
          }
          try {
            const a = await this.resolveWithPeer(info.tx.txid);
            if (a === 'confirmed') return { status: 'ok' as const, txid: info.tx.txid };
            if (a === 'pending') await sleep(50);
            continue;
          } catch (e) {
            return { status: 'peer-unreachable' as const, reason: errMsg(e) };
          }
        }
        if (this.store.chunkUsed(ksid, index)) return { status: 'consumed' as const };
        if (stream.ownerSite === this.site) {
          const r = await this.allocate([
            { keyId, master: stream.ownerApp, slaves: [stream.peerApp], sizeBits: stream.chunkBytes * 8, ksid, index },
          ]);
          if (r.status === 'ok') return { status: 'ok' as const, txid: r.txid };
          if (r.status === 'peer-closed') return { status: 'unknown-stream' as const };
          return r.status === 'empty' ? { status: 'empty' as const } : r;
        }
        const peer = this.peer;
        if (!peer) return { status: 'peer-unreachable' as const, reason: 'no peer' };
        let a: AllocateAnswer;
        try {
          a = await peer.allocateChunk(ksid, index);
        } catch (e) {
          return { status: 'peer-unreachable' as const, reason: errMsg(e) };
        }
        if (a.status !== 'ok') return a;
        // The owner reserved here (step 2) before answering; its answer is the confirmation.
        if (this.store.markConfirmed(a.txid, this.now()) === 'unknown') continue;
        return a;
      }
      return { status: 'peer-unreachable' as const, reason: 'allocation did not settle' };
    });
  }

  // ---- PeerHandlers: what the peer site calls ----------------------------------------------------

  onStoreUnits(from: Site, units: UnitIn[], link?: LinkStats): void {
    this.checkPeer(from);
    this.store.storePeerUnits(units);
    if (link) this.linkStats = link;
  }

  onReserve(from: Site, txid: string, bindings: KeyBinding[], createdMs: number): ReserveAnswer {
    this.checkPeer(from);
    // The request's age by the coordinator's stamp, read with this clock. Too old: refused as if
    // tombstoned, whether or not the tombstone is still here — which is what lets pruneTombstones drop
    // tombstones older than the horizon (docs/kme.md, "Tombstones"). From the future beyond the skew
    // allowance: the clocks disagree more than the bound the argument rests on; refused, loudly.
    const now = this.now();
    const skewMs = this.limits.maxClockSkewS * 1000;
    if (!Number.isSafeInteger(createdMs)) throw new PeerRefusedError('reservation without a creation time');
    if (createdMs > now + skewMs) {
      this.log(`site ${this.site}: reservation ${txid} stamped ${createdMs - now} ms ahead of this clock (allowed ${skewMs} ms): refused`);
      throw new PeerRefusedError('reservation stamped in the future: clocks differ more than maxClockSkewS');
    }
    if (now - createdMs > this.limits.maxReservationAgeS * 1000 + skewMs) {
      this.log(`site ${this.site}: reservation ${txid} is ${now - createdMs} ms old: refused`);
      return 'aborted';
    }
    if (bindings.some((b) => b.ksid !== undefined)) this.expireDue();
    for (const b of bindings) {
      if (!this.peerSaes.has(b.master)) throw new PeerRefusedError(`master ${b.master} is not attached to ${this.peerKmeId}`);
      if (b.slaves.length === 0 || !b.slaves.every((s) => this.localSaes.has(s))) throw new PeerRefusedError('slave not attached here');
      if (b.ksid !== undefined) {
        const s = this.store.stream(b.ksid);
        // Closed here (the application left, or the TTL ran out) or already purged: no new chunk for it.
        if (!s || s.closed) return 'closed';
        if (s.ownerSite !== from || s.ownerApp !== b.master || s.peerApp !== b.slaves[0]) throw new PeerRefusedError('unknown key stream');
      }
    }
    return this.store.reserveForPeer(
      txid,
      from,
      bindings,
      (k) => k.slaves.filter((s) => this.localSaes.has(s)),
      this.keyExpiry(bindings, now),
    );
  }

  onAbort(from: Site, txid: string): 'aborted' | 'unknown' | 'confirmed' {
    this.checkPeer(from);
    const t = this.store.tx(txid);
    if (t && t.coordinator !== from) throw new PeerRefusedError('not your tx');
    return this.store.abortTx(txid, this.now());
  }

  onConfirm(from: Site, txid: string): void {
    this.checkPeer(from);
    const t = this.store.tx(txid);
    if (t && t.coordinator !== from) throw new PeerRefusedError('not your tx');
    this.store.markConfirmed(txid, this.now());
  }

  onResolve(from: Site, txid: string): ResolveAnswer {
    this.checkPeer(from);
    const t = this.store.tx(txid);
    if (!t) return 'aborted'; // presumed abort: a coordinator forgets a tx only once the peer settled it
    if (t.coordinator !== this.site) throw new PeerRefusedError('not my tx');
    return t.state === 'confirmed' ? 'confirmed' : 'pending';
  }

  onAnnounceStream(from: Site, a: StreamAnnouncement): 'ok' | 'in-use' {
    this.checkPeer(from);
    if (!this.peerSaes.has(a.ownerApp) || !this.localSaes.has(a.peerApp)) throw new PeerRefusedError('applications not attached');
    this.expireDue();
    const now = this.now();
    // The owner's remaining lifetime, never more than this site's own maximum.
    const maxMs = this.limits.maxStreamTtlS * 1000;
    const expiresMs = now + Math.min(a.ttlMs ?? maxMs, maxMs);
    const have = this.store.stream(a.ksid);
    if (have) {
      const same = have.ownerSite === from && have.ownerApp === a.ownerApp && have.peerApp === a.peerApp && have.chunkBytes === a.chunkBytes;
      if (!same || have.closed) return 'in-use';
      if ((have.gen ?? undefined) === a.gen) return 'ok'; // the same announcement again
      // The KSID reused by a new stream: only over an announcement nobody used (no join, no chunk).
      return this.store.reincarnateStream(a.ksid, { gen: a.gen ?? null, expiresMs, qos: a.qos, createdMs: now }) ? 'ok' : 'in-use';
    }
    this.store.addStream({
      ksid: a.ksid,
      ownerSite: from,
      ownerApp: a.ownerApp,
      peerApp: a.peerApp,
      chunkBytes: a.chunkBytes,
      announced: true,
      localOpen: false,
      qos: a.qos,
      createdMs: now,
      expiresMs,
      gen: a.gen ?? null,
    });
    return 'ok';
  }

  async onAllocateChunk(from: Site, ksid: string, index: number): Promise<AllocateAnswer> {
    this.checkPeer(from);
    this.expireDue();
    const s = this.store.stream(ksid);
    if (!s || s.ownerSite !== this.site || s.closed) return { status: 'unknown-stream' };
    const r = await this.ensureChunk(ksid, index);
    if (r.status === 'ok' || r.status === 'empty' || r.status === 'unknown-stream') return r;
    if (r.status === 'consumed') throw new PeerRefusedError('chunk index already consumed');
    throw new PeerUnreachableError(r.reason);
  }

  private checkPeer(from: Site): void {
    if (from !== otherSite(this.site)) throw new PeerRefusedError('caller is not the peer site');
    if (this.closed) throw new PeerUnreachableError('site is shutting down');
  }

  // ---- 004 stream lifetimes (docs/kme.md "Key stream lifetime and cleanup") -------------------------

  /** Is this stream open here now (not closed, lifetime not over)? Does not close it; expireDue does. */
  streamLive(s: { closed: boolean; expiresMs: number | null }): boolean {
    return !s.closed && (s.expiresMs === null || s.expiresMs > this.now());
  }

  /**
   * Closes every stream whose TTL ran out at this site's clock, exactly as CLOSE does (undelivered chunks
   * forfeited and erased here, rows purged once nothing is left). Called lazily by every 004 operation and
   * peer call that touches streams, and by the sweep.
   */
  expireDue(): void {
    if (this.closed) return;
    for (;;) {
      const due = this.store.dueStreams(this.now());
      for (const ksid of due) this.closeStream(ksid, 'expired');
      if (due.length < 256) return;
    }
  }

  /** CLOSE by the local application, or expiry: the stream is closed here for good. */
  closeStream(ksid: string, why: 'close' | 'expired'): void {
    const r = this.store.closeStream(ksid);
    if (r && why === 'expired') this.log(`site ${this.site}: key stream ${ksid} expired (${r.forfeited} chunk(s) forfeited)`);
  }

  /** The periodic part: expire due streams, and purge closed ones whose last tx has finished meanwhile. */
  sweepStreams(): void {
    if (this.closed) return;
    this.store.setMissingExpiry(this.now() + this.limits.maxStreamTtlS * 1000);
    this.expireDue();
    for (const ksid of this.store.closedStreams()) this.store.settleClosedStream(ksid);
  }

  // ---- 014 key lifetime and tombstones (docs/kme.md "Key lifetime (014)", "Tombstones") ------------

  /** A 014 allocation's expiry at this site, from `fromMs` (this clock); 004 chunks live with their stream. */
  private keyExpiry(keys: { ksid?: string }[], fromMs: number): number | null {
    return keys.some((k) => k.ksid !== undefined) ? null : fromMs + this.limits.maxKeyAgeS * 1000;
  }

  /**
   * Forfeits the 014 keys whose lifetime at this site is over and that some SAE attached here never
   * fetched (bytes erased, rows dropped as after a delivery). Independent of the other site: each erases
   * its own copies by its own clock; deliver() refuses an expired key even before this runs.
   */
  sweepKeys(): number {
    if (this.closed) return 0;
    let copies = 0;
    for (;;) {
      const r = this.store.expireKeys(this.now());
      copies += r.copies;
      if (r.txs < 256) break;
    }
    if (copies > 0) this.log(`site ${this.site}: ${copies} undelivered 014 key cop${copies === 1 ? 'y' : 'ies'} expired and erased`);
    return copies;
  }

  /** Tombstones older than the horizon: no reservation for their txids can be accepted any more (onReserve). */
  pruneTombstones(): number {
    if (this.closed) return 0;
    return this.store.pruneTombstones(this.now() - tombstoneHorizonMs(this.limits));
  }

  /** Everything the reconciler's local sweep does: 004 streams, 014 key lifetimes, tombstones. */
  sweep(): void {
    this.sweepStreams();
    this.sweepKeys();
    this.pruneTombstones();
  }

  // ---- the reconciler (docs/kme.md "Recovery") ---------------------------------------------------

  /** One pass; passes never overlap. */
  reconcileOnce(): Promise<void> {
    if (!this.reconciling) {
      this.reconciling = this.reconcile()
        .catch((e: unknown) => this.log(`site ${this.site}: reconcile: ${errMsg(e)}`))
        .finally(() => {
          this.reconciling = undefined;
        });
    }
    return this.reconciling;
  }

  private async reconcile(): Promise<void> {
    const peer = this.peer;
    if (!peer || this.closed) return;
    const me = this.site;
    // 0. Local sweep: 004 streams (close the expired ones, purge closed ones that are done), 014 keys past
    // their lifetime, tombstones past the horizon.
    this.sweep();
    // 1. Pending txs coordinated here and driven by nobody: abort (the SAE never got an answer).
    for (const t of this.store.txsWhere(me, 'pending')) {
      if (this.closed) return;
      if (this.inflight.has(t.txid)) continue;
      this.inflight.add(t.txid);
      try {
        if (!(await this.abortCoordinated(t.txid))) return; // peer unreachable: try next pass
      } finally {
        this.inflight.delete(t.txid);
      }
    }
    // 2. Confirmed here, not yet acknowledged by the peer: confirm again.
    for (const t of this.store.txsWhere(me, 'confirmed', false)) {
      if (this.closed) return;
      if (this.inflight.has(t.txid)) continue;
      try {
        await peer.confirm(t.txid);
        if (!this.closed) this.store.markPeerDone(t.txid);
      } catch {
        return;
      }
    }
    // 3. Pending here as participant for a while: ask the coordinator.
    for (const t of this.store.txsWhere(otherSite(me), 'pending')) {
      if (this.closed) return;
      if (Date.now() - t.createdMs < this.resolveAfterMs) continue;
      try {
        await this.resolveWithPeer(t.txid);
      } catch {
        return;
      }
    }
    // 4. 004 streams created here but not yet announced (closed and expired ones are left to the sweep).
    for (const s of this.store.unannouncedStreams()) {
      if (this.closed) return;
      if (!this.streamLive(s)) continue;
      try {
        const r = await peer.announceStream(announcementOf(s, this.now()));
        if (this.closed) return;
        if (r === 'ok') this.store.setStreamFlags(s.ksid, { announced: true });
        else this.closeStream(s.ksid, 'close'); // the peer holds that KSID for another stream
      } catch {
        return;
      }
    }
    if (Date.now() - this.lastCompact > 30_000 && !this.closed) {
      this.lastCompact = Date.now();
      this.store.compact();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** Serializes work on one key ID (004 chunk) within this process. */
  async withLock<T>(key: string, f: () => Promise<T>): Promise<T> {
    for (;;) {
      const held = this.locks.get(key);
      if (!held) break;
      await held.catch(() => {});
    }
    const p = f();
    this.locks.set(key, p);
    try {
      return await p;
    } finally {
      if (this.locks.get(key) === p) this.locks.delete(key);
    }
  }

  private guard<T>(f: () => T): T {
    if (this.closed) throw new PeerUnreachableError('KME is shutting down');
    return f();
  }
}

/** What the owner's site tells its peer about a stream: its remaining lifetime, not a timestamp. */
export function announcementOf(s: StreamRow, nowMs: number): StreamAnnouncement {
  const a: StreamAnnouncement = { ksid: s.ksid, ownerApp: s.ownerApp, peerApp: s.peerApp, chunkBytes: s.chunkBytes, qos: s.qos };
  if (s.expiresMs !== null) a.ttlMs = Math.max(0, s.expiresMs - nowMs);
  if (s.gen !== null) a.gen = s.gen;
  return a;
}

/** The key ID of a 004 chunk, as the 004 KeyDelivery encodes it: `<KSID>/<index>`. */
export function chunkKeyId(ksid: string, index: number): string {
  return `${ksid}/${index}`;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
