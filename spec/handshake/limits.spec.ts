// Limits a peer can't push us past, and the fatal alert surviving a peer that is still sending.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as netServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { TLSError } from '../../lib/alert.js';
import { checkServerGroup, MAX_DH_SIZE } from '../../lib/kx/dhe.js';
import { connect, createServer } from '../../lib/index.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

describe('limits', () => {
  it(`a custom DH group above ${MAX_DH_SIZE} bits is refused before any modexp (illegal_parameter)`, () => {
    const p = (1n << BigInt(MAX_DH_SIZE + 8)) - 1n; // odd, huge
    expect(() => checkServerGroup(p, 2n, { allowCustomDHGroups: true })).to.throw(TLSError).with.property('alert', 'illegal_parameter');
    const ok = (1n << 3071n) + 1n;
    expect(checkServerGroup(ok, 2n, { allowCustomDHGroups: true })).to.equal('custom-3072');
  });

  it('a client still uploading when the server fails the connection receives the alert, not a reset', async function () {
    this.timeout(30_000);
    const srv = createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem') }, (s) => s.resume());
    srv.on('tlsClientError', () => {});
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    // A relay that flips one bit of the client's data a few hundred KiB into the upload.
    let seen = 0;
    let flipped = false;
    const relay = netServer((down: Socket) => {
      const up = netConnect((srv.address() as AddressInfo).port, '127.0.0.1');
      down.on('data', (d: Buffer) => {
        seen += d.length;
        if (!flipped && seen > 300_000) {
          flipped = true;
          d = Buffer.from(d);
          d[d.length - 1]! ^= 1;
        }
        up.write(d);
      });
      up.pipe(down);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    try {
      const c = connect({ host: '127.0.0.1', port: (relay.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem') });
      await once(c, 'secureConnect');
      const chunk = Buffer.alloc(64 * 1024, 1);
      const err = await new Promise<Error>((resolve) => {
        c.once('error', resolve);
        const pump = () => {
          for (let i = 0; i < 128; i++) if (!c.write(chunk)) return void c.once('drain', pump);
        };
        pump();
      });
      expect(flipped).to.equal(true);
      expect(err).to.be.instanceOf(TLSError);
      expect((err as TLSError).alert).to.equal('bad_record_mac');
      expect((err as TLSError).origin).to.equal('remote');
    } finally {
      relay.close();
      srv.close();
    }
  });
});
