// kill -9 of KME processes at random moments while SAEs hammer them; after restarts the invariants of
// docs/kme.md hold: no key is handed out twice, master and slave never get different bytes for a key_ID,
// and no key that was not yet delivered is lost (every key a master got can still be fetched by its slave
// unless the slave already did; every unit of the pools is ready at both sites, or bound to a settled
// allocation at both, or spent).
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import { creds, sleep, tempDir, until } from './helpers.js';
import { freePorts, spawnKme, type KmeProcess } from './spawn-kme.js';
import type { PkiFiles } from '../../lib/qkd/kme/pki.js';

type Dir = 'AB' | 'BA';
const MASTER: Record<Dir, string> = { AB: 'sae-a', BA: 'sae-b' };
const SLAVE: Record<Dir, string> = { AB: 'sae-b', BA: 'sae-a' };

interface Ledger {
  master: Map<string, { hex: string; dir: Dir }>;
  slave: Map<string, string>;
  /** dec_keys sent whose outcome is unknown (the KME died): the key may have been delivered */
  maybeDelivered: Set<string>;
  violations: string[];
  stats: { enc: number; dec: number; failures: number };
}

class Hammer {
  readonly ledger: Ledger = { master: new Map(), slave: new Map(), maybeDelivered: new Set(), violations: [], stats: { enc: 0, dec: 0, failures: 0 } };
  private running = true;
  private readonly workers: Promise<void>[] = [];
  private readonly clients: Record<string, Etsi014Client>;

  constructor(pki: PkiFiles, url: { A: string; B: string }, concurrency: number) {
    const mk = (kme: 'A' | 'B', sae: string) => new Etsi014Client({ url: url[kme], ...creds(pki, sae), timeoutMs: 5000, idleMs: 0 });
    this.clients = { 'A:sae-a': mk('A', 'sae-a'), 'B:sae-b': mk('B', 'sae-b') };
    for (let i = 0; i < concurrency; i++) this.workers.push(this.work());
  }

  private client(dir: Dir, role: 'master' | 'slave'): Etsi014Client {
    const kme = (dir === 'AB') === (role === 'master') ? 'A' : 'B';
    return this.clients[`${kme}:${kme === 'A' ? 'sae-a' : 'sae-b'}`]!;
  }

  private async work(): Promise<void> {
    const L = this.ledger;
    while (this.running) {
      const dir: Dir = Math.random() < 0.6 ? 'AB' : 'BA';
      let ids: string[] = [];
      try {
        const got = await this.client(dir, 'master').getKey(SLAVE[dir], { number: 1 + Math.floor(Math.random() * 3), size: Math.random() < 0.5 ? 256 : 512 });
        L.stats.enc++;
        for (const k of got.keys) {
          const hex = Buffer.from(k.key).toString('hex');
          if (L.master.has(k.keyId)) L.violations.push(`key_ID ${k.keyId} handed to a master twice`);
          L.master.set(k.keyId, { hex, dir });
          ids.push(k.keyId);
        }
      } catch (e) {
        L.stats.failures++;
        await sleep(15);
        continue;
      }
      if (Math.random() < 0.7) await this.fetch(dir, ids);
      if (Math.random() < 0.2) await this.fetch(dir, ids); // a second fetch must never succeed
      ids = [];
    }
  }

  /** dec_keys by the slave; records the outcome and checks it. */
  async fetch(dir: Dir, ids: string[]): Promise<'ok' | 'not-found' | 'error'> {
    const L = this.ledger;
    try {
      const got = await this.client(dir, 'slave').getKeyWithKeyIds(MASTER[dir], ids);
      L.stats.dec++;
      for (const k of got.keys) {
        if (L.slave.has(k.keyId)) L.violations.push(`key_ID ${k.keyId} handed to the slave twice`);
        const hex = Buffer.from(k.key).toString('hex');
        L.slave.set(k.keyId, hex);
        if (L.master.get(k.keyId)?.hex !== hex) L.violations.push(`key_ID ${k.keyId}: slave bytes differ from master bytes`);
      }
      return 'ok';
    } catch (e) {
      if (e instanceof KeyDeliveryError && e.kind === 'not-found') {
        const unexplained = ids.filter((id) => !L.slave.has(id) && !L.maybeDelivered.has(id));
        if (unexplained.length === ids.length) L.violations.push(`keys ${ids.join(',')} lost: not found before any delivery`);
        return 'not-found';
      }
      if (e instanceof KeyDeliveryError && e.kind === 'unauthorized') L.violations.push(`slave refused its own keys: ${e.message}`);
      // No (complete) answer: the KME may have delivered them before dying.
      if (!(e instanceof KeyDeliveryError) || e.status === undefined || e.status === 200) for (const id of ids) L.maybeDelivered.add(id);
      L.stats.failures++;
      return 'error';
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  close(): void {
    for (const c of Object.values(this.clients)) c.close();
  }
}

/** After a settled shutdown: compare the two stores unit by unit. */
function checkStores(dir: string): { orphanUnits: number; ready: number; aborted: number } {
  const open = (f: string) => new Database(join(dir, f), { readonly: true });
  const a = open('kme-a.db');
  const b = open('kme-b.db');
  try {
    const problems: string[] = [];
    for (const [name, db] of [['A', a], ['B', b]] as const) {
      const pending = db.prepare("SELECT COUNT(*) AS n FROM txs WHERE state = 'pending'").get() as { n: number };
      if (pending.n > 0) problems.push(`${name}: ${pending.n} pending txs after recovery`);
      const pu = db.prepare("SELECT COUNT(*) AS n FROM units WHERE state = 'pending'").get() as { n: number };
      if (pu.n > 0) problems.push(`${name}: ${pu.n} units still pending`);
    }
    type U = { seq: number; owner: string; state: string; txid: string | null; bytes: Buffer | null };
    const rows = (db: Database.Database) => new Map((db.prepare('SELECT seq, owner, state, txid, bytes FROM units').all() as U[]).map((u) => [u.seq, u]));
    // A site compacts spent units below the lowest live unit of the same owner (store.compact).
    const meta = (db: Database.Database, k: string) => Number((db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined)?.v ?? 0);
    const floor = (db: Database.Database) => (owner: string) => Math.max(meta(db, 'seq_floor'), meta(db, `seq_floor_${owner}`));
    const ua = rows(a);
    const ub = rows(b);
    const fa = floor(a);
    const fb = floor(b);
    const txState = (db: Database.Database, t: string | null) => (t ? ((db.prepare('SELECT state FROM txs WHERE txid = ?').get(t) as { state: string } | undefined)?.state ?? 'gone') : 'none');
    let orphanUnits = 0;
    let ready = 0;
    for (const seq of new Set([...ua.keys(), ...ub.keys()])) {
      const x = ua.get(seq);
      const y = ub.get(seq);
      if (!x || !y) {
        // Below the other site's compaction floor, the other site spent it and forgot it.
        const present = (x ?? y)!;
        const otherFloor = (x ? fb : fa)(present.owner);
        const t = present.state === 'reserved' ? txState(x ? a : b, present.txid) : 'none';
        if (seq < otherFloor && (present.state === 'spent' || t === 'confirmed')) {
          if (present.state === 'reserved') orphanUnits++;
          continue;
        }
        problems.push(`unit ${seq} only at ${x ? 'A' : 'B'} (${present.state}, tx ${t})`);
        continue;
      }
      if (x.owner !== y.owner) problems.push(`unit ${seq}: owners differ`);
      if (x.bytes && y.bytes && !x.bytes.equals(y.bytes)) problems.push(`unit ${seq}: bytes differ`);
      const pair = `${x.state}/${y.state}`;
      if (pair === 'ready/ready') {
        ready++;
        continue;
      }
      if (pair === 'spent/spent') continue;
      if (x.state === 'ready' || y.state === 'ready') {
        problems.push(`unit ${seq}: ${pair} (usable at one site only)`);
        continue;
      }
      // reserved at one or both: must be the same settled allocation
      if (x.state === 'reserved' && y.state === 'reserved' && x.txid !== y.txid) problems.push(`unit ${seq}: reserved by different txs`);
      const ta = txState(a, x.txid);
      const tb = txState(b, y.txid);
      if (x.state === 'reserved' && ta !== 'confirmed') problems.push(`unit ${seq}: reserved at A by a ${ta} tx`);
      if (y.state === 'reserved' && tb !== 'confirmed') problems.push(`unit ${seq}: reserved at B by a ${tb} tx`);
      orphanUnits++;
    }
    expect(problems, problems.slice(0, 10).join('\n')).to.deep.equal([]);
    const aborted = (a.prepare('SELECT COUNT(*) AS n FROM tombstones').get() as { n: number }).n + (b.prepare('SELECT COUNT(*) AS n FROM tombstones').get() as { n: number }).n;
    return { orphanUnits, ready, aborted };
  } finally {
    a.close();
    b.close();
  }
}

async function settleAndCheck(h: Hammer, log: string[]): Promise<void> {
  const L = h.ledger;
  // Every key a master got, that its slave has not (possibly) fetched, must still be there — once.
  const waiting = [...L.master.entries()].filter(([id]) => !L.slave.has(id) && !L.maybeDelivered.has(id));
  for (const [id, { dir }] of waiting) {
    let r: string = 'error';
    for (let i = 0; i < 50 && r === 'error'; i++) {
      r = await h.fetch(dir, [id]);
      if (r === 'error') await sleep(100);
    }
    expect(r, `undelivered key ${id} must be fetchable after recovery`).to.equal('ok');
  }
  for (const [id, { dir }] of [...L.master.entries()].filter(([id]) => L.slave.has(id)).slice(0, 40)) {
    expect(await h.fetch(dir, [id]), `second fetch of ${id}`).to.equal('not-found');
  }
  const hexes = [...L.master.values()].map((v) => v.hex);
  expect(new Set(hexes).size, 'distinct key bytes for distinct key_IDs').to.equal(hexes.length);
  expect(L.violations, L.violations.slice(0, 10).join('\n')).to.deep.equal([]);
  log.push(`${L.stats.enc} enc_keys, ${L.stats.dec} dec_keys, ${L.stats.failures} failed calls, ${L.master.size} keys, ${waiting.length} fetched after recovery`);
}

async function kill9(p: KmeProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

async function stopClean(p: KmeProcess): Promise<void> {
  p.child.kill('SIGTERM');
  const e = await p.exited;
  expect(e.code, `clean exit; stderr: ${p.stderr.join('').slice(-2000)}`).to.equal(0);
}

async function noPendingTxs(dir: string): Promise<boolean> {
  for (const f of ['kme-a.db', 'kme-b.db']) {
    const db = new Database(join(dir, f), { readonly: true });
    try {
      const n = (db.prepare("SELECT COUNT(*) AS n FROM txs WHERE state = 'pending' OR (state = 'confirmed' AND peer_done = 0 AND coordinator = ?)").get(f === 'kme-a.db' ? 'A' : 'B') as { n: number }).n;
      const u = (db.prepare("SELECT COUNT(*) AS n FROM units WHERE state = 'pending'").get() as { n: number }).n;
      if (n + u > 0) return false;
    } finally {
      db.close();
    }
  }
  return true;
}

describe('KME crash safety (kill -9)', function () {
  this.timeout(180_000);
  const CYCLES = 5;

  it('one process running both sites: random SIGKILLs never deliver twice, never split bytes, lose no undelivered key', async function () {
    const tmp = tempDir('crash1');
    const log: string[] = [];
    const [pa, pb, p4a, p4b] = await freePorts(4);
    const args = ['--data', tmp.dir, '--max-keys', '300', '--reconcile-ms', '100', '--peer-delay-ms', '3', '--port-a', `${pa}`, '--port-b', `${pb}`, '--port-004-a', `${p4a}`, '--port-004-b', `${p4b}`];
    let kme = await spawnKme(args);
    const urls = { A: kme.ready.kmes[0]!.api014, B: kme.ready.kmes[1]!.api014 };
    const pki = { dir: kme.ready.pki.dir, ca: kme.ready.pki.ca, kme: kme.ready.pki.kmes, sae: kme.ready.pki.saes };
    const h = new Hammer(pki, urls, 4);
    try {
      for (let i = 0; i < CYCLES; i++) {
        await sleep(150 + Math.random() * 700);
        await kill9(kme);
        kme = await spawnKme(args);
      }
      await sleep(300);
      await h.stop();
      await settleAndCheck(h, log);
      await until(() => noPendingTxs(tmp.dir), 'reconciliation settled', 20_000);
      await stopClean(kme);
      const s = checkStores(tmp.dir);
      log.push(`units: ${s.ready} ready at both sites, ${s.orphanUnits} bound to keys whose master answer was lost; ${s.aborted} tombstones (allocations rolled back)`);
      console.log(`      ${log.join('; ')}`);
    } finally {
      h.close();
      if (kme.child.exitCode === null) await kill9(kme);
      tmp.remove();
    }
  });

  it('one process per site (HTTPS between the KMEs): SIGKILL either one at random; the same invariants hold', async function () {
    const tmp = tempDir('crash2');
    const log: string[] = [];
    const [pa, pb, p4a, p4b] = await freePorts(4);
    const common = ['--data', tmp.dir, '--max-keys', '300', '--reconcile-ms', '100'];
    const argsA = [...common, '--site', 'a', '--peer', `https://127.0.0.1:${pb}`, '--port-a', `${pa}`, '--port-004-a', `${p4a}`];
    const argsB = [...common, '--site', 'b', '--peer', `https://127.0.0.1:${pa}`, '--port-b', `${pb}`, '--port-004-b', `${p4b}`];
    const proc: Record<'A' | 'B', KmeProcess> = { A: await spawnKme(argsA), B: undefined as unknown as KmeProcess };
    proc.B = await spawnKme(argsB);
    const r = proc.A.ready;
    const pki = { dir: r.pki.dir, ca: r.pki.ca, kme: r.pki.kmes, sae: r.pki.saes };
    await until(async () => {
      const c = new Etsi014Client({ url: `https://127.0.0.1:${pa}`, ...creds(pki, 'sae-a') });
      try {
        return (await c.status('sae-b')).stored_key_count > 50;
      } catch {
        return false;
      } finally {
        c.close();
      }
    }, 'pool filled across processes');
    const h = new Hammer(pki, { A: `https://127.0.0.1:${pa}`, B: `https://127.0.0.1:${pb}` }, 4);
    const kills = { A: 0, B: 0 };
    try {
      for (let i = 0; i < CYCLES; i++) {
        await sleep(200 + Math.random() * 700);
        const victims: ('A' | 'B')[] = Math.random() < 0.2 ? ['A', 'B'] : [Math.random() < 0.5 ? 'A' : 'B'];
        for (const v of victims) {
          await kill9(proc[v]);
          kills[v]++;
        }
        if (victims.length === 1) await sleep(Math.random() * 300); // the survivor runs alone for a while
        for (const v of victims) proc[v] = await spawnKme(v === 'A' ? argsA : argsB);
      }
      await sleep(300);
      await h.stop();
      await settleAndCheck(h, log);
      await until(() => noPendingTxs(tmp.dir), 'reconciliation settled', 20_000);
      await stopClean(proc.A);
      await stopClean(proc.B);
      const s = checkStores(tmp.dir);
      log.push(`kills A ${kills.A}, B ${kills.B}; units: ${s.ready} ready at both, ${s.orphanUnits} bound to keys whose master answer was lost; ${s.aborted} tombstones (allocations rolled back)`);
      console.log(`      ${log.join('; ')}`);
    } finally {
      h.close();
      for (const p of Object.values(proc)) if (p && p.child.exitCode === null) await kill9(p);
      tmp.remove();
    }
  });
});
