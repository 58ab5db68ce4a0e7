// One fresh QKD key per connection by default: QKD and hybrid sessions are neither cached nor ticketed
// unless the server opts in with qkd.allowResumption.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from '../../lib/index.js';
import type { DeliveredKey, KeyDelivery } from '../../lib/qkd/key-delivery.js';
import { randomBytes, randomUUID } from 'node:crypto';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

/** Two in-memory "KMEs" sharing a pool: enough to drive the key exchange without the network. */
function memoryKmes(): { master: KeyDelivery; slave: KeyDelivery; issued: () => number } {
  const pool = new Map<string, Uint8Array>();
  let issued = 0;
  const master: KeyDelivery = {
    api: '014',
    async getKey(_slave, o): Promise<DeliveredKey> {
      const keyId = randomUUID();
      const key = new Uint8Array(randomBytes(o.sizeBits / 8));
      pool.set(keyId, key);
      issued++;
      return { keyId, key };
    },
    async getKeyById() {
      throw new Error('not a slave');
    },
    async close() {},
  };
  const slave: KeyDelivery = {
    api: '014',
    async getKey() {
      throw new Error('not a master');
    },
    async getKeyById(_m, keyId): Promise<DeliveredKey> {
      const key = pool.get(keyId);
      if (!key) throw new Error('unknown key');
      pool.delete(keyId);
      return { keyId, key };
    },
    async close() {},
  };
  return { master, slave, issued: () => issued };
}

async function twoConnections(allowResumption: boolean | undefined): Promise<{ reused: boolean[]; keys: number }> {
  const kmes = memoryKmes();
  const srv = createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem'), qkd: { saeId: 'sae-a', delivery: kmes.master, allowResumption } }, (s) => s.end());
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const reused: boolean[] = [];
  let session: Buffer | undefined;
  try {
    for (let i = 0; i < 2; i++) {
      const c = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem'), session, qkd: { saeId: 'sae-b', delivery: kmes.slave } });
      c.on('session', (s: Buffer) => (session = s));
      await once(c, 'secureConnect');
      expect(c.getCipher()?.standardName).to.match(/QKD/);
      reused.push(c.isSessionReused());
      c.resume();
      await once(c, 'close');
    }
  } finally {
    srv.close();
  }
  return { reused, keys: kmes.issued() };
}

describe('QKD sessions and resumption', () => {
  it('by default every connection runs a full handshake with a fresh QKD key', async () => {
    const r = await twoConnections(undefined);
    expect(r.reused).to.deep.equal([false, false]);
    expect(r.keys).to.equal(2);
  });

  it('with qkd.allowResumption the second connection resumes without a new key', async () => {
    const r = await twoConnections(true);
    expect(r.reused).to.deep.equal([false, true]);
    expect(r.keys).to.equal(1);
  });
});
