// ETSI GS QKD 004 key stream lifetime and cleanup at the KME (docs/kme.md, "Key stream lifetime and
// cleanup"): QoS TTL, expiry at both sites, the per-application stream cap, purging a closed stream's
// rows, and that neither an expired nor a purged KSID ever yields its old key material. Time is an
// injected clock (`now`), moved by the tests; nothing sleeps for a TTL.
import { expect } from 'chai';
import { join } from 'node:path';
import { DEFAULT_QOS, Etsi004Client } from '../../lib/qkd/etsi004/client.js';
import { NULL_KSID, type Qos } from '../../lib/qkd/etsi004/codec.js';
import { Etsi004KeyDelivery, parse004KeyId } from '../../lib/qkd/etsi004/key-delivery.js';
import { Status004 } from '../../lib/qkd/etsi004/status.js';
import { KmeBackend004 } from '../../lib/qkd/kme/backend004.js';
import { resolveLimits } from '../../lib/qkd/kme/limits.js';
import { startKmeNetwork, startKmeSite, type KmeNetworkOptions, type RunningKmeNetwork, type RunningKmeSite } from '../../lib/qkd/kme/network.js';
import { KmeSite } from '../../lib/qkd/kme/site.js';
import { KeyStore, type Site } from '../../lib/qkd/kme/store.js';
import { creds, FiniteLink, tempDir, until, same, rejection } from './helpers.js';
import { freePorts } from './spawn-kme.js';
import { bootTestSite, type PeerOp } from '../helpers/kme-test-sites.js';


/** The per-stream rows of a site's store (units are the link's, counted separately). */
function streamRows(site: KmeSite): { streams: number; chunks: number; keys: number; deliveries: number; txs: number } {
  const c = site.store.tableCounts();
  return { streams: c.streams, chunks: c.chunks, keys: c.keys, deliveries: c.deliveries, txs: c.txs };
}
const NO_ROWS = { streams: 0, chunks: 0, keys: 0, deliveries: 0, txs: 0 };

/** The unit seqs a stream's chunks are cut from, at this site (before the rows are purged). */
function chunkSeqs(site: KmeSite, ksid: string): number[] {
  const rows = site.store.db.prepare('SELECT seqs FROM keys WHERE ksid = ?').all(ksid) as { seqs: string }[];
  return rows.flatMap((r) => JSON.parse(r.seqs) as number[]);
}

function unitStates(site: KmeSite, seqs: number[]): { state: string; erased: boolean }[] {
  const all = new Map(site.store.dumpUnits().map((u) => [u.seq, u]));
  return seqs.map((s) => ({ state: all.get(s)!.state, erased: all.get(s)!.bytes === null }));
}

interface Clocked {
  net: RunningKmeNetwork;
  tmp: ReturnType<typeof tempDir>;
  clock: { t: number };
  client(kme: Site, sae: string): Etsi004Client;
  stop(): Promise<void>;
}

async function clockedNetwork(prefix: string, o: Partial<KmeNetworkOptions>): Promise<Clocked> {
  const tmp = tempDir(prefix);
  const clock = { t: Date.now() };
  const net = await startKmeNetwork({ dataDir: tmp.dir, reconcileMs: 200, now: () => clock.t, ...o });
  const open: Etsi004Client[] = [];
  return {
    net,
    tmp,
    clock,
    client: (kme, sae) => {
      const c = new Etsi004Client({ host: '127.0.0.1', port: net[kme].port004, ...creds(net.pki, sae) });
      open.push(c);
      return c;
    },
    stop: async () => {
      for (const c of open) c.end();
      await net.close();
      tmp.remove();
    },
  };
}

describe('ETSI GS QKD 004 key stream lifetime (KME)', function () {
  describe('QoS TTL', function () {
    let h: Clocked;
    before(async function () {
      h = await clockedNetwork('004-ttl', { limits: { maxKeyCount: 32, maxStreamTtlS: 60 } });
      await until(() => h.net.sites.A.storedKeyCount() >= 8, 'pool filled');
    });
    after(async () => h?.stop());

    it('TTL 0 gets the KME maximum; a TTL within it is kept; more is status 7 with the maximum as counter-proposal', async function () {
      const a = h.client('A', 'sae-a');
      const dflt = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 0 });
      expect(dflt.status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect(dflt.qos.ttl).to.equal(60);
      expect(h.net.sites.A.store.stream(dflt.ksid)!.expiresMs).to.equal(h.clock.t + 60_000);

      const short = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 30 });
      expect(short.status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect(short.qos.ttl).to.equal(30);
      // both sites close it 30 s from now: the announcement carries the remaining lifetime
      expect(h.net.sites.A.store.stream(short.ksid)!.expiresMs).to.equal(h.clock.t + 30_000);
      expect(h.net.sites.B.store.stream(short.ksid)!.expiresMs).to.equal(h.clock.t + 30_000);

      const long = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 61, keyChunkSize: 100_000 });
      expect(long.status).to.equal(Status004.QOS_NOT_MET);
      expect(long.ksid).to.equal(NULL_KSID);
      expect(long.qos).to.include({ ttl: 60, keyChunkSize: 512 });

      // the peer joining is told the stream's TTL, whatever it asked
      const b = h.client('B', 'sae-b');
      const j = await b.openConnect('sae:sae-b', 'sae:sae-a', { ttl: 0 }, short.ksid);
      expect(j.status).to.equal(Status004.SUCCESS);
      expect(j.qos.ttl).to.equal(30);
      for (const k of [dflt.ksid, short.ksid]) expect((await a.close(k)).status).to.equal(0);
      expect((await b.close(short.ksid)).status).to.equal(0);
    });
  });

  describe('expiry (known supply: 8 units per site)', function () {
    let h: Clocked;
    beforeEach(async function () {
      h = await clockedNetwork('004-exp', { link: new FiniteLink(4, 1024) }); // 16 units of 32 bytes
      await until(
        () => ['A', 'B'].every((s) => { const c = h.net.sites[s as Site].store.counts(); return c.A.ready === 8 && c.B.ready === 8; }),
        'supply stored at both sites',
      );
    });
    afterEach(async () => h?.stop());

    it('closes the stream at both sites: undelivered chunks are erased, their units leave the reserved pool, GET_KEY and CLOSE answer 3, no rows remain', async function () {
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      const o = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 10 });
      expect(o.status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect((await a.getKey(o.ksid, 0)).status).to.equal(0);
      expect((await a.getKey(o.ksid, 1)).status).to.equal(0);
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
      expect((await b.getKey(o.ksid, 0)).status).to.equal(0);
      expect((await b.getKey(o.ksid, 2)).status).to.equal(0); // allocated for both; sae-a never fetches it
      // index 1 waits at B for sae-b, index 2 at A for sae-a: one reserved unit at each site
      await until(
        () => A.store.counts().A.reserved === 1 && B.store.counts().A.reserved === 1 && B.store.txsWhere('A', 'pending').length === 0,
        'one undelivered (confirmed) chunk per site',
      );
      const reserved = (s: KmeSite) => s.store.dumpUnits().filter((u) => u.state === 'reserved').map((u) => u.seq);
      const seqs = [...reserved(A), ...reserved(B)];
      expect(seqs).to.have.length(2);
      expect(new Set(seqs).size).to.equal(2);
      expect(A.store.counts().A.ready).to.equal(5);

      h.clock.t += 9_999;
      A.sweepStreams();
      B.sweepStreams();
      expect(A.store.stream(o.ksid)!.closed).to.equal(false);
      h.clock.t += 1; // the TTL is over

      // site A notices lazily, on the next 004 call; site B in its periodic sweep
      expect((await a.getKey(o.ksid, 3)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
      B.sweepStreams();
      expect((await b.getKey(o.ksid, 1)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED); // its pending chunk is gone
      expect((await a.close(o.ksid)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
      expect((await b.close(o.ksid)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);

      for (const s of [A, B]) {
        expect(s.store.counts().A.reserved).to.equal(0);
        expect(unitStates(s, seqs)).to.deep.equal([{ state: 'spent', erased: true }, { state: 'spent', erased: true }]);
        expect(s.store.counts().A.ready).to.equal(5); // nothing returned to the pool, nothing else taken
      }
      await until(() => [A, B].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'rows purged at both sites');
      // an expired KSID is not reopened: the owner gets a new stream with fresh units, never the old chunks
      const again = await a.openConnect('sae:sae-a', 'sae:sae-b', {}, o.ksid);
      expect(again.status).to.equal(Status004.PEER_NOT_CONNECTED);
      const fresh = await a.getKey(o.ksid, 2);
      expect(fresh.status).to.equal(0);
      expect(chunkSeqs(A, o.ksid).some((s) => seqs.includes(s))).to.equal(false);
    });

    it('a client that never CLOSEs: its streams expire and their reserved units are freed (erased), rows gone', async function () {
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      const ksids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
        expect((await a.getKey(o.ksid, 0)).status).to.equal(0);
        ksids.push(o.ksid);
      }
      a.end(); // gone without CLOSE; sae-b never joins
      await until(() => B.store.counts().A.reserved === 3, 'chunks held at B for sae-b');
      expect(streamRows(B).streams).to.equal(3);
      h.clock.t += 3600 * 1000; // the default maximum lifetime
      A.sweepStreams();
      B.sweepStreams();
      // (a confirmation still on its way to B is forfeited there on arrival; A forgets its txs once B
      // acknowledged them — both in the background)
      await until(() => [A, B].every((s) => s.store.counts().A.reserved === 0), 'reserved units erased at both sites');
      await until(() => [A, B].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'rows purged at both sites');
      expect(B.store.counts().A.ready).to.equal(5);
    });
  });

  describe('cleanup, the cap, and old key material', function () {
    let h: Clocked;
    before(async function () {
      h = await clockedNetwork('004-clean', { saeA: ['sae-a', 'sae-x'], limits: { maxKeyCount: 256, maxOpenStreamsPerApp: 3 } });
      await until(() => h.net.sites.A.storedKeyCount() >= 200 && h.net.sites.B.storedKeyCount() >= 64, 'pools filled');
    });
    after(async () => h?.stop());
    afterEach(async function () {
      // every test leaves its streams closed; the next starts from no stream rows
      h.clock.t += 3600 * 1000;
      h.net.sites.A.sweepStreams();
      h.net.sites.B.sweepStreams();
      await until(() => [h.net.sites.A, h.net.sites.B].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'no stream rows');
    });

    it('a stream opened, used and closed by both applications leaves no rows at either site', async function () {
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
      for (const i of [0, 1]) expect((await a.getKey(o.ksid, i)).status).to.equal(0);
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
      for (const i of [0, 1, 2]) expect((await b.getKey(o.ksid, i)).status).to.equal(0); // 2: sae-a never fetches it
      expect(streamRows(A).streams).to.equal(1);
      expect(streamRows(A).chunks).to.equal(3);
      expect((await b.close(o.ksid)).status).to.equal(0);
      expect((await a.close(o.ksid)).status).to.equal(0); // forfeits index 2
      await until(() => [A, B].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'rows purged at both sites');
      expect(A.store.counts().A.reserved).to.equal(0);
      expect(B.store.counts().A.reserved).to.equal(0);
    });

    it('the peer application left: the owner\'s GET_KEY of a new index answers 3 and reserves nothing', async function () {
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
      expect((await b.close(o.ksid)).status).to.equal(0);
      const before = { a: A.store.counts().A, b: B.store.counts().A };
      expect((await a.getKey(o.ksid, 0)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
      await until(() => A.store.txsWhere('A', 'pending').length === 0, 'the refused reservation rolled back');
      expect(A.store.counts().A.reserved).to.equal(before.a.reserved);
      expect(B.store.counts().A.reserved).to.equal(before.b.reserved);
      expect((await a.close(o.ksid)).status).to.equal(0);
    });

    it('the cap: OPEN_CONNECT beyond maxOpenStreamsPerApp answers 4; CLOSE or expiry makes room; joins count, other applications do not', async function () {
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      const mine: string[] = [];
      for (let i = 0; i < 3; i++) {
        const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
        expect(o.status).to.equal(Status004.PEER_NOT_CONNECTED);
        mine.push(o.ksid);
      }
      const over = await a.openConnect('sae:sae-a', 'sae:sae-b');
      expect(over.status).to.equal(Status004.NO_QKD_CONNECTION);
      expect(over.ksid).to.equal(NULL_KSID);
      expect(h.net.sites.A.store.tableCounts().streams).to.equal(3); // nothing created, nothing announced
      expect(h.net.sites.B.store.tableCounts().streams).to.equal(3);
      // another application of the same KME is not affected
      expect((await h.client('A', 'sae-x').openConnect('sae:sae-x', 'sae:sae-b')).status).to.equal(Status004.PEER_NOT_CONNECTED);
      // CLOSE frees a place
      expect((await a.close(mine[0]!)).status).to.equal(0);
      const o4 = await a.openConnect('sae:sae-a', 'sae:sae-b');
      expect(o4.status).to.equal(Status004.PEER_NOT_CONNECTED);
      mine[0] = o4.ksid;
      // the peer application's joins count for it: sae-b joins three, the fourth is refused
      for (const k of mine) expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, k)).status).to.equal(0);
      const x = await h.client('A', 'sae-x').openConnect('sae:sae-x', 'sae:sae-b');
      expect(x.status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect((await b.openConnect('sae:sae-b', 'sae:sae-x', {}, x.ksid)).status).to.equal(Status004.NO_QKD_CONNECTION);
      // expiry frees every place
      h.clock.t += 3600 * 1000;
      expect((await a.openConnect('sae:sae-a', 'sae:sae-b')).status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect(h.net.sites.A.store.openStreamCount('sae-a')).to.equal(1);
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a')).status).to.equal(Status004.PEER_NOT_CONNECTED);
    });

    it('a purged KSID reused: fresh key material for both sides, never the old chunks; refused (5) while the peer site still holds the old stream', async function () {
      const { A, B } = h.net.sites;
      const ksid = '0e1d2c3b-4a59-4687-9564-738291a0b1c2';
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      expect((await a.openConnect('sae:sae-a', 'sae:sae-b', {}, ksid)).status).to.equal(Status004.PEER_NOT_CONNECTED);
      const old0 = await a.getKey(ksid, 0);
      expect(old0.status).to.equal(0);
      expect((await a.close(ksid)).status).to.equal(0);
      await until(() => A.store.stream(ksid) === undefined, 'purged at A');
      expect(B.store.stream(ksid)!.closed).to.equal(false); // sae-b's copy of index 0 still waits at B

      // B still holds the old stream (with a chunk for sae-b): the KSID is in use; and at A nothing is left over
      expect((await a.openConnect('sae:sae-a', 'sae:sae-b', {}, ksid)).status).to.equal(Status004.KSID_IN_USE);
      expect(A.store.stream(ksid)).to.equal(undefined);
      // sae-b fetches its copy, once, and leaves: B purges too
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, ksid)).status).to.equal(0);
      const b0 = await b.getKey(ksid, 0);
      expect(same(b0.key, old0.key)).to.equal(true);
      expect((await b.close(ksid)).status).to.equal(0);
      await until(() => B.store.stream(ksid) === undefined, 'purged at B');

      // now the KSID is free at both sites: a new stream, whose index 0 is new key material at both sides
      expect((await a.openConnect('sae:sae-a', 'sae:sae-b', {}, ksid)).status).to.equal(Status004.PEER_NOT_CONNECTED);
      expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, ksid)).status).to.equal(0);
      const n0 = await a.getKey(ksid, 0);
      const nb0 = await b.getKey(ksid, 0);
      expect(n0.status).to.equal(0);
      expect(nb0.status).to.equal(0);
      expect(same(n0.key, nb0.key)).to.equal(true);
      expect(same(n0.key, old0.key)).to.equal(false);
      for (const c of [a, b]) expect((await c.close(ksid)).status).to.equal(0);
    });

    it('soak: 200 streams opened, used and closed by both applications keep the row counts bounded', async function () {
      this.timeout(60_000);
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      const b = h.client('B', 'sae-b');
      const peak = { A: 0, B: 0 };
      const sum = (r: ReturnType<typeof streamRows>): number => r.streams + r.chunks + r.keys + r.deliveries + r.txs;
      for (let i = 0; i < 200; i++) {
        const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
        expect(o.status).to.equal(Status004.PEER_NOT_CONNECTED);
        let k = await a.getKey(o.ksid, 0);
        for (let tries = 0; k.status === Status004.INSUFFICIENT_KEY && tries < 200; tries++) {
          await new Promise((r) => setTimeout(r, 10)); // the filler tops the pool up
          k = await a.getKey(o.ksid, 0);
        }
        expect(k.status).to.equal(0);
        expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
        expect(same((await b.getKey(o.ksid, 0)).key, k.key)).to.equal(true);
        expect((await b.close(o.ksid)).status).to.equal(0);
        expect((await a.close(o.ksid)).status).to.equal(0);
        peak.A = Math.max(peak.A, sum(streamRows(A)));
        peak.B = Math.max(peak.B, sum(streamRows(B)));
      }
      // a stream's rows live from its OPEN_CONNECT to the last acknowledgement after its CLOSEs: the peak
      // is a few streams' worth (one in use, a confirmation or two in flight), never the 200 opened
      expect(peak.A).to.be.lessThan(20);
      expect(peak.B).to.be.lessThan(20);
      await until(() => [A, B].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'rows purged at both sites');
      // the 200+ units spent are compacted away too (B's pool, never used here, does not hold them back)
      A.store.compact();
      B.store.compact();
      expect(A.store.tableCounts().units).to.be.at.most(2 * 256 + 8);
      expect(B.store.tableCounts().units).to.be.at.most(2 * 256 + 8);
    });

    it('soak without CLOSE by the peer: 100 streams the slave never joins are held until their TTL, then all purged', async function () {
      this.timeout(60_000);
      const { A, B } = h.net.sites;
      const a = h.client('A', 'sae-a');
      for (let i = 0; i < 100; i++) {
        const o = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 120 });
        let k = await a.getKey(o.ksid, 0);
        for (let tries = 0; k.status === Status004.INSUFFICIENT_KEY && tries < 200; tries++) {
          await new Promise((r) => setTimeout(r, 10));
          k = await a.getKey(o.ksid, 0);
        }
        expect(k.status).to.equal(0);
        expect((await a.close(o.ksid)).status).to.equal(0);
      }
      await until(() => streamRows(A).streams === 0, 'the owner side purged at once');
      expect(streamRows(B).streams).to.equal(100); // sae-b may still join each of them until the TTL
      h.clock.t += 120_000;
      B.sweepStreams();
      expect(streamRows(B)).to.deep.equal(NO_ROWS);
      expect(B.store.counts().A.reserved).to.equal(0);
    });
  });

  describe('Etsi004KeyDelivery and stream lifetimes', function () {
    let h: Clocked;
    before(async function () {
      h = await clockedNetwork('004-kd', { limits: { maxKeyCount: 64, maxStreamTtlS: 40 } });
      await until(() => h.net.sites.A.storedKeyCount() >= 32, 'pool filled');
    });
    after(async () => h?.stop());

    it('the master moves to a new stream before its TTL ends (the slave still fetches the old key) and when the KME closed it', async function () {
      const clientClock = { t: Date.now() };
      const opts = (sae: string, site: Site) => ({ host: '127.0.0.1', port: h.net[site].port004, ...creds(h.net.pki, sae), saeId: sae, now: () => clientClock.t });
      const m = new Etsi004KeyDelivery(opts('sae-a', 'A'));
      const s = new Etsi004KeyDelivery(opts('sae-b', 'B'));
      try {
        const k1 = await m.getKey('sae-b', { sizeBits: 256 });
        const k2 = await m.getKey('sae-b', { sizeBits: 256 });
        expect(parse004KeyId(k2.keyId)!.ksid).to.equal(parse004KeyId(k1.keyId)!.ksid);
        // TTL 40 s, margin 10 s: after 30 s the master takes a new stream and CLOSEs the old one
        clientClock.t += 30_000;
        h.clock.t += 30_000;
        const k3 = await m.getKey('sae-b', { sizeBits: 256 });
        const ks1 = parse004KeyId(k1.keyId)!.ksid;
        expect(parse004KeyId(k3.keyId)).to.deep.equal({ ksid: parse004KeyId(k3.keyId)!.ksid, index: 0 });
        expect(parse004KeyId(k3.keyId)!.ksid).to.not.equal(ks1);
        await until(() => h.net.sites.A.store.stream(ks1)?.closed !== false, 'old stream closed at A');
        // the slave still gets the keys of the old stream from its KME
        expect(same((await s.getKeyById('sae-a', k2.keyId, { sizeBits: 256 })).key, k2.key)).to.equal(true);
        expect(same((await s.getKeyById('sae-a', k3.keyId, { sizeBits: 256 })).key, k3.key)).to.equal(true);

        // the KME's clock runs ahead: the stream expires there before the master planned; GET_KEY says 3,
        // the master opens a new stream and the call still succeeds
        h.clock.t += 40_000;
        const k4 = await m.getKey('sae-b', { sizeBits: 256 });
        expect(parse004KeyId(k4.keyId)!.ksid).to.not.equal(parse004KeyId(k3.keyId)!.ksid);
        expect(same((await s.getKeyById('sae-a', k4.keyId, { sizeBits: 256 })).key, k4.key)).to.equal(true);
        // a key of an expired stream is gone for the slave
        expect((await rejection(s.getKeyById('sae-a', k1.keyId, { sizeBits: 256 }))).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
      } finally {
        await m.close();
        await s.close();
      }
    });
  });

  describe('two processes\' worth: sites talking HTTPS', function () {
    it('announcement carries the remaining lifetime; a reservation for a stream the peer closed is refused (3); expiry purges both', async function () {
      this.timeout(30_000);
      const tmp = tempDir('004-https');
      const clock = { t: Date.now() };
      const [pa, pb, p4a, p4b] = await freePorts(4);
      const common = { dataDir: tmp.dir, reconcileMs: 200, now: () => clock.t, limits: { maxKeyCount: 32, maxStreamTtlS: 50 } };
      let sa: RunningKmeSite | undefined;
      let sb: RunningKmeSite | undefined;
      const clients: Etsi004Client[] = [];
      try {
        sa = await startKmeSite({ ...common, site: 'A', peerUrl: `https://127.0.0.1:${pb}`, port: pa, port004: p4a });
        sb = await startKmeSite({ ...common, site: 'B', peerUrl: `https://127.0.0.1:${pa}`, port: pb, port004: p4b });
        await until(() => sa!.site.storedKeyCount() >= 8 && sb!.site.store.counts().A.ready >= 8, 'pools filled', 20_000);
        const a = new Etsi004Client({ host: '127.0.0.1', port: p4a!, ...creds(sa.pki, 'sae-a') });
        const b = new Etsi004Client({ host: '127.0.0.1', port: p4b!, ...creds(sa.pki, 'sae-b') });
        clients.push(a, b);
        const o = await a.openConnect('sae:sae-a', 'sae:sae-b', { ttl: 20 });
        expect(o.status).to.equal(Status004.PEER_NOT_CONNECTED);
        expect(sb.site.store.stream(o.ksid)!.expiresMs).to.equal(clock.t + 20_000);
        expect((await a.getKey(o.ksid, 0)).status).to.equal(0);
        expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
        expect((await b.getKey(o.ksid, 1)).status).to.equal(0);
        expect((await b.close(o.ksid)).status).to.equal(0); // forfeits index 0 at B
        expect((await a.getKey(o.ksid, 2)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
        clock.t += 20_000;
        sa.site.sweepStreams();
        sb.site.sweepStreams();
        expect((await a.getKey(o.ksid, 1)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
        await until(() => [sa!.site, sb!.site].every((s) => JSON.stringify(streamRows(s)) === JSON.stringify(NO_ROWS)), 'rows purged at both sites');
        expect(sa.site.store.counts().A.reserved).to.equal(0);
        expect(sb.site.store.counts().A.reserved).to.equal(0);
      } finally {
        for (const c of clients) c.end();
        await sa?.close();
        await sb?.close();
        tmp.remove();
      }
    });
  });
});

// ---- the same rules at protocol level: a KME backend over two KmeSite objects, peers that can fail ---

describe('ETSI GS QKD 004 stream lifetime: protocol level', function () {
  let tmp: ReturnType<typeof tempDir>;
  const clock = { t: 1_000_000 };
  const sites: Partial<Record<Site, KmeSite>> = {};
  const plans: Record<Site, { drop?: Set<PeerOp> }> = { A: {}, B: {} };
  const limits = resolveLimits({ maxKeyCount: 100, maxStreamTtlS: 100 });

  /** (Re)start a site over its store; its calls to the peer go through plans[site]. */
  const boot = (site: Site): KmeSite => bootTestSite(site, { dir: tmp.dir, limits, sites, plans, now: () => clock.t });


  const qos = (q: Partial<Qos> = {}): Qos => ({ ...DEFAULT_QOS, ...q });
  const open = (site: Site, ksid = NULL_KSID, q: Partial<Qos> = {}) => {
    const me = site === 'A' ? 'sae-a' : 'sae-b';
    const peer = site === 'A' ? 'sae-b' : 'sae-a';
    return new KmeBackend004(sites[site]!).openConnect(me, { type: 'open-connect-request', source: `sae:${me}`, destination: `sae:${peer}`, qos: qos(q), ksid });
  };
  const getKey = (site: Site, ksid: string, index: number) =>
    new KmeBackend004(sites[site]!).getKey(site === 'A' ? 'sae-a' : 'sae-b', { type: 'get-key-request', ksid, index, metadataSize: 0 });
  const close = (site: Site, ksid: string) => new KmeBackend004(sites[site]!).close(site === 'A' ? 'sae-a' : 'sae-b', ksid);

  beforeEach(function () {
    tmp = tempDir('004-life-proto');
    plans.A = {};
    plans.B = {};
    boot('A');
    boot('B');
    const units = Array.from({ length: 16 }, (_, i) => ({ owner: (i % 2 === 0 ? 'A' : 'B') as Site, bytes: new Uint8Array(32).fill(i + 1) }));
    const stored = sites.A!.store.addPendingUnits(units);
    sites.B!.store.storePeerUnits(stored);
    sites.A!.store.markUnitsReady(stored.map((u) => u.seq));
  });

  afterEach(async function () {
    for (const s of ['A', 'B'] as Site[]) if (sites[s]) await sites[s]!.close();
    delete sites.A;
    delete sites.B;
    tmp.remove();
  });

  it('an expired stream whose last confirmation is unacknowledged stays closed (5 on OPEN_CONNECT, 3 on GET_KEY) until the reconciler finishes; then its rows go', async function () {
    const A = sites.A!;
    const ksid = '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b';
    expect((await open('A', ksid)).status).to.equal(Status004.PEER_NOT_CONNECTED);
    plans.A.drop = new Set(['confirm']); // "confirmed" never reaches B: A must keep the tx
    const k0 = await getKey('A', ksid, 0);
    expect(k0.status).to.equal(0);
    clock.t += 100_000;
    A.sweepStreams();
    expect(A.store.stream(ksid)!.closed).to.equal(true); // held: the tx waits for B's acknowledgement
    expect(A.store.tableCounts().chunks).to.equal(1);
    expect((await open('A', ksid)).status).to.equal(Status004.KSID_IN_USE); // not resurrected
    expect((await getKey('A', ksid, 0)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
    expect((await getKey('A', ksid, 1)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
    delete plans.A.drop;
    await A.reconcileOnce(); // confirm re-sent and acknowledged: the tx finishes, the stream is purged
    expect(A.store.stream(ksid)).to.equal(undefined);
    expect(A.store.tableCounts()).to.include({ streams: 0, chunks: 0, keys: 0, deliveries: 0, txs: 0 });
    // B (expired too, its copy for sae-b forfeited) purges in its sweep
    sites.B!.sweepStreams();
    expect(sites.B!.store.tableCounts()).to.include({ streams: 0, chunks: 0, keys: 0, deliveries: 0, txs: 0 });
    expect(sites.B!.store.counts().A.reserved).to.equal(0);
  });

  it('a chunk confirmed after its stream closed is forfeited at once, never handed out', async function () {
    const A = sites.A!;
    const B = sites.B!;
    const o = await open('A');
    expect((await open('B', o.ksid)).status).to.equal(0);
    plans.A.drop = new Set(['confirm']);
    expect((await getKey('A', o.ksid, 0)).status).to.equal(0); // B holds the tx pending
    expect(B.store.txsWhere('A', 'pending')).to.have.length(1);
    expect((await close('B', o.ksid)).status).to.equal(0); // nothing confirmed to forfeit yet
    expect(B.store.stream(o.ksid)!.closed).to.equal(true);
    delete plans.A.drop;
    await B.reconcileOnce(); // B resolves: confirmed — and forfeits it in the same step
    expect(B.store.counts().A.reserved).to.equal(0);
    expect(B.store.stream(o.ksid)).to.equal(undefined);
    expect((await getKey('B', o.ksid, 0)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
    await A.reconcileOnce();
    expect((await close('A', o.ksid)).status).to.equal(0);
    expect(A.store.tableCounts()).to.include({ streams: 0, chunks: 0, keys: 0, deliveries: 0, txs: 0 });
  });

  it('re-announcement of the same stream is accepted; an announcement nobody used may be replaced; a used or closed one may not', function () {
    const B = sites.B!;
    const base = { ksid: '2a3b4c5d-6e7f-4081-9283-a4b5c6d7e8f9', ownerApp: 'sae-a', peerApp: 'sae-b', chunkBytes: 32, qos: '{}', ttlMs: 50_000 };
    expect(B.onAnnounceStream('A', { ...base, gen: 'g1' })).to.equal('ok');
    expect(B.onAnnounceStream('A', { ...base, gen: 'g1' })).to.equal('ok');
    expect(B.store.stream(base.ksid)!.expiresMs).to.equal(clock.t + 50_000);
    expect(B.onAnnounceStream('A', { ...base, gen: 'g2', ttlMs: 500_000 })).to.equal('ok'); // untouched: replaced
    expect(B.store.stream(base.ksid)).to.include({ gen: 'g2', expiresMs: clock.t + 100_000 }); // capped at B's maximum
    B.store.setStreamFlags(base.ksid, { localOpen: true }); // sae-b joined
    expect(B.onAnnounceStream('A', { ...base, gen: 'g3' })).to.equal('in-use');
    B.closeStream(base.ksid, 'close');
    expect(B.store.stream(base.ksid)).to.equal(undefined); // nothing in it: purged at once
  });

  it('a file from before stream lifetimes: streams get the maximum lifetime from now, CLOSEd owner streams count as closed', function () {
    const A = sites.A!;
    A.store.db.exec('DROP INDEX streams_expiry');
    A.store.db.exec('ALTER TABLE streams DROP COLUMN closed');
    A.store.db.exec('ALTER TABLE streams DROP COLUMN expires_ms');
    A.store.db.exec('ALTER TABLE streams DROP COLUMN gen');
    const ins = A.store.db.prepare(
      "INSERT INTO streams (ksid, owner_site, owner_app, peer_app, chunk_bytes, announced, local_open, qos, created_ms) VALUES (?, 'A', 'sae-a', 'sae-b', 32, 1, ?, '{}', 0)",
    );
    ins.run('3a3b4c5d-6e7f-4081-9283-a4b5c6d7e8f9', 1);
    ins.run('4a3b4c5d-6e7f-4081-9283-a4b5c6d7e8f9', 0);
    A.store.close();
    const re = new KeyStore(join(tmp.dir, 'A.db'), 'A', 32);
    const s2 = new KmeSite({ ...siteOpts(re), now: () => clock.t });
    expect(re.stream('3a3b4c5d-6e7f-4081-9283-a4b5c6d7e8f9')).to.include({ closed: false, expiresMs: clock.t + 100_000 });
    s2.sweepStreams();
    expect(re.stream('4a3b4c5d-6e7f-4081-9283-a4b5c6d7e8f9')).to.equal(undefined); // closed and empty: purged
    re.close();
    delete sites.A;

    function siteOpts(store: KeyStore) {
      return { site: 'A' as Site, kmeId: 'kme-a', peerKmeId: 'kme-b', localSaes: ['sae-a'], peerSaes: ['sae-b'], store, limits };
    }
  });
});
