// One KME site's key store: SQLite (better-sqlite3) in WAL mode. Every method is ONE transaction, so a
// kill -9 leaves the file either before or after it. The cross-site protocol built on these steps is in
// docs/kme.md ("Reservations"); the comments here say which step each method is.
//
// Tables:
//   units       key material in fixed-size units, numbered by the shared sequence the filler assigns
//               (identical seq -> identical bytes at both sites). state: pending (filler only: not yet
//               known stored at the peer) | ready | reserved (by txid) | spent (bytes erased).
//   txs         one allocation (a 014 enc_keys request, or one 004 chunk), coordinated by the site whose
//               units it uses. state: pending | confirmed. peer_done: the peer acknowledged the outcome.
//               expires_ms (014 only; this site's clock): when this site forfeits the copies its SAEs have
//               not fetched (expireKeys). created_ms is the real clock (the reconciler's "pending a while").
//   keys        the keys of a tx: key_ID, master, slaves, size, the unit seqs they are cut from.
//   deliveries  (key_ID, SAE attached to THIS site) -> delivered yet?
//   tombstones  txids aborted here (at_ms: this site's clock), so a late reservation for them is refused.
//               Pruned after the horizon beyond which the participant refuses a reservation by its age
//               anyway (pruneTombstones; docs/kme.md "Tombstones").
//   streams     004 key streams known here, open or closed (CLOSE, or their TTL ran out). A closed stream
//               is never reopened; its rows go (purgeStreamIfDone) once nothing of it is left here.
//   chunks      004 (KSID, index) pairs allocated here while the stream lives: an index is never given
//               new bytes. Purged with the stream.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Site = 'A' | 'B';

export const otherSite = (s: Site): Site => (s === 'A' ? 'B' : 'A');

export interface UnitIn {
  seq: number;
  owner: Site;
  bytes: Uint8Array;
}

/** The part of a key both sites agree on (sent in the reservation). No key bytes. */
export interface KeyBinding {
  keyId: string;
  master: string;
  slaves: string[];
  sizeBits: number;
  seqs: number[];
  ksid?: string;
  index?: number;
}

export interface TxRow {
  txid: string;
  coordinator: Site;
  state: 'pending' | 'confirmed';
  peerDone: boolean;
  createdMs: number;
}

export interface StreamRow {
  ksid: string;
  ownerSite: Site;
  ownerApp: string;
  peerApp: string;
  chunkBytes: number;
  /** announced to the peer site (owner side) */
  announced: boolean;
  /** the local application (owner app here if ownerSite is this site, else peer app) has it open */
  localOpen: boolean;
  qos: string;
  createdMs: number;
  /** when this site closes the stream (this site's clock, ms); null: not set yet (the site sets its default) */
  expiresMs: number | null;
  /** closed here: by the local application's CLOSE or by expiry. Never reopened. */
  closed: boolean;
  /** the incarnation: random per stream creation, tells a re-announcement from a reused KSID */
  gen: string | null;
}

/** A stream to add: expiry, closed flag and incarnation are optional (null / false / null). */
export type NewStream = Omit<StreamRow, 'expiresMs' | 'closed' | 'gen'> & Partial<Pick<StreamRow, 'expiresMs' | 'gen'>>;

/** Rows per table (tests, CLI): what a long-running KME must keep bounded. */
export type TableCounts = Record<'units' | 'txs' | 'keys' | 'deliveries' | 'tombstones' | 'streams' | 'chunks', number>;

export interface DeliveredBytes {
  keyId: string;
  bytes: Uint8Array;
}

export type DeliverResult =
  | { status: 'ok'; keys: DeliveredBytes[] }
  | { status: 'not-found' }
  | { status: 'unauthorized' }
  | { status: 'pending'; txids: string[] };

export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

interface UnitRow {
  seq: number;
  owner: Site;
  state: string;
  txid: string | null;
  bytes: Buffer | null;
}

interface KeyRowDb {
  key_id: string;
  txid: string;
  master: string;
  slaves: string;
  size_bits: number;
  seqs: string;
  ksid: string | null;
  idx: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
  seq INTEGER PRIMARY KEY, owner TEXT NOT NULL, state TEXT NOT NULL, txid TEXT, bytes BLOB);
CREATE INDEX IF NOT EXISTS units_pick ON units (owner, state, seq);
CREATE INDEX IF NOT EXISTS units_tx ON units (txid);
CREATE TABLE IF NOT EXISTS txs (
  txid TEXT PRIMARY KEY, coordinator TEXT NOT NULL, state TEXT NOT NULL,
  peer_done INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, expires_ms INTEGER);
CREATE TABLE IF NOT EXISTS keys (
  key_id TEXT PRIMARY KEY, txid TEXT NOT NULL, master TEXT NOT NULL, slaves TEXT NOT NULL,
  size_bits INTEGER NOT NULL, seqs TEXT NOT NULL, ksid TEXT, idx INTEGER);
CREATE INDEX IF NOT EXISTS keys_tx ON keys (txid);
CREATE TABLE IF NOT EXISTS deliveries (
  key_id TEXT NOT NULL, sae TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key_id, sae));
CREATE TABLE IF NOT EXISTS tombstones (txid TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS streams (
  ksid TEXT PRIMARY KEY, owner_site TEXT NOT NULL, owner_app TEXT NOT NULL, peer_app TEXT NOT NULL,
  chunk_bytes INTEGER NOT NULL, announced INTEGER NOT NULL, local_open INTEGER NOT NULL,
  qos TEXT NOT NULL, created_ms INTEGER NOT NULL,
  expires_ms INTEGER, closed INTEGER NOT NULL DEFAULT 0, gen TEXT);
CREATE TABLE IF NOT EXISTS chunks (ksid TEXT NOT NULL, idx INTEGER NOT NULL, txid TEXT NOT NULL, PRIMARY KEY (ksid, idx));
`;

/** After SCHEMA and the column migration: indexes on columns an older file may have lacked. */
const INDEXES = `
CREATE INDEX IF NOT EXISTS keys_ksid ON keys (ksid);
CREATE INDEX IF NOT EXISTS streams_expiry ON streams (closed, expires_ms);
CREATE INDEX IF NOT EXISTS txs_expiry ON txs (state, expires_ms);
CREATE INDEX IF NOT EXISTS tombstones_age ON tombstones (at_ms);
`;

export class KeyStore {
  readonly db: Database.Database;

  constructor(
    readonly path: string,
    readonly site: Site,
    readonly unitBytes: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a commit survives a process crash (kill -9) — the WAL is in the OS page cache; only a power
    // loss can drop the last commits. Use FULL for that (see docs/kme.md).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.migrate();
    this.db.exec(INDEXES);
    const site0 = this.meta('site');
    if (site0 === undefined) this.setMeta('site', site);
    else if (site0 !== site) throw new Error(`${path} belongs to site ${site0}, not ${site}`);
    const ub = this.meta('unit_bytes');
    if (ub === undefined) this.setMeta('unit_bytes', String(unitBytes));
    else if (Number(ub) !== unitBytes) throw new Error(`${path} stores ${ub}-byte units, not ${unitBytes}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * A file from before stream lifetimes: add the columns. Its owner-side streams with local_open = 0 were
   * CLOSEd. A file from before 014 key lifetimes: txs gets expires_ms (set by setMissingKeyExpiry).
   */
  private migrate(): void {
    const cols = new Set((this.db.prepare('PRAGMA table_info(streams)').all() as { name: string }[]).map((c) => c.name));
    const txCols = new Set((this.db.prepare('PRAGMA table_info(txs)').all() as { name: string }[]).map((c) => c.name));
    this.db.transaction(() => {
      if (!txCols.has('expires_ms')) this.db.exec('ALTER TABLE txs ADD COLUMN expires_ms INTEGER');
      if (!cols.has('expires_ms')) this.db.exec('ALTER TABLE streams ADD COLUMN expires_ms INTEGER');
      if (!cols.has('gen')) this.db.exec('ALTER TABLE streams ADD COLUMN gen TEXT');
      if (!cols.has('closed')) {
        this.db.exec('ALTER TABLE streams ADD COLUMN closed INTEGER NOT NULL DEFAULT 0');
        this.db.prepare('UPDATE streams SET closed = 1 WHERE local_open = 0 AND owner_site = ?').run(this.site);
      }
    })();
  }

  private meta(k: string): string | undefined {
    const r = this.db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined;
    return r?.v;
  }

  private setMeta(k: string, v: string): void {
    this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
  }

  // ---- pool levels -------------------------------------------------------------------------------

  /**
   * Units per owner and state (real counts, for the 014 status and the CLI). `held` = the reserved units
   * of still-undecided txs: they may return to `ready`, so the filler counts them as stock.
   */
  counts(): Record<Site, { ready: number; pending: number; reserved: number; held: number }> {
    const out = { A: { ready: 0, pending: 0, reserved: 0, held: 0 }, B: { ready: 0, pending: 0, reserved: 0, held: 0 } };
    const rows = this.db
      .prepare("SELECT owner, state, COUNT(*) AS n FROM units WHERE state != 'spent' GROUP BY owner, state")
      .all() as { owner: Site; state: 'ready' | 'pending' | 'reserved'; n: number }[];
    for (const r of rows) out[r.owner][r.state] = r.n;
    const held = this.db
      .prepare(
        "SELECT u.owner AS owner, COUNT(*) AS n FROM units u JOIN txs t ON t.txid = u.txid WHERE u.state = 'reserved' AND t.state = 'pending' GROUP BY u.owner",
      )
      .all() as { owner: Site; n: number }[];
    for (const r of held) out[r.owner].held = r.n;
    return out;
  }

  // ---- filling (filler site; docs/kme.md "Filling") ----------------------------------------------

  /** Fill step 1 (filler): store a block's units as `pending`, numbering them from the shared sequence. */
  addPendingUnits(units: { owner: Site; bytes: Uint8Array }[]): UnitIn[] {
    return this.db.transaction(() => {
      let next = Number(this.meta('next_seq') ?? '1');
      const ins = this.db.prepare("INSERT INTO units (seq, owner, state, bytes) VALUES (?, ?, 'pending', ?)");
      const out: UnitIn[] = [];
      for (const u of units) {
        if (u.bytes.length !== this.unitBytes) throw new Error('unit of the wrong size');
        ins.run(next, u.owner, Buffer.from(u.bytes));
        out.push({ seq: next, owner: u.owner, bytes: u.bytes });
        next++;
      }
      this.setMeta('next_seq', String(next));
      return out;
    })();
  }

  /** Units still `pending` here (filler), in sequence order — to (re)send to the peer. */
  pendingUnits(limit: number): UnitIn[] {
    const rows = this.db
      .prepare("SELECT seq, owner, bytes FROM units WHERE state = 'pending' ORDER BY seq LIMIT ?")
      .all(limit) as { seq: number; owner: Site; bytes: Buffer }[];
    return rows.map((r) => ({ seq: r.seq, owner: r.owner, bytes: new Uint8Array(r.bytes) }));
  }

  /** Fill step 3 (filler): the peer stored them; `pending` -> `ready`. */
  markUnitsReady(seqs: number[]): void {
    const up = this.db.prepare("UPDATE units SET state = 'ready' WHERE seq = ? AND state = 'pending'");
    this.db.transaction(() => {
      for (const s of seqs) up.run(s);
    })();
  }

  /**
   * Fill step 2 (peer of the filler): store units as `ready`. Idempotent: a unit already here (or spent
   * and compacted away) is skipped; the same seq with different bytes is a fatal inconsistency.
   * Units arrive in sequence order (the filler re-sends its pending units before anything new), so a
   * seq below any compaction floor was received before: it is a duplicate and skipped.
   */
  storePeerUnits(units: UnitIn[]): void {
    const get = this.db.prepare('SELECT bytes, owner FROM units WHERE seq = ?');
    const ins = this.db.prepare("INSERT INTO units (seq, owner, state, bytes) VALUES (?, ?, 'ready', ?)");
    this.db.transaction(() => {
      const floor = Math.max(...(['seq_floor', 'seq_floor_A', 'seq_floor_B'] as const).map((k) => Number(this.meta(k) ?? '0')));
      for (const u of units) {
        if (u.bytes.length !== this.unitBytes) throw new StoreConflictError('unit of the wrong size');
        if (u.seq < floor) continue;
        const have = get.get(u.seq) as { bytes: Buffer | null; owner: Site } | undefined;
        if (have) {
          if (have.owner !== u.owner || (have.bytes !== null && !Buffer.from(u.bytes).equals(have.bytes))) {
            throw new StoreConflictError(`unit ${u.seq} differs from the stored one`);
          }
          continue;
        }
        ins.run(u.seq, u.owner, Buffer.from(u.bytes));
      }
    })();
  }

  /**
   * Deletes spent units below the lowest live unit OF THE SAME OWNER and remembers those floors
   * (storePeerUnits skips below them). Per owner, because one site's pool may sit unused for ever: its
   * oldest unit would pin a single floor, and every unit the other site spends (one per 004 connection,
   * say) would stay as a row. The `seq_floor` of old files (the lowest live unit of either owner) is kept.
   */
  compact(): void {
    this.db.transaction(() => {
      const mx = this.db.prepare('SELECT MAX(seq) AS m FROM units').get() as { m: number | null };
      if (mx.m === null) return;
      const floors: number[] = [];
      for (const owner of ['A', 'B'] as const) {
        const r = this.db.prepare("SELECT MIN(seq) AS m FROM units WHERE owner = ? AND state != 'spent'").get(owner) as { m: number | null };
        const floor = r.m ?? mx.m + 1;
        floors.push(floor);
        this.db.prepare("DELETE FROM units WHERE owner = ? AND state = 'spent' AND seq < ?").run(owner, floor);
        const old = Number(this.meta(`seq_floor_${owner}`) ?? '0');
        if (floor > old) this.setMeta(`seq_floor_${owner}`, String(floor));
      }
      const both = Math.min(...floors);
      const old = Number(this.meta('seq_floor') ?? '0');
      if (both > old) this.setMeta('seq_floor', String(both));
    })();
  }

  // ---- reservations (docs/kme.md "Reservations") -------------------------------------------------

  /**
   * Reservation step 1 (coordinator): take ready units this site owns for each key, record the tx as
   * `pending` with its bindings and the local recipients. `expiresMs`: a 014 tx's key lifetime at this
   * site (null for 004 chunks, which live as long as their stream). Undefined when the pool is too small.
   */
  beginTx(
    txid: string,
    keys: Omit<KeyBinding, 'seqs'>[],
    localRecipients: (k: Omit<KeyBinding, 'seqs'>) => string[],
    expiresMs: number | null,
  ): KeyBinding[] | undefined {
    return this.db.transaction(() => {
      const need = keys.map((k) => this.unitsFor(k.sizeBits));
      const total = need.reduce((a, b) => a + b, 0);
      const seqs = (
        this.db
          .prepare("SELECT seq FROM units WHERE owner = ? AND state = 'ready' ORDER BY seq LIMIT ?")
          .all(this.site, total) as { seq: number }[]
      ).map((r) => r.seq);
      if (seqs.length < total) return undefined;
      const bindings: KeyBinding[] = [];
      let at = 0;
      for (let i = 0; i < keys.length; i++) {
        bindings.push({ ...keys[i]!, seqs: seqs.slice(at, at + need[i]!) });
        at += need[i]!;
      }
      this.insertTx(txid, this.site, bindings, localRecipients, expiresMs);
      return bindings;
    })();
  }

  /**
   * Reservation step 2 (participant): reserve the same units for the same tx. Idempotent for a tx already
   * here; refused ('aborted') for a tombstoned tx; a unit that is missing, owned by the other site or
   * held by another tx is a conflict. `expiresMs`: as for beginTx, by this site's clock.
   */
  reserveForPeer(
    txid: string,
    coordinator: Site,
    bindings: KeyBinding[],
    localRecipients: (k: KeyBinding) => string[],
    expiresMs: number | null,
  ): 'ok' | 'aborted' {
    return this.db.transaction((): 'ok' | 'aborted' => {
      if (this.db.prepare('SELECT 1 FROM tombstones WHERE txid = ?').get(txid)) return 'aborted';
      const have = this.tx(txid);
      if (have) {
        if (have.coordinator !== coordinator) throw new StoreConflictError('tx exists with another coordinator');
        return 'ok';
      }
      const get = this.db.prepare('SELECT seq, owner, state, txid FROM units WHERE seq = ?');
      for (const b of bindings) {
        if (b.seqs.length !== this.unitsFor(b.sizeBits)) throw new StoreConflictError('unit count does not match the key size');
        if (this.db.prepare('SELECT 1 FROM keys WHERE key_id = ?').get(b.keyId)) throw new StoreConflictError('key ID in use');
        for (const s of b.seqs) {
          const u = get.get(s) as Omit<UnitRow, 'bytes'> | undefined;
          if (!u) throw new StoreConflictError(`unit ${s} is not stored here`);
          if (u.owner !== coordinator) throw new StoreConflictError(`unit ${s} is not the coordinator's to allocate`);
          if (u.state !== 'ready' && u.state !== 'pending') throw new StoreConflictError(`unit ${s} is ${u.state}`);
        }
      }
      this.insertTx(txid, coordinator, bindings, localRecipients, expiresMs);
      return 'ok';
    })();
  }

  private insertTx(
    txid: string,
    coordinator: Site,
    bindings: KeyBinding[],
    localRecipients: (k: KeyBinding) => string[],
    expiresMs: number | null,
  ): void {
    this.db
      .prepare("INSERT INTO txs (txid, coordinator, state, peer_done, created_ms, expires_ms) VALUES (?, ?, 'pending', 0, ?, ?)")
      .run(txid, coordinator, Date.now(), expiresMs);
    const insKey = this.db.prepare(
      'INSERT INTO keys (key_id, txid, master, slaves, size_bits, seqs, ksid, idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insDel = this.db.prepare('INSERT INTO deliveries (key_id, sae, done) VALUES (?, ?, 0)');
    const res = this.db.prepare("UPDATE units SET state = 'reserved', txid = ? WHERE seq = ?");
    const insChunk = this.db.prepare('INSERT INTO chunks (ksid, idx, txid) VALUES (?, ?, ?)');
    for (const b of bindings) {
      if (b.ksid !== undefined) {
        if (this.chunkUsed(b.ksid, b.index ?? -1)) throw new StoreConflictError('chunk index already allocated');
        insChunk.run(b.ksid, b.index ?? -1, txid);
      }
      insKey.run(b.keyId, txid, b.master, JSON.stringify(b.slaves), b.sizeBits, JSON.stringify(b.seqs), b.ksid ?? null, b.index ?? null);
      for (const sae of new Set(localRecipients(b))) insDel.run(b.keyId, sae);
      for (const s of b.seqs) res.run(txid, s);
    }
  }

  /**
   * Reservation step 3 (coordinator), and the participant's "confirmed" mark: the tx is decided. With
   * `deliverTo`, the same transaction hands that SAE its keys (014 master) and returns their bytes.
   */
  confirmTx(txid: string, deliverTo?: string): DeliveredBytes[] {
    return this.db.transaction(() => {
      const t = this.tx(txid);
      if (!t) throw new StoreConflictError(`tx ${txid} unknown`);
      this.db.prepare("UPDATE txs SET state = 'confirmed' WHERE txid = ?").run(txid);
      const out: DeliveredBytes[] = [];
      if (deliverTo !== undefined) {
        for (const k of this.keysOf(txid)) {
          const d = this.db.prepare('SELECT done FROM deliveries WHERE key_id = ? AND sae = ?').get(k.key_id, deliverTo) as
            | { done: number }
            | undefined;
          if (!d || d.done) throw new StoreConflictError('no pending delivery for the master');
          out.push({ keyId: k.key_id, bytes: this.deliverOne(k, deliverTo) });
        }
      }
      this.forfeitIfStreamClosed(txid);
      this.maybeFinish(txid);
      return out;
    })();
  }

  /**
   * Participant: mark a tx confirmed (the coordinator said so). 'unknown' = already finished here. A 014 tx
   * whose lifetime ran out here (`nowMs`, this site's clock) is forfeited in the same transaction.
   */
  markConfirmed(txid: string, nowMs: number): 'ok' | 'unknown' {
    return this.db.transaction((): 'ok' | 'unknown' => {
      if (!this.tx(txid)) return 'unknown';
      this.db.prepare("UPDATE txs SET state = 'confirmed' WHERE txid = ?").run(txid);
      if (this.expired(txid, nowMs)) for (const k of this.keysOf(txid)) this.forfeitKey(k);
      this.forfeitIfStreamClosed(txid);
      this.maybeFinish(txid);
      return 'ok';
    })();
  }

  /** Coordinator: the participant acknowledged the confirmation. */
  markPeerDone(txid: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE txs SET peer_done = 1 WHERE txid = ?').run(txid);
      this.maybeFinish(txid);
    })();
  }

  /**
   * Abort (participant on the coordinator's order; coordinator once the participant acknowledged):
   * release the units to `ready`, forget the keys, tombstone the txid (at `nowMs`, this site's clock). A
   * confirmed tx is never aborted.
   */
  abortTx(txid: string, nowMs: number): 'aborted' | 'unknown' | 'confirmed' {
    return this.db.transaction((): 'aborted' | 'unknown' | 'confirmed' => {
      const t = this.tx(txid);
      this.db.prepare('INSERT OR IGNORE INTO tombstones (txid, at_ms) VALUES (?, ?)').run(txid, nowMs);
      if (!t) return 'unknown';
      if (t.state === 'confirmed') return 'confirmed';
      this.db.prepare("UPDATE units SET state = 'ready', txid = NULL WHERE txid = ? AND state = 'reserved'").run(txid);
      this.db.prepare('DELETE FROM chunks WHERE txid = ?').run(txid);
      const ksids = this.ksidsOf(txid);
      this.dropTx(txid);
      for (const k of ksids) this.purgeStreamIfDone(k);
      return 'aborted';
    })();
  }

  tx(txid: string): TxRow | undefined {
    const r = this.db.prepare('SELECT txid, coordinator, state, peer_done, created_ms FROM txs WHERE txid = ?').get(txid) as
      | { txid: string; coordinator: Site; state: 'pending' | 'confirmed'; peer_done: number; created_ms: number }
      | undefined;
    return r && { txid: r.txid, coordinator: r.coordinator, state: r.state, peerDone: r.peer_done === 1, createdMs: r.created_ms };
  }

  isTombstoned(txid: string): boolean {
    return this.db.prepare('SELECT 1 FROM tombstones WHERE txid = ?').get(txid) !== undefined;
  }

  /**
   * Deletes the tombstones written before `beforeMs` (this site's clock). Sound only for a horizon past
   * which no reservation for their txids can be accepted any more (KmeSite.pruneTombstones).
   */
  pruneTombstones(beforeMs: number): number {
    return this.db.prepare('DELETE FROM tombstones WHERE at_ms < ?').run(beforeMs).changes;
  }

  // ---- 014 key lifetime ----------------------------------------------------------------------------

  /** Is this tx a 014 allocation whose lifetime at this site is over at `nowMs`? */
  private expired(txid: string, nowMs: number): boolean {
    const r = this.db.prepare('SELECT expires_ms FROM txs WHERE txid = ?').get(txid) as { expires_ms: number | null } | undefined;
    return r !== undefined && r.expires_ms !== null && r.expires_ms <= nowMs;
  }

  /**
   * The 014 key lifetime ran out at this site (`nowMs`): every confirmed tx past its expiry whose keys
   * some SAE attached here has not fetched gives them up — exactly as a delivery ends: the deliveries are
   * marked done (so never handed out), the units spent and their bytes erased, and the rows dropped as
   * for a completed tx (at a coordinator once the peer acknowledged it). A tx still pending here is left
   * alone: only the coordinator decides it, and its units must go back to `ready` if it aborts; it is
   * forfeited when the confirmation arrives (markConfirmed). One transaction; returns the txs and the
   * (key, SAE) copies forfeited, at most `limit` txs.
   */
  expireKeys(nowMs: number, limit = 256): { txs: number; copies: number } {
    return this.db.transaction(() => {
      const due = this.db
        .prepare(
          "SELECT t.txid FROM txs t WHERE t.state = 'confirmed' AND t.expires_ms IS NOT NULL AND t.expires_ms <= ? AND EXISTS " +
            '(SELECT 1 FROM keys k JOIN deliveries d ON d.key_id = k.key_id WHERE k.txid = t.txid AND d.done = 0) ' +
            'ORDER BY t.expires_ms LIMIT ?',
        )
        .all(nowMs, limit) as { txid: string }[];
      let copies = 0;
      for (const { txid } of due) {
        for (const k of this.keysOf(txid)) copies += this.forfeitKey(k);
        this.maybeFinish(txid);
      }
      return { txs: due.length, copies };
    })();
  }

  /** 014 txs without an expiry (a file from before key lifetimes) get `expiresMs`. 004 chunks keep none. */
  setMissingKeyExpiry(expiresMs: number): number {
    return this.db
      .prepare(
        'UPDATE txs SET expires_ms = ? WHERE expires_ms IS NULL AND NOT EXISTS (SELECT 1 FROM keys k WHERE k.txid = txs.txid AND k.ksid IS NOT NULL)',
      )
      .run(expiresMs).changes;
  }

  /** Txs in a given state, by coordinator; for the reconciler. */
  txsWhere(coordinator: Site, state: 'pending' | 'confirmed', peerDone?: boolean): TxRow[] {
    const rows = this.db
      .prepare(
        `SELECT txid, coordinator, state, peer_done, created_ms FROM txs WHERE coordinator = ? AND state = ?` +
          (peerDone === undefined ? '' : ' AND peer_done = ?') +
          ' ORDER BY created_ms LIMIT 256',
      )
      .all(...(peerDone === undefined ? [coordinator, state] : [coordinator, state, peerDone ? 1 : 0])) as {
      txid: string;
      coordinator: Site;
      state: 'pending' | 'confirmed';
      peer_done: number;
      created_ms: number;
    }[];
    return rows.map((r) => ({ txid: r.txid, coordinator: r.coordinator, state: r.state, peerDone: r.peer_done === 1, createdMs: r.created_ms }));
  }

  bindingsOf(txid: string): KeyBinding[] {
    return this.keysOf(txid).map(toBinding);
  }

  // ---- delivery ----------------------------------------------------------------------------------

  /**
   * 014 dec_keys (and 004 GET_KEY): hand `caller` the keys, all or nothing. `master` (when given) must be
   * each key's master. A key of a still-pending tx is not handed out: the caller resolves it first. A 014
   * key whose lifetime at this site is over at `nowMs` (this site's clock) is not found, as it will be once
   * the sweep has forfeited it: never handed out after its expiry here, whatever the other site's clock says.
   */
  deliver(keyIds: string[], caller: string, master: string | undefined, nowMs: number): DeliverResult {
    return this.db.transaction((): DeliverResult => {
      const rows: KeyRowDb[] = [];
      for (const id of keyIds) {
        const k = this.db.prepare('SELECT * FROM keys WHERE key_id = ?').get(id) as KeyRowDb | undefined;
        if (!k || (master !== undefined && k.master !== master)) return { status: 'not-found' };
        if (this.expired(k.txid, nowMs)) return { status: 'not-found' };
        rows.push(k);
      }
      if (new Set(keyIds).size !== keyIds.length) return { status: 'not-found' };
      for (const k of rows) {
        const d = this.db.prepare('SELECT done FROM deliveries WHERE key_id = ? AND sae = ?').get(k.key_id, caller) as
          | { done: number }
          | undefined;
        if (!d) return { status: 'unauthorized' };
        if (d.done) return { status: 'not-found' };
      }
      const pending = [...new Set(rows.map((k) => k.txid))].filter((t) => this.tx(t)?.state !== 'confirmed');
      if (pending.length > 0) return { status: 'pending', txids: pending };
      const out = rows.map((k) => ({ keyId: k.key_id, bytes: this.deliverOne(k, caller) }));
      for (const t of new Set(rows.map((k) => k.txid))) this.maybeFinish(t);
      return { status: 'ok', keys: out };
    })();
  }

  /** A key's binding and this site's delivery state for `sae`. */
  keyInfo(keyId: string, sae: string): { binding: KeyBinding; tx: TxRow; delivered: boolean | undefined } | undefined {
    const k = this.db.prepare('SELECT * FROM keys WHERE key_id = ?').get(keyId) as KeyRowDb | undefined;
    if (!k) return undefined;
    const t = this.tx(k.txid)!;
    const d = this.db.prepare('SELECT done FROM deliveries WHERE key_id = ? AND sae = ?').get(keyId, sae) as { done: number } | undefined;
    return { binding: toBinding(k), tx: t, delivered: d === undefined ? undefined : d.done === 1 };
  }

  /**
   * 004 CLOSE, or the stream's TTL ran out: the stream is closed here for good (never reopened) and the
   * local application forfeits every decided chunk it has not fetched (bytes erased here, exactly once
   * per (key, application) as a delivery would). Chunks still pending are forfeited when they are
   * confirmed (forfeitIfStreamClosed). The rows go as soon as nothing is left (purgeStreamIfDone).
   * Returns the chunks forfeited, or undefined for a stream unknown here.
   */
  closeStream(ksid: string): { forfeited: number; purged: boolean } | undefined {
    return this.db.transaction(() => {
      const r = this.db.prepare('UPDATE streams SET closed = 1, local_open = 0 WHERE ksid = ?').run(ksid);
      if (r.changes === 0) return undefined;
      const forfeited = this.forfeitClosedChunks(ksid);
      return { forfeited, purged: this.purgeStreamIfDone(ksid) };
    })();
  }

  /**
   * A closed stream still holding rows (a chunk confirmed after the close was forfeited then; this is
   * the sweep's safety net): forfeit what is decided, purge when done. True when the rows are gone.
   */
  settleClosedStream(ksid: string): boolean {
    return this.db.transaction(() => {
      const s = this.db.prepare('SELECT closed FROM streams WHERE ksid = ?').get(ksid) as { closed: number } | undefined;
      if (!s) return true;
      if (!s.closed) return false;
      this.forfeitClosedChunks(ksid);
      return this.purgeStreamIfDone(ksid);
    })();
  }

  private forfeitClosedChunks(ksid: string): number {
    const ks = this.db
      .prepare("SELECT k.* FROM keys k JOIN txs t ON t.txid = k.txid WHERE k.ksid = ? AND t.state = 'confirmed'")
      .all(ksid) as KeyRowDb[];
    let n = 0;
    for (const k of ks) n += this.forfeitKey(k);
    for (const t of new Set(ks.map((k) => k.txid))) this.maybeFinish(t);
    return n;
  }

  /** Every undelivered local recipient of `k` gives it up; its units are spent and erased. Returns the copies given up. */
  private forfeitKey(k: KeyRowDb): number {
    const n = this.db.prepare('UPDATE deliveries SET done = 1 WHERE key_id = ? AND done = 0').run(k.key_id).changes;
    this.eraseIfDone(k);
    return n;
  }

  /** A 004 chunk decided after its stream closed here (or for a stream no longer here): nobody here may fetch it. */
  private forfeitIfStreamClosed(txid: string): void {
    for (const k of this.keysOf(txid)) {
      if (k.ksid === null) continue;
      const s = this.db.prepare('SELECT closed FROM streams WHERE ksid = ?').get(k.ksid) as { closed: number } | undefined;
      if (!s || s.closed) this.forfeitKey(k);
    }
  }

  /**
   * Deletes a closed stream's rows (stream and chunks) once no tx of it is left here: every chunk is then
   * delivered or forfeited (units spent, bytes erased) or aborted (units back in the pool, txid
   * tombstoned), so nothing can be fetched from it again. A late reservation for it finds no stream and
   * is refused; a new stream under the same KSID gets fresh units (and a peer still holding the old one
   * refuses its announcement: KSID in use). True when the rows are gone.
   */
  private purgeStreamIfDone(ksid: string): boolean {
    const s = this.db.prepare('SELECT closed FROM streams WHERE ksid = ?').get(ksid) as { closed: number } | undefined;
    if (!s || !s.closed) return false;
    if (this.db.prepare('SELECT 1 FROM keys WHERE ksid = ? LIMIT 1').get(ksid)) return false;
    this.db.prepare('DELETE FROM chunks WHERE ksid = ?').run(ksid);
    this.db.prepare('DELETE FROM streams WHERE ksid = ?').run(ksid);
    return true;
  }

  private deliverOne(k: KeyRowDb, sae: string): Uint8Array {
    const seqs = JSON.parse(k.seqs) as number[];
    const get = this.db.prepare('SELECT bytes, state, txid FROM units WHERE seq = ?');
    const parts: Buffer[] = [];
    for (const s of seqs) {
      const u = get.get(s) as { bytes: Buffer | null; state: string; txid: string | null } | undefined;
      if (!u || u.bytes === null || u.state !== 'reserved' || u.txid !== k.txid) {
        throw new StoreConflictError(`unit ${s} of key ${k.key_id} is not available`);
      }
      parts.push(u.bytes);
    }
    const all = Buffer.concat(parts);
    const key = new Uint8Array(k.size_bits / 8);
    key.set(all.subarray(0, key.length));
    all.fill(0);
    this.db.prepare('UPDATE deliveries SET done = 1 WHERE key_id = ? AND sae = ?').run(k.key_id, sae);
    this.eraseIfDone(k);
    return key;
  }

  /** Every local recipient served: the key's units are spent and their bytes erased. */
  private eraseIfDone(k: KeyRowDb): void {
    const left = this.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE key_id = ? AND done = 0').get(k.key_id) as { n: number };
    if (left.n > 0) return;
    const seqs = JSON.parse(k.seqs) as number[];
    const spend = this.db.prepare("UPDATE units SET state = 'spent', bytes = NULL WHERE seq = ? AND txid = ?");
    for (const s of seqs) spend.run(s, k.txid);
  }

  /** Drop a tx's rows once its outcome needs no more remembering (see docs/kme.md). */
  private maybeFinish(txid: string): void {
    const t = this.tx(txid);
    if (!t || t.state !== 'confirmed') return;
    if (t.coordinator === this.site && !t.peerDone) return;
    const left = this.db
      .prepare('SELECT COUNT(*) AS n FROM deliveries d JOIN keys k ON k.key_id = d.key_id WHERE k.txid = ? AND d.done = 0')
      .get(txid) as { n: number };
    if (left.n > 0) return;
    // Keys with no local recipient (possible at a coordinator) are spent here too.
    for (const k of this.keysOf(txid)) this.eraseIfDone(k);
    const ksids = this.ksidsOf(txid);
    this.dropTx(txid);
    for (const k of ksids) this.purgeStreamIfDone(k);
  }

  private ksidsOf(txid: string): string[] {
    return (this.db.prepare('SELECT DISTINCT ksid FROM keys WHERE txid = ? AND ksid IS NOT NULL').all(txid) as { ksid: string }[]).map((r) => r.ksid);
  }

  private dropTx(txid: string): void {
    this.db.prepare('DELETE FROM deliveries WHERE key_id IN (SELECT key_id FROM keys WHERE txid = ?)').run(txid);
    this.db.prepare('DELETE FROM keys WHERE txid = ?').run(txid);
    this.db.prepare('DELETE FROM txs WHERE txid = ?').run(txid);
  }

  private keysOf(txid: string): KeyRowDb[] {
    return this.db.prepare('SELECT * FROM keys WHERE txid = ? ORDER BY rowid').all(txid) as KeyRowDb[];
  }

  private unitsFor(sizeBits: number): number {
    return Math.ceil(sizeBits / 8 / this.unitBytes);
  }

  /** 004: was this (KSID, index) ever allocated here (delivered or not)? */
  chunkUsed(ksid: string, index: number): boolean {
    return this.db.prepare('SELECT 1 FROM chunks WHERE ksid = ? AND idx = ?').get(ksid, index) !== undefined;
  }

  // ---- 004 streams -------------------------------------------------------------------------------

  stream(ksid: string): StreamRow | undefined {
    const r = this.db.prepare('SELECT * FROM streams WHERE ksid = ?').get(ksid) as StreamRowDb | undefined;
    return r && toStream(r);
  }

  /** Inserts a stream; false when the KSID is already known here (open, closed, or not yet purged). */
  addStream(s: NewStream): boolean {
    const r = this.db
      .prepare(
        'INSERT OR IGNORE INTO streams (ksid, owner_site, owner_app, peer_app, chunk_bytes, announced, local_open, qos, created_ms, expires_ms, closed, gen) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)',
      )
      .run(
        s.ksid,
        s.ownerSite,
        s.ownerApp,
        s.peerApp,
        s.chunkBytes,
        s.announced ? 1 : 0,
        s.localOpen ? 1 : 0,
        s.qos,
        s.createdMs,
        s.expiresMs ?? null,
        s.gen ?? null,
      );
    return r.changes === 1;
  }

  setStreamFlags(ksid: string, flags: { announced?: boolean; localOpen?: boolean }): void {
    if (flags.announced !== undefined) this.db.prepare('UPDATE streams SET announced = ? WHERE ksid = ?').run(flags.announced ? 1 : 0, ksid);
    if (flags.localOpen !== undefined) this.db.prepare('UPDATE streams SET local_open = ? WHERE ksid = ? AND closed = 0').run(flags.localOpen ? 1 : 0, ksid);
  }

  /**
   * Peer side, a new incarnation announced for a KSID known here only as an untouched announcement (never
   * joined, never closed, no chunk): it replaces the old one. Otherwise false (the KSID is in use).
   */
  reincarnateStream(ksid: string, next: { gen: string | null; expiresMs: number; qos: string; createdMs: number }): boolean {
    return this.db.transaction(() => {
      const s = this.stream(ksid);
      if (!s || s.closed || s.localOpen) return false;
      if (this.db.prepare('SELECT 1 FROM chunks WHERE ksid = ? LIMIT 1').get(ksid)) return false;
      if (this.db.prepare('SELECT 1 FROM keys WHERE ksid = ? LIMIT 1').get(ksid)) return false;
      this.db
        .prepare('UPDATE streams SET gen = ?, expires_ms = ?, qos = ?, created_ms = ? WHERE ksid = ?')
        .run(next.gen, next.expiresMs, next.qos, next.createdMs, ksid);
      return true;
    })();
  }

  unannouncedStreams(): StreamRow[] {
    const rows = this.db.prepare('SELECT * FROM streams WHERE announced = 0 AND closed = 0 AND owner_site = ?').all(this.site) as StreamRowDb[];
    return rows.map(toStream);
  }

  /** Streams open here whose lifetime ended at `nowMs` (the site closes them). */
  dueStreams(nowMs: number, limit = 256): string[] {
    const rows = this.db
      .prepare('SELECT ksid FROM streams WHERE closed = 0 AND expires_ms IS NOT NULL AND expires_ms <= ? ORDER BY expires_ms LIMIT ?')
      .all(nowMs, limit) as { ksid: string }[];
    return rows.map((r) => r.ksid);
  }

  /** Closed streams whose rows are still here (a tx of theirs not finished yet). */
  closedStreams(limit = 256): string[] {
    return (this.db.prepare('SELECT ksid FROM streams WHERE closed = 1 LIMIT ?').all(limit) as { ksid: string }[]).map((r) => r.ksid);
  }

  /** Streams without an expiry (from an older file, or added without one) get `expiresMs`. */
  setMissingExpiry(expiresMs: number): number {
    return this.db.prepare('UPDATE streams SET expires_ms = ? WHERE expires_ms IS NULL').run(expiresMs).changes;
  }

  /** Streams `app` (attached here) has open at this site: as owner, or joined as peer. */
  openStreamCount(app: string): number {
    const r = this.db
      .prepare(
        'SELECT COUNT(*) AS n FROM streams WHERE closed = 0 AND local_open = 1 AND ' +
          '((owner_site = ? AND owner_app = ?) OR (owner_site != ? AND peer_app = ?))',
      )
      .get(this.site, app, this.site, app) as { n: number };
    return r.n;
  }

  // ---- inspection (tests, CLI) -------------------------------------------------------------------

  tableCounts(): TableCounts {
    const n = (t: string): number => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return {
      units: n('units'),
      txs: n('txs'),
      keys: n('keys'),
      deliveries: n('deliveries'),
      tombstones: n('tombstones'),
      streams: n('streams'),
      chunks: n('chunks'),
    };
  }

  /** Every unit's seq, owner, state, tx and a digest-free equality handle (the bytes, for tests only). */
  dumpUnits(): UnitRow[] {
    return this.db.prepare('SELECT seq, owner, state, txid, bytes FROM units ORDER BY seq').all() as UnitRow[];
  }
}

interface StreamRowDb {
  ksid: string;
  owner_site: Site;
  owner_app: string;
  peer_app: string;
  chunk_bytes: number;
  announced: number;
  local_open: number;
  qos: string;
  created_ms: number;
  expires_ms: number | null;
  closed: number;
  gen: string | null;
}

function toStream(r: StreamRowDb): StreamRow {
  return {
    ksid: r.ksid,
    ownerSite: r.owner_site,
    ownerApp: r.owner_app,
    peerApp: r.peer_app,
    chunkBytes: r.chunk_bytes,
    announced: r.announced === 1,
    localOpen: r.local_open === 1,
    qos: r.qos,
    createdMs: r.created_ms,
    expiresMs: r.expires_ms,
    closed: r.closed === 1,
    gen: r.gen,
  };
}

function toBinding(k: KeyRowDb): KeyBinding {
  const b: KeyBinding = {
    keyId: k.key_id,
    master: k.master,
    slaves: JSON.parse(k.slaves) as string[],
    sizeBits: k.size_bits,
    seqs: JSON.parse(k.seqs) as number[],
  };
  if (k.ksid !== null) b.ksid = k.ksid;
  if (k.idx !== null) b.index = k.idx;
  return b;
}
