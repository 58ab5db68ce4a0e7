// The reservation protocol between two KME sites (docs/kme.md), step by step, with the failures a crash
// or a lost message produces, injected deterministically. A "restart" is a fresh KmeSite over the same
// SQLite file.
import { expect } from 'chai';
import { resolveLimits } from '../../lib/qkd/kme/limits.js';
import { KmeSite } from '../../lib/qkd/kme/site.js';
import type { Site } from '../../lib/qkd/kme/store.js';
import { tempDir } from './helpers.js';
import { bootTestSite, type PeerOp } from '../helpers/kme-test-sites.js';

const limits = resolveLimits({ maxKeyCount: 100 });

/** A peer whose calls can be dropped before delivery, or have their answer lost after delivery. */

describe('KME reservation protocol under failures', function () {
  let tmp: ReturnType<typeof tempDir>;
  const sites: Partial<Record<Site, KmeSite>> = {};
  const plans: Record<Site, { down?: boolean; drop?: Set<PeerOp>; loseReply?: Set<PeerOp> }> = { A: {}, B: {} };

  /** (Re)start a site over its store; its calls to the peer go through plans[site]. */
  const boot = (site: Site): KmeSite => bootTestSite(site, { dir: tmp.dir, limits, sites, plans });


  /** A crash: the site object is dropped without any cleanup; its file stays as the last commit left it. */
  function crash(site: Site): void {
    const s = sites[site]!;
    s.closed = true;
    s.store.close();
    delete sites[site];
  }

  function fill(n: number): void {
    const units = Array.from({ length: n }, (_, i) => ({ owner: (i % 2 === 0 ? 'A' : 'B') as Site, bytes: new Uint8Array(32).fill(i + 1) }));
    const stored = sites.A!.store.addPendingUnits(units);
    sites.B!.store.storePeerUnits(stored);
    sites.A!.store.markUnitsReady(stored.map((u) => u.seq));
  }

  const counts = (s: Site) => sites[s]!.store.counts();
  /** The network heals (the plan object is shared with the site's peer wrapper). */
  const heal = (s: Site): void => {
    delete plans[s].down;
    delete plans[s].drop;
    delete plans[s].loseReply;
  };

  beforeEach(function () {
    tmp = tempDir('proto');
    heal('A');
    heal('B');
    boot('A');
    boot('B');
    fill(8); // 4 units owned by each site
  });

  afterEach(async function () {
    for (const s of ['A', 'B'] as Site[]) if (sites[s]) await sites[s]!.close();
    delete sites.A;
    delete sites.B;
    tmp.remove();
  });

  it('normal run: master served in step 3, slave after the confirmation', async function () {
    const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
    expect(r.status).to.equal('ok');
    if (r.status !== 'ok') return;
    const d = await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId]);
    expect(d.status).to.equal('ok');
    if (d.status === 'ok') expect(Buffer.from(d.keys[0]!.bytes)).to.deep.equal(Buffer.from(r.keys[0]!.bytes));
    expect(counts('A').A.ready).to.equal(3);
    expect(counts('B').A.ready).to.equal(3);
  });

  it('coordinator dies after step 1: the restart aborts at the peer, then releases; nothing is lost', async function () {
    plans.A.drop = new Set(['reserve', 'abort']); // step 2 never leaves, and the request path cannot abort either
    const r = await sites.A!.encKeys('sae-a', ['sae-b'], 2, 256);
    expect(r.status).to.equal('peer-unreachable');
    expect(counts('A').A).to.include({ ready: 2, reserved: 2 });
    crash('A');
    heal('A');
    boot('A');
    await sites.A!.reconcileOnce();
    expect(counts('A').A).to.include({ ready: 4, reserved: 0 });
    expect(counts('B').A).to.include({ ready: 4, reserved: 0 });
  });

  it('participant commits step 2 but its answer is lost: abort at both, and a late duplicate reservation is refused', async function () {
    plans.A.loseReply = new Set(['reserve']);
    plans.A.drop = new Set(['abort']);
    const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
    expect(r.status).to.equal('peer-unreachable');
    expect(counts('B').A.reserved).to.equal(1); // B holds it pending
    const [tx] = sites.A!.store.txsWhere('A', 'pending');
    heal('A');
    await sites.A!.reconcileOnce();
    expect(counts('A').A.ready).to.equal(4);
    expect(counts('B').A.ready).to.equal(4);
    // the reservation message, delayed in the network, arrives now: refused by the tombstone
    const late = sites.B!.onReserve('A', tx!.txid, [{ keyId: 'k', master: 'sae-a', slaves: ['sae-b'], sizeBits: 256, seqs: [1] }], tx!.createdMs);
    expect(late).to.equal('aborted');
    expect(counts('B').A.ready).to.equal(4);
  });

  it('coordinator decided (step 3) but "confirmed" never reached the peer: the slave is served after resolving', async function () {
    plans.A.drop = new Set(['confirm']);
    const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
    expect(r.status).to.equal('ok');
    if (r.status !== 'ok') return;
    expect(sites.B!.store.txsWhere('A', 'pending')).to.have.length(1);
    crash('A');
    heal('A');
    boot('A');
    const d = await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId]);
    expect(d.status).to.equal('ok');
    if (d.status === 'ok') expect(Buffer.from(d.keys[0]!.bytes)).to.deep.equal(Buffer.from(r.keys[0]!.bytes));
    const again = await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId]);
    expect(again.status).to.equal('not-found');
    await sites.A!.reconcileOnce(); // confirm finally acknowledged; the coordinator forgets the tx
    expect(sites.A!.store.txsWhere('A', 'confirmed')).to.have.length(0);
  });

  it('while the coordinator is unreachable a pending key is not handed to the slave (503), and nothing is decided by the participant', async function () {
    plans.A.drop = new Set(['confirm']);
    const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
    if (r.status !== 'ok') throw new Error('expected ok');
    plans.B.down = true;
    const d = await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId]);
    expect(d.status).to.equal('peer-unreachable');
    expect(sites.B!.store.txsWhere('A', 'pending')).to.have.length(1);
    plans.B.down = false;
    expect((await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId])).status).to.equal('ok');
  });

  it('presumed abort: a participant whose coordinator never heard of the tx releases its units', async function () {
    const t = '22222222-2222-4222-8222-222222222222';
    expect(sites.B!.onReserve('A', t, [{ keyId: 'x', master: 'sae-a', slaves: ['sae-b'], sizeBits: 256, seqs: [1] }], Date.now())).to.equal('ok');
    expect(counts('B').A.reserved).to.equal(1);
    await sites.B!.reconcileOnce();
    expect(counts('B').A).to.include({ ready: 4, reserved: 0 });
  });

  it('the participant refuses units that are not the coordinator\'s, or are taken', async function () {
    const t1 = '33333333-3333-4333-8333-333333333333';
    expect(() => sites.B!.onReserve('A', t1, [{ keyId: 'y', master: 'sae-a', slaves: ['sae-b'], sizeBits: 256, seqs: [2] }], Date.now())).to.throw(/not the coordinator/);
    await sites.B!.encKeys('sae-b', ['sae-a'], 1, 256); // B takes its unit 2
    const t2 = '44444444-4444-4444-8444-444444444444';
    expect(() => sites.A!.onReserve('B', t2, [{ keyId: 'z', master: 'sae-b', slaves: ['sae-a'], sizeBits: 256, seqs: [2] }], Date.now())).to.throw(/reserved|spent/);
  });

  it('filling: units pushed twice are stored once; the same seq with other bytes is refused', function () {
    const again = sites.A!.store.dumpUnits().map((u) => ({ seq: u.seq, owner: u.owner, bytes: new Uint8Array(u.bytes!) }));
    sites.B!.store.storePeerUnits(again);
    expect(sites.B!.store.dumpUnits()).to.have.length(8);
    const forged = { ...again[0]!, bytes: new Uint8Array(32).fill(0xee) };
    expect(() => sites.B!.store.storePeerUnits([forged])).to.throw(/differs/);
  });

  it('compaction is per owner: units one site spent go while the other site\'s older units sit unused; re-sent copies are not stored again', async function () {
    // fill(8): seqs 1..8, A owns the odd ones. Only A's masters take keys; B's pool is never used.
    for (let i = 0; i < 4; i++) {
      const r = await sites.A!.encKeys('sae-a', ['sae-b'], 1, 256);
      if (r.status !== 'ok') throw new Error(`enc_keys: ${r.status}`);
      expect((await sites.B!.decKeys('sae-b', 'sae-a', [r.keys[0]!.keyId])).status).to.equal('ok');
    }
    for (const s of ['A', 'B'] as Site[]) {
      sites[s]!.store.compact();
      // seq 2 (B's, unused) no longer holds back the A units spent above it
      expect(sites[s]!.store.dumpUnits().map((u) => `${u.seq}${u.owner}:${u.state}`)).to.deep.equal(['2B:ready', '4B:ready', '6B:ready', '8B:ready']);
    }
    // the filler re-sends old units (a duplicate delivery): nothing spent comes back
    const again = Array.from({ length: 8 }, (_, i) => ({ seq: i + 1, owner: (i % 2 === 0 ? 'A' : 'B') as Site, bytes: new Uint8Array(32).fill(i + 1) }));
    sites.B!.store.storePeerUnits(again);
    expect(sites.B!.store.dumpUnits()).to.have.length(4);
    expect(counts('B').A.ready).to.equal(0);
    // the next new unit is stored as usual
    sites.B!.store.storePeerUnits([{ seq: 9, owner: 'A', bytes: new Uint8Array(32).fill(9) }]);
    expect(counts('B').A.ready).to.equal(1);
  });

  it('004: an index is allocated once; the peer asking first makes the owner\'s site allocate it', async function () {
    const a = sites.A!;
    a.store.addStream({ ksid: '55555555-5555-4555-8555-555555555555', ownerSite: 'A', ownerApp: 'sae-a', peerApp: 'sae-b', chunkBytes: 32, announced: true, localOpen: true, qos: '{}', createdMs: 0 });
    await a.peer!.announceStream({ ksid: '55555555-5555-4555-8555-555555555555', ownerApp: 'sae-a', peerApp: 'sae-b', chunkBytes: 32, qos: '{}' });
    const ksid = '55555555-5555-4555-8555-555555555555';
    const rb = await sites.B!.ensureChunk(ksid, 3);
    expect(rb.status).to.equal('ok');
    const ra = await a.ensureChunk(ksid, 3);
    expect(ra).to.deep.equal(rb);
    const kb = sites.B!.store.deliver([`${ksid}/3`], 'sae-b', undefined, Date.now());
    const ka = a.store.deliver([`${ksid}/3`], 'sae-a', undefined, Date.now());
    expect(ka.status === 'ok' && kb.status === 'ok' && Buffer.from(ka.keys[0]!.bytes).equals(Buffer.from(kb.keys[0]!.bytes))).to.equal(true);
    await a.reconcileOnce();
    expect((await a.ensureChunk(ksid, 3)).status).to.equal('consumed');
  });
});
