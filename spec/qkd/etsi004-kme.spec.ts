import { expect } from 'chai';
import * as tls from 'node:tls';
import { Etsi004Client } from '../../lib/qkd/etsi004/client.js';
import { NULL_KSID } from '../../lib/qkd/etsi004/codec.js';
import { Etsi004KeyDelivery, parse004KeyId } from '../../lib/qkd/etsi004/key-delivery.js';
import { Status004 } from '../../lib/qkd/etsi004/status.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import { createPki } from '../../lib/qkd/kme/pki.js';
import { startKmeNetwork, type RunningKmeNetwork } from '../../lib/qkd/kme/network.js';
import { creds, FiniteLink, tempDir, until, same, rejection } from './helpers.js';


describe('ETSI GS QKD 004 client <-> KME 004 service', function () {
  let tmp: ReturnType<typeof tempDir>;
  let net: RunningKmeNetwork;
  const open: Etsi004Client[] = [];
  const client = (kme: 'A' | 'B', sae: string): Etsi004Client => {
    const c = new Etsi004Client({ host: '127.0.0.1', port: net[kme].port004, ...creds(net.pki, sae) });
    open.push(c);
    return c;
  };

  before(async function () {
    tmp = tempDir('004');
    net = await startKmeNetwork({ dataDir: tmp.dir, saeB: ['sae-b', 'sae-c'], limits: { maxKeyCount: 64 }, reconcileMs: 200 });
    await until(() => net.sites.A.storedKeyCount() >= 64 && net.sites.B.storedKeyCount() >= 64, 'pools filled');
  });

  after(async function () {
    for (const c of open) c.end();
    await net?.close();
    tmp?.remove();
  });

  it('owner OPEN_CONNECT answers status 1 at once; GET_KEY works before the peer connects; the peer gets the same chunk', async function () {
    const a = client('A', 'sae-a');
    const o = await a.openConnect('sae:sae-a', 'sae:sae-b', { keyChunkSize: 32 });
    expect(o.status).to.equal(Status004.PEER_NOT_CONNECTED);
    expect(o.ksid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(o.qos).to.include({ keyChunkSize: 32, metadataMimetype: 'application/json' });

    const k0 = await a.getKey(o.ksid, 0);
    expect(k0.status).to.equal(0);
    expect(k0.index).to.equal(0);
    expect(k0.key).to.have.length(32);
    const meta = JSON.parse(Buffer.from(k0.metadata).toString()) as Record<string, unknown>;
    expect(meta).to.include({ kme_id: 'kme-a', key_stream_id: o.ksid, index: 0, link: 'csprng', simulated: true });

    const b = client('B', 'sae-b');
    const j = await b.openConnect('sae:sae-b', 'sae:sae-a', { keyChunkSize: 32 }, o.ksid);
    expect(j.status).to.equal(Status004.SUCCESS);
    expect(j.ksid).to.equal(o.ksid);
    const b0 = await b.getKey(o.ksid, 0);
    expect(b0.status).to.equal(0);
    expect(same(b0.key, k0.key)).to.equal(true);

    // each side gets an index once
    expect((await a.getKey(o.ksid, 0)).status).to.equal(Status004.INSUFFICIENT_KEY);
    expect((await b.getKey(o.ksid, 0)).status).to.equal(Status004.INSUFFICIENT_KEY);

    // the peer may ask first: the owner's KME allocates, both get the same bytes
    const b5 = await b.getKey(o.ksid, 5);
    const a5 = await a.getKey(o.ksid, 5);
    expect(b5.status).to.equal(0);
    expect(a5.status).to.equal(0);
    expect(same(a5.key, b5.key)).to.equal(true);
    expect(same(a5.key, k0.key)).to.equal(false);

    expect((await b.close(o.ksid)).status).to.equal(0);
    expect((await b.getKey(o.ksid, 6)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
    expect((await a.close(o.ksid)).status).to.equal(0);
  });

  it('status 5 when the KSID is already open, or is another pair\'s stream', async function () {
    const a = client('A', 'sae-a');
    const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
    const b = client('B', 'sae-b');
    expect((await b.openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(0);
    expect((await client('B', 'sae-b').openConnect('sae:sae-b', 'sae:sae-a', {}, o.ksid)).status).to.equal(Status004.KSID_IN_USE);
    expect((await client('B', 'sae-c').openConnect('sae:sae-c', 'sae:sae-a', {}, o.ksid)).status).to.equal(Status004.KSID_IN_USE);
    expect((await client('A', 'sae-a').openConnect('sae:sae-a', 'sae:sae-b', {}, o.ksid)).status).to.equal(Status004.KSID_IN_USE);
  });

  it('status 4 for an unknown destination or a source that is not the caller', async function () {
    const a = client('A', 'sae-a');
    const r1 = await a.openConnect('sae:sae-a', 'sae:nobody');
    expect(r1.status).to.equal(Status004.NO_QKD_CONNECTION);
    expect(r1.ksid).to.equal(NULL_KSID);
    expect((await a.openConnect('sae:sae-b', 'sae:sae-b')).status).to.equal(Status004.NO_QKD_CONNECTION);
  });

  it('status 7 with a counter-proposal for QoS the KME cannot meet', async function () {
    const a = client('A', 'sae-a');
    const big = await a.openConnect('sae:sae-a', 'sae:sae-b', { keyChunkSize: 100_000 });
    expect(big.status).to.equal(Status004.QOS_NOT_MET);
    expect(big.qos.keyChunkSize).to.equal(512);
    const mime = await a.openConnect('sae:sae-a', 'sae:sae-b', { metadataMimetype: 'text/plain' });
    expect(mime.status).to.equal(Status004.QOS_NOT_MET);
    expect(mime.qos.metadataMimetype).to.equal('application/json');
  });

  it('status 8 with the needed size when the metadata buffer is too small, consuming nothing', async function () {
    const a = client('A', 'sae-a');
    const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
    const small = await a.getKey(o.ksid, 0, 5);
    expect(small.status).to.equal(Status004.METADATA_TOO_SMALL);
    expect(small.metadataSize).to.be.greaterThan(5);
    expect(small.key).to.have.length(0);
    const ok = await a.getKey(o.ksid, 0, small.metadataSize);
    expect(ok.status).to.equal(0);
    expect(ok.metadata).to.have.length(small.metadataSize);
  });

  it('status 3 for GET_KEY on a KSID the caller has not opened', async function () {
    const a = client('A', 'sae-a');
    expect((await a.getKey('11111111-1111-4111-8111-111111111111', 0)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
    const o = await a.openConnect('sae:sae-a', 'sae:sae-b');
    // sae-b has not joined: the stream is not open for it
    expect((await client('B', 'sae-b').getKey(o.ksid, 0)).status).to.equal(Status004.PEER_APP_NOT_CONNECTED);
  });

  it('a malformed frame closes that connection only; the service keeps serving', async function () {
    const c = creds(net.pki, 'sae-a');
    const closed = await new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: net.A.port004, ...c }, () => s.write(Buffer.from([2, 0, 0, 0x02, 0, 0, 0, 0])));
      s.on('error', () => {});
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
    });
    expect(closed).to.equal(true);
    const oversized = await new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: net.A.port004, ...c }, () => s.write(Buffer.from([1, 0, 1, 0x04, 0x7f, 0xff, 0xff, 0xff])));
      s.on('error', () => {});
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
    });
    expect(oversized).to.equal(true);
    expect((await client('A', 'sae-a').openConnect('sae:sae-a', 'sae:sae-b')).status).to.equal(1);
  });

  it('a certificate naming no application of this KME is disconnected', async function () {
    const pki = createPki(tmp.dir, { kmes: [], saes: ['stranger'] });
    const c = new Etsi004Client({ host: '127.0.0.1', port: net.A.port004, ...creds(pki, 'stranger') });
    open.push(c);
    let err: unknown;
    try {
      await c.openConnect('sae:stranger', 'sae:sae-b');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(KeyDeliveryError);
    expect((err as KeyDeliveryError).kind).to.equal('unreachable');
  });

  describe('Etsi004KeyDelivery', function () {
    it('master getKey / slave getKeyById: same bytes, `<KSID>/<index>` key IDs, consecutive indices', async function () {
      const m = new Etsi004KeyDelivery({ host: '127.0.0.1', port: net.A.port004, ...creds(net.pki, 'sae-a'), saeId: 'sae-a' });
      const s = new Etsi004KeyDelivery({ host: '127.0.0.1', port: net.B.port004, ...creds(net.pki, 'sae-b'), saeId: 'sae-b' });
      try {
        expect(m.api).to.equal('004');
        const k1 = await m.getKey('sae-b', { sizeBits: 256 });
        const k2 = await m.getKey('sae-b', { sizeBits: 256 });
        const id1 = parse004KeyId(k1.keyId)!;
        const id2 = parse004KeyId(k2.keyId)!;
        expect(id1.ksid).to.equal(id2.ksid);
        expect([id1.index, id2.index]).to.deep.equal([0, 1]);
        expect(k1.kmeId).to.equal('kme-a');
        const s2 = await s.getKeyById('sae-a', k2.keyId, { sizeBits: 256 });
        const s1 = await s.getKeyById('sae-a', k1.keyId, { sizeBits: 256 });
        expect(same(s1.key, k1.key) && same(s2.key, k2.key)).to.equal(true);
        expect(s1.kmeId).to.equal('kme-b');
        expect((await rejection(s.getKeyById('sae-a', k1.keyId, { sizeBits: 256 }))).status).to.equal(Status004.INSUFFICIENT_KEY);
      } finally {
        await m.close();
        await s.close();
      }
    });

    it('a malformed key ID is not-found without a network call', async function () {
      const s = new Etsi004KeyDelivery({ host: '127.0.0.1', port: 1, ...creds(net.pki, 'sae-b'), saeId: 'sae-b' });
      let err: unknown;
      try {
        await s.getKeyById('sae-a', 'not-a-key-id', { sizeBits: 256 });
      } catch (e) {
        err = e;
      }
      expect((err as KeyDeliveryError).kind).to.equal('not-found');
      await s.close();
    });
  });
});

describe('ETSI GS QKD 004: empty pool', function () {
  it('GET_KEY answers status 2 once the owner\'s pool is spent', async function () {
    const tmp = tempDir('004-empty');
    const net = await startKmeNetwork({ dataDir: tmp.dir, link: new FiniteLink(1, 1024) }); // 4 units: 2 per site
    const a = new Etsi004Client({ host: '127.0.0.1', port: net.A.port004, ...creds(net.pki, 'sae-a') });
    try {
      await until(() => net.sites.A.storedKeyCount() === 2, 'supply stored');
      const o = await a.openConnect('sae:sae-a', 'sae:sae-b', { keyChunkSize: 32 });
      expect((await a.getKey(o.ksid, 0)).status).to.equal(0);
      expect((await a.getKey(o.ksid, 1)).status).to.equal(0);
      expect((await a.getKey(o.ksid, 2)).status).to.equal(Status004.INSUFFICIENT_KEY);
    } finally {
      a.end();
      await net.close();
      tmp.remove();
    }
  });
});
