import { expect } from 'chai';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { Etsi014KeyDelivery } from '../../lib/qkd/etsi014/key-delivery.js';
import { UUID_RE } from '../../lib/qkd/etsi014/types.js';
import { createPki } from '../../lib/qkd/kme/pki.js';
import { startKmeNetwork, type RunningKmeNetwork } from '../../lib/qkd/kme/network.js';
import { creds, FiniteLink, tempDir, until, same, rejection } from './helpers.js';



describe('ETSI GS QKD 014 client <-> KME simulator', function () {
  let tmp: ReturnType<typeof tempDir>;
  let net: RunningKmeNetwork;
  const clients: Etsi014Client[] = [];
  const client = (kme: 'A' | 'B', sae: string): Etsi014Client => {
    const c = new Etsi014Client({ url: net[kme].url, ...creds(net.pki, sae) });
    clients.push(c);
    return c;
  };

  before(async function () {
    tmp = tempDir('014');
    net = await startKmeNetwork({
      dataDir: tmp.dir,
      saeA: 'sae-a',
      saeB: ['sae-b', 'sae-c'],
      limits: { maxKeyCount: 64 },
      reconcileMs: 200,
    });
    await until(() => net.sites.A.storedKeyCount() >= 64 && net.sites.B.storedKeyCount() >= 64, 'pools filled');
  });

  after(async function () {
    for (const c of clients) c.close();
    await net?.close();
    tmp?.remove();
  });

  describe('§5.2 Get status', function () {
    it('reports the pair, the limits and the real pool level', async function () {
      const s = await client('A', 'sae-a').status('sae-b');
      expect(s).to.include({ source_KME_ID: 'kme-a', target_KME_ID: 'kme-b', master_SAE_ID: 'sae-a', slave_SAE_ID: 'sae-b', key_size: 256 });
      expect(s.stored_key_count).to.equal(net.sites.A.storedKeyCount());
      expect(s.max_key_count).to.equal(64);
      expect(s.max_SAE_ID_count).to.be.greaterThan(0);
      expect(s.status_extension).to.deep.include({ qkd_link: { ...(s.status_extension as { qkd_link: object }).qkd_link, kind: 'csprng', simulated: true } });
    });
  });

  describe('§5.3 Get key / §5.4 Get key with key IDs', function () {
    it('POST: number and size honoured; the slave gets the same bytes by key_ID', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b', { number: 3, size: 512 });
      expect(got.keys).to.have.length(3);
      for (const k of got.keys) {
        expect(k.keyId).to.match(UUID_RE);
        expect(k.keyId[14]).to.equal('4'); // UUIDv4
        expect(k.key).to.have.length(64);
      }
      const ids = got.keys.map((k) => k.keyId);
      const dec = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', ids, { sizeBits: 512 });
      expect(dec.keys.map((k) => k.keyId)).to.deep.equal(ids);
      dec.keys.forEach((k, i) => expect(same(k.key, got.keys[i]!.key)).to.equal(true));
      expect(new Set(got.keys.map((k) => Buffer.from(k.key).toString('hex'))).size).to.equal(3);
    });

    it('GET forms: enc_keys with number/size query, dec_keys with one key_ID', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b', { number: 2, size: 128 }, { method: 'GET' });
      expect(got.keys.map((k) => k.key.length)).to.deep.equal([16, 16]);
      const dec = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [got.keys[1]!.keyId], { method: 'GET' });
      expect(same(dec.keys[0]!.key, got.keys[1]!.key)).to.equal(true);
    });

    it('defaults: one key of key_size bits', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b');
      expect(got.keys).to.have.length(1);
      expect(got.keys[0]!.key).to.have.length(32);
    });

    it('works in the other direction too (SAE B master, SAE A slave)', async function () {
      const got = await client('B', 'sae-b').getKey('sae-a', { size: 256 });
      const dec = await client('A', 'sae-a').getKeyWithKeyIds('sae-b', [got.keys[0]!.keyId]);
      expect(same(dec.keys[0]!.key, got.keys[0]!.key)).to.equal(true);
    });

    it('additional_slave_SAE_IDs: every named slave gets the key once; others get 401', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b', { additional_slave_SAE_IDs: ['sae-c'] });
      const id = got.keys[0]!.keyId;
      const b = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [id]);
      const c = await client('B', 'sae-c').getKeyWithKeyIds('sae-a', [id]);
      expect(same(b.keys[0]!.key, got.keys[0]!.key) && same(c.keys[0]!.key, got.keys[0]!.key)).to.equal(true);
      const again = await rejection(client('B', 'sae-c').getKeyWithKeyIds('sae-a', [id]));
      expect(again.kind).to.equal('not-found');

      const only = await client('A', 'sae-a').getKey('sae-b');
      const e = await rejection(client('B', 'sae-c').getKeyWithKeyIds('sae-a', [only.keys[0]!.keyId]));
      expect(e.kind).to.equal('unauthorized');
      expect(e.status).to.equal(401);
    });

    it('a second dec_keys for a delivered key gets 400 "one or more keys specified are not found on KME"', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b');
      await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [got.keys[0]!.keyId]);
      const e = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-a', [got.keys[0]!.keyId]));
      expect(e).to.include({ kind: 'not-found', status: 400, reason: 'one or more keys specified are not found on KME', kme: net.B.url });
    });

    it('dec_keys is all or nothing: one unknown ID and none is delivered', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b');
      const id = got.keys[0]!.keyId;
      const e = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-a', [id, '11111111-1111-4111-8111-111111111111']));
      expect(e.kind).to.equal('not-found');
      const ok = await client('B', 'sae-b').getKeyWithKeyIds('sae-a', [id]);
      expect(same(ok.keys[0]!.key, got.keys[0]!.key)).to.equal(true);
    });

    it('dec_keys naming the wrong master finds nothing', async function () {
      const got = await client('A', 'sae-a').getKey('sae-b');
      const e = await rejection(client('B', 'sae-b').getKeyWithKeyIds('sae-c', [got.keys[0]!.keyId]));
      expect(e.kind).to.equal('not-found');
    });
  });

  describe('§6.5 errors', function () {
    const cases: [string, object, string][] = [
      ['size not a multiple of 8', { size: 100 }, 'size shall be a multiple of 8'],
      ['an extension_mandatory', { extension_mandatory: [{ abc_route_type: 'direct' }] }, 'not all extension_mandatory parameters are supported'],
      ['size above max_key_size', { size: 8192 }, 'size shall be between min_key_size and max_key_size'],
      ['number above max_key_per_request', { number: 129 }, 'number shall not exceed max_key_per_request'],
      ['an unknown additional slave', { additional_slave_SAE_IDs: ['sae-z'] }, 'additional_slave_SAE_IDs names an SAE not known to KME'],
    ];
    for (const [what, req, message] of cases) {
      it(`400 for ${what}: "${message}"`, async function () {
        const e = await rejection(client('A', 'sae-a').getKey('sae-b', req));
        expect(e).to.include({ status: 400, kind: 'refused', reason: message });
      });
    }

    it('400 for an unknown slave_SAE_ID', async function () {
      const e = await rejection(client('A', 'sae-a').getKey('nobody'));
      expect(e.status).to.equal(400);
    });

    it('401 (no body) for an SAE not attached to this KME', async function () {
      const e = await rejection(client('A', 'sae-b').getKey('sae-a'));
      expect(e).to.include({ status: 401, kind: 'unauthorized' });
      const s = await rejection(client('A', 'sae-b').status('sae-a'));
      expect(s.status).to.equal(401);
    });

    it('401 for a certificate from the right CA that names no known SAE', async function () {
      const pki = createPki(tmp.dir, { kmes: [], saes: ['stranger'] });
      const c = new Etsi014Client({ url: net.A.url, ...creds(pki, 'stranger') });
      clients.push(c);
      const e = await rejection(c.getKey('sae-b'));
      expect(e).to.include({ status: 401, kind: 'unauthorized' });
    });

    it('refuses a client without a certificate at the TLS layer', async function () {
      const port = Number(new URL(net.A.url).port);
      const err = await new Promise<Error | undefined>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(net.pki.ca) }, () => {
          s.write('GET /api/v1/keys/sae-b/status HTTP/1.1\r\nHost: x\r\n\r\n');
        });
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString()));
        s.on('error', (e) => resolve(e));
        s.on('close', () => resolve(data.startsWith('HTTP/') ? undefined : new Error('closed')));
      });
      expect(err, 'no HTTP answer without a client certificate').to.be.instanceOf(Error);
    });

    it('refuses a certificate from another CA (kind unauthorized or unreachable, never an answer)', async function () {
      const other = tempDir('014-other');
      try {
        const pki = createPki(other.dir, { kmes: [], saes: ['sae-a'] });
        const c = new Etsi014Client({ url: net.A.url, cert: readFileSync(pki.sae['sae-a']!.cert), key: readFileSync(pki.sae['sae-a']!.key), ca: readFileSync(net.pki.ca) });
        clients.push(c);
        const e = await rejection(c.status('sae-b'));
        expect(e.status).to.equal(undefined);
        expect(['unauthorized', 'unreachable']).to.include(e.kind);
      } finally {
        other.remove();
      }
    });

    it('a KME certificate signed by another CA is refused by the client', async function () {
      const other = tempDir('014-ca');
      try {
        const pki = createPki(other.dir, { kmes: [], saes: ['x'] });
        const c = new Etsi014Client({ url: net.A.url, ...creds(net.pki, 'sae-a'), ca: readFileSync(pki.ca) });
        clients.push(c);
        const e = await rejection(c.status('sae-b'));
        expect(e.kind).to.equal('unauthorized');
      } finally {
        other.remove();
      }
    });

    it('GET enc_keys refuses body-only fields before sending', async function () {
      let thrown: unknown;
      try {
        await client('A', 'sae-a').getKey('sae-b', { additional_slave_SAE_IDs: ['sae-c'] }, { method: 'GET' });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(TypeError);
    });
  });

  describe('Etsi014KeyDelivery', function () {
    it('master getKey / slave getKeyById round trip; the second fetch is not-found', async function () {
      const master = new Etsi014KeyDelivery({ url: net.A.url, ...creds(net.pki, 'sae-a') });
      const slave = new Etsi014KeyDelivery({ url: net.B.url, ...creds(net.pki, 'sae-b') });
      try {
        expect(master.api).to.equal('014');
        const k = await master.getKey('sae-b', { sizeBits: 256 });
        const s = await slave.getKeyById('sae-a', k.keyId, { sizeBits: 256 });
        expect(s.keyId).to.equal(k.keyId);
        expect(same(s.key, k.key)).to.equal(true);
        const e = await rejection(slave.getKeyById('sae-a', k.keyId, { sizeBits: 256 }));
        expect(e.kind).to.equal('not-found');
      } finally {
        await master.close();
        await slave.close();
      }
    });

    it('an aborted signal rejects with its reason', async function () {
      const master = new Etsi014KeyDelivery({ url: net.A.url, ...creds(net.pki, 'sae-a') });
      try {
        const ac = new AbortController();
        ac.abort(new Error('handshake gave up'));
        let thrown: unknown;
        try {
          await master.getKey('sae-b', { sizeBits: 256, signal: ac.signal });
        } catch (e) {
          thrown = e;
        }
        expect((thrown as Error).message).to.equal('handshake gave up');
      } finally {
        await master.close();
      }
    });

    it('unreachable KME -> kind unreachable with the KME URL', async function () {
      const d = new Etsi014KeyDelivery({ url: 'https://127.0.0.1:1', ...creds(net.pki, 'sae-a') });
      const e = await rejection(d.getKey('sae-b', { sizeBits: 256 }));
      expect(e).to.include({ kind: 'unreachable', kme: 'https://127.0.0.1:1' });
      await d.close();
    });
  });
});

describe('ETSI GS QKD 014: pool accounting', function () {
  let tmp: ReturnType<typeof tempDir>;
  let net: RunningKmeNetwork;
  let a: Etsi014Client;
  let b: Etsi014Client;

  before(async function () {
    tmp = tempDir('014-pool');
    // 2 blocks x 8 units of 256 bits, then the link aborts: 8 units for each site, no refill.
    net = await startKmeNetwork({ dataDir: tmp.dir, link: new FiniteLink(2, 2048), limits: { maxKeyCount: 100 } });
    await until(() => net.sites.A.storedKeyCount() + net.sites.B.storedKeyCount() === 16, 'the finite supply stored');
    a = new Etsi014Client({ url: net.A.url, ...creds(net.pki, 'sae-a') });
    b = new Etsi014Client({ url: net.B.url, ...creds(net.pki, 'sae-b') });
  });

  after(async function () {
    a?.close();
    b?.close();
    await net?.close();
    tmp?.remove();
  });

  it('stored_key_count is the real number of ready keys and falls as keys are taken', async function () {
    expect((await a.status('sae-b')).stored_key_count).to.equal(8);
    expect((await b.status('sae-a')).stored_key_count).to.equal(8);
    await a.getKey('sae-b', { number: 3 });
    expect((await a.status('sae-b')).stored_key_count).to.equal(5);
    await a.getKey('sae-b', { size: 512 }); // two units
    expect((await a.status('sae-b')).stored_key_count).to.equal(3);
    expect((await b.status('sae-a')).stored_key_count).to.equal(8);
    const st = await a.status('sae-b');
    expect((st.status_extension as { qkd_link: { kind: string } }).qkd_link.kind).to.equal('test-finite');
  });

  it('503 with the KME message when the pool cannot serve the request, and nothing is consumed', async function () {
    const e = await rejection(a.getKey('sae-b', { number: 4 }));
    expect(e).to.include({ status: 503, kind: 'empty' });
    expect(e.reason).to.match(/exhausted/);
    expect((await a.status('sae-b')).stored_key_count).to.equal(3);
    await a.getKey('sae-b', { number: 3 });
    const e2 = await rejection(a.getKey('sae-b'));
    expect(e2.kind).to.equal('empty');
    expect((await a.status('sae-b')).stored_key_count).to.equal(0);
  });
});
