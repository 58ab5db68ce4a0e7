// ETSI GS QKD 014 key lifetime and tombstone pruning at the KME (docs/kme.md, "Key lifetime (014)" and
// "Tombstones"): a key the master got and the slave never fetched is erased at the slave's site after
// limits.maxKeyAgeS (dec_keys then 400 not found), a key fetched in time is unaffected, a hostile client's
// enc_keys loop without dec_keys stays bounded; tombstones go after the horizon, and a reservation older
// than that horizon is refused, so pruning never lets a stale reservation through. Time is an injected
// clock (`now`) per site, moved by the tests; nothing sleeps for a lifetime.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import { runKmeCommand } from '../../lib/qkd/kme/command.js';
import { resolveLimits, tombstoneHorizonMs } from '../../lib/qkd/kme/limits.js';
import { startKmeNetwork, startKmeSite, type RunningKmeNetwork, type RunningKmeSite } from '../../lib/qkd/kme/network.js';
import { KmeSite } from '../../lib/qkd/kme/site.js';
import type { KeyBinding, Site } from '../../lib/qkd/kme/store.js';
import { creds, FiniteLink, tempDir, until, same, rejection } from './helpers.js';
import { freePorts } from './spawn-kme.js';
import { bootTestSite, type PeerOp } from '../helpers/kme-test-sites.js';

const NOT_FOUND = 'one or more keys specified are not found on KME';


/** The per-allocation rows of a site's store (units are the link's, counted separately). */
function txRows(site: KmeSite): { txs: number; keys: number; deliveries: number } {
  const c = site.store.tableCounts();
  return { txs: c.txs, keys: c.keys, deliveries: c.deliveries };
}
const NO_ROWS = { txs: 0, keys: 0, deliveries: 0 };
const noRows = (s: KmeSite): boolean => JSON.stringify(txRows(s)) === JSON.stringify(NO_ROWS);

/** The unit seqs the keys of a site's txs are cut from (before the rows go). */
function keySeqs(site: KmeSite, keyIds: string[]): number[] {
  const get = site.store.db.prepare('SELECT seqs FROM keys WHERE key_id = ?');
  return keyIds.flatMap((id) => JSON.parse((get.get(id) as { seqs: string }).seqs) as number[]);
}

function unitStates(site: KmeSite, seqs: number[]): { state: string; erased: boolean }[] {
  const all = new Map(site.store.dumpUnits().map((u) => [u.seq, u]));
  return seqs.map((s) => ({ state: all.get(s)!.state, erased: all.get(s)!.bytes === null }));
}

describe('ETSI GS QKD 014 key lifetime (KME)', function () {
  describe('a network with a known supply (8 units per site), clock injected', function () {
    let tmp: ReturnType<typeof tempDir>;
    let net: RunningKmeNetwork;
    const clock = { t: Date.now() };
    const clients: Etsi014Client[] = [];
    const client = (kme: Site, sae: string): Etsi014Client => {
      const c = new Etsi014Client({ url: net[kme].url, ...creds(net.pki, sae) });
      clients.push(c);
      return c;
    };

    beforeEach(async function () {
      tmp = tempDir('014-life');
      clock.t = Date.now();
      net = await startKmeNetwork({ dataDir: tmp.dir, reconcileMs: 200, now: () => clock.t, link: new FiniteLink(4, 1024), limits: { maxKeyAgeS: 60 } });
      await until(
        () => (['A', 'B'] as Site[]).every((s) => { const c = net.sites[s].store.counts(); return c.A.ready === 8 && c.B.ready === 8; }),
        'supply stored at both sites',
      );
    });
    afterEach(async function () {
      for (const c of clients.splice(0)) c.close();
      await net?.close();
      tmp?.remove();
    });

    it('a key the master got and the slave never fetched is erased at both sites after maxKeyAge; dec_keys then answers 400 not found', async function () {
      const { A, B } = net.sites;
      const baseline = { A: A.store.counts().A, B: B.store.counts().A };
      const got = await client('A', 'sae-a').getKey('sae-b', { number: 2, size: 512 }); // 2 keys x 2 units
      const ids = got.keys.map((k) => k.keyId);
      // the master's site spent its copy when it answered the master; the slave's site holds the slave's
      await until(() => noRows(A), 'the coordinator forgot the tx once the peer acknowledged it');
      const seqs = keySeqs(B, ids);
      expect(seqs).to.have.length(4);
      expect(unitStates(A, seqs).every((u) => u.state === 'spent' && u.erased)).to.equal(true);
      expect(unitStates(B, seqs).every((u) => u.state === 'reserved' && !u.erased)).to.equal(true);
      expect(B.store.counts().A).to.include({ ready: baseline.B.ready - 4, reserved: 4 });
      expect(txRows(B)).to.deep.equal({ txs: 1, keys: 2, deliveries: 2 });

      clock.t += 59_999;
      B.sweep();
      expect(B.store.counts().A.reserved).to.equal(4); // not yet
      clock.t += 1; // 60 s after the slave's site recorded the reservation
      // the reconciler's sweep (every 200 ms here) forfeits it: bytes erased, rows dropped
      await until(() => B.store.counts().A.reserved === 0 && noRows(B), 'expired copies erased at the slave\'s site');
      expect(unitStates(B, seqs)).to.deep.equal(seqs.map(() => ({ state: 'spent', erased: true })));
      const e = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-a', ids, { sizeBits: 512 }));
      expect(e).to.include({ kind: 'not-found', status: 400, reason: NOT_FOUND });
      const e1 = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-a', [ids[0]!], { sizeBits: 512 }));
      expect(e1.status).to.equal(400);
      // back to the baseline: nothing returned to the pools, nothing else taken, no rows left
      for (const s of [A, B]) {
        expect(s.store.counts().A).to.include({ ready: baseline.A.ready - 4, reserved: 0, pending: 0 });
        expect(s.store.counts().B).to.include({ ready: 8, reserved: 0 });
        expect(txRows(s)).to.deep.equal(NO_ROWS);
        s.store.compact();
        expect(s.store.tableCounts().units).to.equal(12); // the 4 spent units compacted away
      }
    });

    it('a key fetched by the slave before its expiry is unaffected; the expiry sweep finds nothing to do', async function () {
      const { A, B } = net.sites;
      const got = await client('A', 'sae-a').getKey('sae-b', { number: 1 });
      clock.t += 59_999; // the last millisecond of its lifetime at B
      const dec = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [got.keys[0]!.keyId]);
      expect(same(dec.keys[0]!.key, got.keys[0]!.key)).to.equal(true);
      await until(() => noRows(A) && noRows(B), 'rows of the delivered key gone');
      const before = { A: A.store.dumpUnits(), B: B.store.dumpUnits() };
      clock.t += 3_600_000;
      expect(B.sweepKeys()).to.equal(0);
      expect(A.sweepKeys()).to.equal(0);
      expect(A.store.dumpUnits()).to.deep.equal(before.A);
      expect(B.store.dumpUnits()).to.deep.equal(before.B);
      // still delivered at most once
      const again = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-a', [got.keys[0]!.keyId]));
      expect(again.status).to.equal(400);
      // and a key taken after the clock moved gets a fresh lifetime
      const later = await client('A', 'sae-a').getKey('sae-b', { number: 1 });
      clock.t += 30_000;
      B.sweep();
      const dl = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [later.keys[0]!.keyId]);
      expect(same(dl.keys[0]!.key, later.keys[0]!.key)).to.equal(true);
    });

    it('the other direction (B master, A slave) and multicast: every undelivered slave copy expires, a fetched one is not handed out again', async function () {
      await net.close();
      tmp.remove();
      tmp = tempDir('014-life-mc');
      net = await startKmeNetwork({
        dataDir: tmp.dir,
        reconcileMs: 200,
        now: () => clock.t,
        link: new FiniteLink(4, 1024),
        saeA: ['sae-a', 'sae-c'],
        limits: { maxKeyAgeS: 60 },
      });
      await until(() => net.sites.A.store.counts().B.ready === 8 && net.sites.B.store.counts().B.ready === 8, 'supply stored');
      const { A, B } = net.sites;
      const got = await client('B', 'sae-b').getKey('sae-a', { number: 1, additional_slave_SAE_IDs: ['sae-c'] });
      const id = got.keys[0]!.keyId;
      const dec = await client('A', 'sae-a').getKeyWithKeyIds('sae-b', [id]);
      expect(same(dec.keys[0]!.key, got.keys[0]!.key)).to.equal(true);
      expect(A.store.counts().B.reserved).to.equal(1); // sae-c has not fetched it yet
      clock.t += 60_000;
      await until(() => A.store.counts().B.reserved === 0 && noRows(A) && noRows(B), 'sae-c\'s copy expired');
      expect((await rejection(client('A', 'sae-c').getKeyWithKeyIds('sae-b', [id]))).status).to.equal(400);
      expect((await rejection(client('A', 'sae-a').getKeyWithKeyIds('sae-b', [id]))).status).to.equal(400);
    });
  });

  describe('a hostile client: enc_keys in a loop, never dec_keys', function () {
    let tmp: ReturnType<typeof tempDir>;
    let net: RunningKmeNetwork;
    const clock = { t: Date.now() };
    let master: Etsi014Client;

    before(async function () {
      tmp = tempDir('014-hostile');
      net = await startKmeNetwork({ dataDir: tmp.dir, reconcileMs: 200, now: () => clock.t, limits: { maxKeyCount: 128, maxKeyAgeS: 20 } });
      master = new Etsi014Client({ url: net.A.url, ...creds(net.pki, 'sae-a') });
      await until(() => net.sites.A.storedKeyCount() >= 64, 'pool filled');
    });
    after(async function () {
      master?.close();
      await net?.close();
      tmp?.remove();
    });

    it('200 enc_keys without dec_keys: what the slave\'s site holds is bounded by the keys of the last maxKeyAge, and all of it goes after expiry', async function () {
      this.timeout(60_000);
      const { A, B } = net.sites;
      const held = (s: KmeSite): number => s.store.counts().A.reserved;
      let peak = { reserved: 0, rows: 0 };
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        for (let tries = 0; ; tries++) {
          try {
            ids.push((await master.getKey('sae-b', { number: 1 })).keys[0]!.keyId);
            break;
          } catch (e) {
            // 503 insufficient key: the filler tops the pool up
            if (!(e instanceof KeyDeliveryError) || e.status !== 503 || tries > 200) throw e;
            await new Promise((r) => setTimeout(r, 10));
          }
        }
        clock.t += 1000; // one handshake-that-fails a second
        B.sweepKeys(); // what the reconciler does every pass
        const c = B.store.tableCounts();
        peak = { reserved: Math.max(peak.reserved, held(B)), rows: Math.max(peak.rows, c.txs + c.keys + c.deliveries) };
      }
      // never more than the keys of the last 20 s (one a second) are held, not the 200 taken
      expect(peak.reserved).to.be.at.most(21);
      expect(peak.reserved).to.be.at.least(19);
      expect(peak.rows).to.be.at.most(3 * 21);
      clock.t += 20_000;
      await until(() => held(B) === 0 && noRows(A) && noRows(B), 'everything expired at the slave\'s site');
      expect(held(A)).to.equal(0);
      // the spent units do not pile up either
      A.store.compact();
      B.store.compact();
      for (const s of [A, B]) expect(s.store.tableCounts().units).to.be.at.most(2 * 128 + 8);
      // and none of the 200 keys can be fetched any more
      const slave = new Etsi014Client({ url: net.B.url, ...creds(net.pki, 'sae-b') });
      try {
        for (const id of [ids[0]!, ids[100]!, ids[199]!]) expect((await rejection(slave.getKeyWithKeyIds('sae-a', [id]))).status).to.equal(400);
      } finally {
        slave.close();
      }
    });
  });

  describe('sites in two processes\' worth (HTTPS), each with its own clock', function () {
    it('the slave\'s site goes by its own clock; a coordinator clock ahead by more than the skew allowance gets its reservations refused', async function () {
      this.timeout(30_000);
      const tmp = tempDir('014-life-https');
      const clocks = { A: { t: Date.now() }, B: { t: Date.now() } };
      const [pa, pb, p4a, p4b] = await freePorts(4);
      const limits = { maxKeyCount: 32, maxKeyAgeS: 100, maxClockSkewS: 5 };
      let sa: RunningKmeSite | undefined;
      let sb: RunningKmeSite | undefined;
      const clients: Etsi014Client[] = [];
      try {
        sa = await startKmeSite({ dataDir: tmp.dir, reconcileMs: 200, limits, now: () => clocks.A.t, site: 'A', peerUrl: `https://127.0.0.1:${pb}`, port: pa, port004: p4a });
        sb = await startKmeSite({ dataDir: tmp.dir, reconcileMs: 200, limits, now: () => clocks.B.t, site: 'B', peerUrl: `https://127.0.0.1:${pa}`, port: pb, port004: p4b });
        await until(() => sa!.site.storedKeyCount() >= 8 && sb!.site.store.counts().A.ready >= 8, 'pools filled', 20_000);
        const m = new Etsi014Client({ url: sa.info.url, ...creds(sa.pki, 'sae-a') });
        const s = new Etsi014Client({ url: sb.info.url, ...creds(sa.pki, 'sae-b') });
        clients.push(m, s);
        const st = await m.status('sae-b');
        expect((st.status_extension as { key_lifetime_s: number }).key_lifetime_s).to.equal(100);

        const k1 = await m.getKey('sae-b', { number: 1 });
        const k2 = await m.getKey('sae-b', { number: 1 });
        expect((await s.getKeyWithKeyIds('sae-a', [k2.keys[0]!.keyId])).keys[0]!.key).to.deep.equal(k2.keys[0]!.key);
        // B's clock runs 100 s ahead; A's has not moved: B no longer hands out k1, whatever A's clock says
        clocks.B.t += 100_000;
        expect((await rejection(s.getKeyWithKeyIds('sae-a', [k1.keys[0]!.keyId]))).reason).to.equal(NOT_FOUND);
        await until(() => sb!.site.store.counts().A.reserved === 0 && noRows(sb!.site) && noRows(sa!.site), 'k1 erased at B, rows gone at both');

        // the reservation travels with A's timestamp: within the allowance it is accepted ...
        clocks.A.t = clocks.B.t + 5_000;
        const k3 = await m.getKey('sae-b', { number: 1 });
        expect((await s.getKeyWithKeyIds('sae-a', [k3.keys[0]!.keyId])).keys[0]!.key).to.deep.equal(k3.keys[0]!.key);
        // ... beyond it, B refuses: the bound pruning relies on does not hold, so nothing is allocated
        clocks.A.t = clocks.B.t + 5_001;
        const before = sa.site.store.counts().A.ready;
        const e = await rejection(m.getKey('sae-b', { number: 1 }));
        expect(e.status).to.equal(503);
        await until(() => sa!.site.store.counts().A.ready === before && sa!.site.store.counts().A.reserved === 0, 'the refused reservation rolled back');
        expect(sb.site.store.counts().A.reserved).to.equal(0);
        // a coordinator clock behind the participant's is harmless until the reservation age itself
        clocks.A.t = clocks.B.t - 600_000 - 5_000;
        const k4 = await m.getKey('sae-b', { number: 1 });
        expect((await s.getKeyWithKeyIds('sae-a', [k4.keys[0]!.keyId])).keys[0]!.key).to.deep.equal(k4.keys[0]!.key);
        clocks.A.t = clocks.B.t - 600_000 - 5_001;
        expect((await rejection(m.getKey('sae-b', { number: 1 }))).status).to.equal(503);
      } finally {
        for (const c of clients) c.close();
        await sa?.close();
        await sb?.close();
        tmp.remove();
      }
    });
  });

  it('qtls kme --max-key-age / --max-clock-skew set the limits (key_lifetime_s in the 014 status); bad values are usage errors', async function () {
    this.timeout(30_000);
    const tmp = tempDir('014-life-cmd');
    const err: string[] = [];
    const io = { stdout: { write: () => {} }, stderr: { write: (s: string) => err.push(s) } };
    try {
      expect(await runKmeCommand(['--data', tmp.dir, '--max-key-age', '0'], io)).to.equal(2);
      expect(await runKmeCommand(['--data', tmp.dir, '--max-clock-skew', 'x'], io)).to.equal(2);
      expect(err.join('')).to.match(/--max-key-age: at least 1 second/);
      const ac = new AbortController();
      const lines: string[] = [];
      const ports0 = ['--port-a', '0', '--port-b', '0', '--port-004-a', '0', '--port-004-b', '0'];
      const run = runKmeCommand(['--data', tmp.dir, '--json', '--link', 'csprng', '--max-keys', '8', '--max-key-age', '7', '--max-clock-skew', '3', ...ports0], {
        stdout: { write: (s: string) => lines.push(s) },
        stderr: { write: () => {} },
        signal: ac.signal,
      });
      while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
      const ready = JSON.parse(lines[0]!) as { kmes: { api014: string }[]; pki: { ca: string; saes: Record<string, { cert: string; key: string }> } };
      const f = ready.pki.saes['sae-b']!;
      const c = new Etsi014Client({ url: ready.kmes[1]!.api014, cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(ready.pki.ca) });
      try {
        expect(((await c.status('sae-a')).status_extension as { key_lifetime_s: number }).key_lifetime_s).to.equal(7);
      } finally {
        c.close();
      }
      ac.abort();
      expect(await run).to.equal(0);
    } finally {
      tmp.remove();
    }
  });
});

// ---- protocol level: two KmeSite objects, peers that can fail, a clock per site ------------------

describe('014 key lifetime and tombstones: protocol level', function () {
  let tmp: ReturnType<typeof tempDir>;
  const clocks: Record<Site, { t: number }> = { A: { t: 0 }, B: { t: 0 } };
  const sites: Partial<Record<Site, KmeSite>> = {};
  const plans: Record<Site, { drop?: Set<PeerOp>; loseReply?: Set<PeerOp> }> = { A: {}, B: {} };
  const limits = resolveLimits({ maxKeyCount: 100, maxKeyAgeS: 100, maxReservationAgeS: 600, maxClockSkewS: 60 });
  const HORIZON = tombstoneHorizonMs(limits); // (600 + 2 x 60) s
  const M = limits.maxReservationAgeS * 1000;
  const S = limits.maxClockSkewS * 1000;

  /** (Re)start a site over its store; its calls to the peer go through plans[site]. */
  const boot = (site: Site): KmeSite => bootTestSite(site, { dir: tmp.dir, limits, sites, plans, now: (site) => clocks[site].t });


  function crash(site: Site): void {
    const s = sites[site]!;
    s.closed = true;
    s.store.close();
    delete sites[site];
  }

  const heal = (s: Site): void => {
    delete plans[s].drop;
    delete plans[s].loseReply;
  };
  const counts = (s: Site) => sites[s]!.store.counts();
  /** A reservation of A's unit `seq` for sae-a -> sae-b, as the coordinator would send it. */
  const binding = (keyId: string, seq: number): KeyBinding[] => [{ keyId, master: 'sae-a', slaves: ['sae-b'], sizeBits: 256, seqs: [seq] }];

  beforeEach(function () {
    tmp = tempDir('014-life-proto');
    clocks.A.t = 1_000_000_000;
    clocks.B.t = 1_000_000_000;
    heal('A');
    heal('B');
    boot('A');
    boot('B');
    const units = Array.from({ length: 8 }, (_, i) => ({ owner: (i % 2 === 0 ? 'A' : 'B') as Site, bytes: new Uint8Array(32).fill(i + 1) }));
    const stored = sites.A!.store.addPendingUnits(units); // seqs 1..8, A owns the odd ones
    sites.B!.store.storePeerUnits(stored);
    sites.A!.store.markUnitsReady(stored.map((u) => u.seq));
  });

  afterEach(async function () {
    for (const s of ['A', 'B'] as Site[]) if (sites[s]) await sites[s]!.close();
    delete sites.A;
    delete sites.B;
    tmp.remove();
  });

  describe('key lifetime', function () {
    it('an expired key is not found at the slave\'s site even before any sweep; the sweep then erases it', async function () {
      const A = sites.A!;
      const B = sites.B!;
      const r = await A.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r.status !== 'ok') throw new Error(r.status);
      await A.reconcileOnce(); // confirmation acknowledged (if the background one has not been yet)
      clocks.B.t += 100_000;
      expect(await B.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId])).to.deep.equal({ status: 'not-found' });
      expect(counts('B').A.reserved).to.equal(1); // lazily refused, not yet erased
      expect(B.sweepKeys()).to.equal(1);
      expect(counts('B').A).to.include({ reserved: 0, ready: 3 });
      expect(txRows(B)).to.deep.equal(NO_ROWS);
      expect(await B.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId])).to.deep.equal({ status: 'not-found' });
      // all or nothing: an expired key in a request with a live one fails the whole request, the live one stays
      const r2 = await A.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r2.status !== 'ok') throw new Error(r2.status);
      expect(await B.decKeys('sae-b', 'sae-a', [r2.keys[0]!.keyId, r.keys[0]!.keyId])).to.deep.equal({ status: 'not-found' });
      const ok = await B.decKeys('sae-b', 'sae-a', [r2.keys[0]!.keyId]);
      expect(ok.status).to.equal('ok');
    });

    it('a tx still pending at the slave\'s site is never forfeited by the sweep: an abort returns its units to the pool at both sites', async function () {
      plans.A.loseReply = new Set(['reserve']); // B commits step 2, A never hears it ...
      plans.A.drop = new Set(['abort']); // ... and cannot abort either: both hold it pending
      expect((await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256)).status).to.equal('peer-unreachable');
      expect(counts('B').A.reserved).to.equal(1);
      clocks.B.t += 1_000_000;
      expect(sites.B!.sweepKeys()).to.equal(0);
      expect(counts('B').A.reserved).to.equal(1); // only the coordinator decides a pending tx
      heal('A');
      await sites.A!.reconcileOnce();
      expect(counts('A').A).to.include({ ready: 4, reserved: 0 });
      expect(counts('B').A).to.include({ ready: 4, reserved: 0 });
      const unitsAgree = (): boolean =>
        JSON.stringify(sites.A!.store.dumpUnits().map((u) => [u.seq, u.state])) === JSON.stringify(sites.B!.store.dumpUnits().map((u) => [u.seq, u.state]));
      expect(unitsAgree()).to.equal(true);
    });

    it('a confirmation reaching the slave\'s site after the key expired there forfeits it in the same step (never handed out)', async function () {
      plans.A.drop = new Set(['confirm']);
      const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r.status !== 'ok') throw new Error(r.status);
      expect(sites.B!.store.txsWhere('A', 'pending')).to.have.length(1);
      clocks.B.t += 100_000;
      expect(sites.B!.sweepKeys()).to.equal(0); // pending: left alone
      heal('A');
      await sites.A!.reconcileOnce(); // "confirmed" arrives at B: forfeited there at once
      expect(counts('B').A).to.include({ reserved: 0, ready: 3 });
      expect(txRows(sites.B!)).to.deep.equal(NO_ROWS);
      expect(txRows(sites.A!)).to.deep.equal(NO_ROWS);
      expect(await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId])).to.deep.equal({ status: 'not-found' });
      // and the slave asking first (resolving with the coordinator) gets not found too
      plans.A.drop = new Set(['confirm']);
      const r2 = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r2.status !== 'ok') throw new Error(r2.status);
      clocks.B.t += 100_000;
      expect(await sites.B!.decKeys('sae-b', 'sae-a', [r2.keys[0]!.keyId])).to.deep.equal({ status: 'not-found' });
      expect(sites.B!.store.txsWhere('A', 'pending')).to.have.length(1);
      await sites.B!.reconcileOnce(); // resolves: confirmed, and expired here -> forfeited
      expect(counts('B').A).to.include({ reserved: 0, ready: 2 });
      expect(txRows(sites.B!)).to.deep.equal(NO_ROWS);
    });

    it('the lifetime survives a restart of the slave\'s site; a file from before key lifetimes gets the maximum from its next start', async function () {
      const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r.status !== 'ok') throw new Error(r.status);
      await sites.A!.reconcileOnce();
      const exp = (sites.B!.store.db.prepare('SELECT expires_ms FROM txs').get() as { expires_ms: number }).expires_ms;
      expect(exp).to.equal(clocks.B.t + 100_000);
      crash('B');
      clocks.B.t += 50_000;
      boot('B');
      expect((sites.B!.store.db.prepare('SELECT expires_ms FROM txs').get() as { expires_ms: number }).expires_ms).to.equal(exp);
      // an old file: no expires_ms column
      crash('B');
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(tmp.dir, 'B.db'));
      db.exec('DROP INDEX txs_expiry');
      db.exec('ALTER TABLE txs DROP COLUMN expires_ms');
      db.close();
      boot('B');
      expect((sites.B!.store.db.prepare('SELECT expires_ms FROM txs').get() as { expires_ms: number }).expires_ms).to.equal(clocks.B.t + 100_000);
      clocks.B.t += 99_999;
      expect(sites.B!.sweepKeys()).to.equal(0);
      clocks.B.t += 1;
      expect(sites.B!.sweepKeys()).to.equal(1);
      expect(counts('B').A.reserved).to.equal(0);
    });
  });

  describe('tombstones', function () {
    /** An allocation whose step-2 answer was lost: aborted at both sites, tombstoned at both. */
    async function abortedTx(): Promise<{ txid: string; createdMs: number; seqs: number[] }> {
      plans.A.loseReply = new Set(['reserve']);
      plans.A.drop = new Set(['abort']);
      const createdMs = clocks.A.t;
      expect((await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256)).status).to.equal('peer-unreachable');
      const [tx] = sites.A!.store.txsWhere('A', 'pending');
      const seqs = sites.A!.store.bindingsOf(tx!.txid)[0]!.seqs;
      heal('A');
      await sites.A!.reconcileOnce();
      expect(sites.B!.store.isTombstoned(tx!.txid)).to.equal(true);
      expect(counts('B').A).to.include({ ready: 4, reserved: 0 });
      return { txid: tx!.txid, createdMs, seqs };
    }

    it('kept within the horizon (a late copy of the reservation hits it); pruned after it, and the late copy is then refused by its age', async function () {
      const B = sites.B!;
      const t = await abortedTx();
      clocks.A.t += 100_000;
      clocks.B.t += 100_000;
      expect(B.pruneTombstones()).to.equal(0);
      expect(B.onReserve('A', t.txid, binding('late-1', t.seqs[0]!), t.createdMs)).to.equal('aborted'); // the tombstone
      clocks.A.t += HORIZON;
      clocks.B.t += HORIZON;
      expect(B.pruneTombstones()).to.equal(1);
      expect(sites.A!.pruneTombstones()).to.equal(1); // the coordinator's own tombstone goes too
      expect(B.store.tableCounts().tombstones).to.equal(0);
      expect(B.store.isTombstoned(t.txid)).to.equal(false);
      // the delayed copy arrives now: no tombstone any more, refused by the coordinator's timestamp
      expect(B.onReserve('A', t.txid, binding('late-2', t.seqs[0]!), t.createdMs)).to.equal('aborted');
      expect(counts('B').A).to.include({ ready: 4, reserved: 0 });
      expect(B.store.tx(t.txid)).to.equal(undefined);
      // the reconciler prunes on its own (a second aborted tx, then a pass after the horizon)
      const t2 = await abortedTx();
      clocks.B.t += HORIZON + 1;
      await B.reconcileOnce();
      expect(B.store.isTombstoned(t2.txid)).to.equal(false);
    });

    it('the horizon is tight: tombstone at tb, coordinator clock S ahead; at tb + horizon it still refuses, a millisecond later the age check does', async function () {
      const B = sites.B!;
      const tb = clocks.B.t;
      const txid = '66666666-6666-4666-8666-666666666666';
      expect(B.onAbort('A', txid)).to.equal('unknown'); // abort before the reservation arrived: tombstone at tb
      // the worst case the skew bound allows: step 1 stamped at tb + S by the coordinator's clock
      const createdMs = tb + S;
      clocks.B.t = tb + HORIZON;
      expect(B.pruneTombstones()).to.equal(0);
      expect(clocks.B.t - createdMs).to.equal(M + S); // the oldest age still accepted ...
      expect(B.onReserve('A', txid, binding('w1', 1), createdMs)).to.equal('aborted'); // ... so the tombstone must still be here
      clocks.B.t = tb + HORIZON + 1;
      expect(B.pruneTombstones()).to.equal(1);
      expect(B.onReserve('A', txid, binding('w2', 1), createdMs)).to.equal('aborted'); // one ms too old
      expect(counts('B').A.reserved).to.equal(0);
    });

    it('reservation age: up to maxReservationAgeS + skew old and up to skew ahead is accepted, beyond either refused with nothing reserved', async function () {
      const B = sites.B!;
      const now = clocks.B.t;
      const ids = ['77777777-7777-4777-8777-77777777777a', '77777777-7777-4777-8777-77777777777b', '77777777-7777-4777-8777-77777777777c', '77777777-7777-4777-8777-77777777777d'];
      expect(B.onReserve('A', ids[0]!, binding('a0', 1), now - M - S - 1)).to.equal('aborted');
      expect(() => B.onReserve('A', ids[1]!, binding('a1', 1), now + S + 1)).to.throw(/future/);
      expect(counts('B').A.reserved).to.equal(0);
      expect(B.store.tableCounts().txs).to.equal(0);
      expect(B.onReserve('A', ids[2]!, binding('a2', 1), now - M - S)).to.equal('ok');
      expect(B.onReserve('A', ids[3]!, binding('a3', 3), now + S)).to.equal('ok');
      expect(counts('B').A.reserved).to.equal(2);
      // neither is known to A: presumed abort releases them
      await B.reconcileOnce();
      expect(counts('B').A).to.include({ reserved: 0, ready: 4 });
    });

    it('a soak of aborted allocations: tombstones stay bounded by the horizon\'s worth', async function () {
      const B = sites.B!;
      let peak = 0;
      for (let i = 0; i < 30; i++) {
        await abortedTx();
        clocks.A.t += 60_000;
        clocks.B.t += 60_000; // one abort a minute
        B.sweep();
        sites.A!.sweep();
        peak = Math.max(peak, B.store.tableCounts().tombstones);
      }
      expect(peak).to.be.at.most(Math.ceil(HORIZON / 60_000) + 1);
      expect(sites.A!.store.tableCounts().tombstones).to.be.at.most(Math.ceil(HORIZON / 60_000) + 1);
      clocks.B.t += HORIZON;
      B.sweep();
      expect(B.store.tableCounts().tombstones).to.equal(0);
    });
  });
});
