// RFC 5705 exporter and Finished accessors, checked against node:tls on the other end.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { connect, createServer } from '../../lib/index.js';

/** node's typings want a context; at run time it is optional (RFC 5705 distinguishes none from empty). */
const NO_CONTEXT = undefined as unknown as Buffer;
const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

describe('exportKeyingMaterial (RFC 5705) and getFinished/getPeerFinished vs node:tls', () => {
  it('qtls client and node:tls server export the same keying material and see the same Finished', async () => {
    const peers: tls.TLSSocket[] = [];
    const srv = tls.createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem'), maxVersion: 'TLSv1.2' }, (s) => {
      peers.push(s);
      s.resume();
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem') });
      await once(c, 'secureConnect');
      while (peers.length === 0) await new Promise((r) => setImmediate(r));
      const n = peers[0]!;
      const ctx = Buffer.from('context bytes');
      expect(c.exportKeyingMaterial(48, 'EXPORTER-qtls-test').equals(n.exportKeyingMaterial(48, 'EXPORTER-qtls-test', NO_CONTEXT))).to.equal(true);
      expect(c.exportKeyingMaterial(32, 'EXPORTER-qtls-test', ctx).equals(n.exportKeyingMaterial(32, 'EXPORTER-qtls-test', ctx))).to.equal(true);
      expect(c.exportKeyingMaterial(32, 'EXPORTER-qtls-test', ctx).equals(c.exportKeyingMaterial(32, 'EXPORTER-qtls-test'))).to.equal(false);
      expect(() => c.exportKeyingMaterial(16, 'master secret')).to.throw(/reserved/);
      expect(c.getFinished()!.equals(n.getPeerFinished()!)).to.equal(true);
      expect(c.getPeerFinished()!.equals(n.getFinished()!)).to.equal(true);
      expect(c.getFinished()).to.have.length(12);
      c.destroy();
    } finally {
      srv.close();
    }
  });

  it('a qtls server exports what a node:tls client exports', async () => {
    let server: import('../../lib/index.js').TLSSocket | undefined;
    const srv = createServer({ cert: fx('rsa-chain.pem'), key: fx('rsa-key.pem') }, (s) => {
      server = s;
      s.resume();
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem'), maxVersion: 'TLSv1.2' });
      await once(c, 'secureConnect');
      while (!server) await new Promise((r) => setImmediate(r));
      expect(server.exportKeyingMaterial(64, 'EXPORTER-x').equals(c.exportKeyingMaterial(64, 'EXPORTER-x', NO_CONTEXT))).to.equal(true);
      c.destroy();
    } finally {
      srv.close();
    }
  });
});
