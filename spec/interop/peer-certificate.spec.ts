// getPeerCertificate() / getPeerCertificate(true) on a qtls socket must be the object node:tls builds
// for the same connection (field by field, Buffers byte for byte, the issuerCertificate chain with its
// self-reference at the root): server certificates of every key type on the client, the client
// certificate on the server.
import { expect } from 'chai';
import * as nodeTls from 'node:tls';
import { connect as qtlsConnect, createServer as qtlsCreateServer } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki, type CertKind } from '../helpers/fixtures.js';
import { listenLocal } from '../helpers/ports.js';

/** A plain, acyclic, comparable copy: Buffers as hex, a self-issued root's issuerCertificate as '<self>'. */
function plain(o: unknown, seen: unknown[] = []): unknown {
  if (Buffer.isBuffer(o)) return `<Buffer ${o.toString('hex')}>`;
  if (Array.isArray(o)) return o.map((x) => plain(x, seen));
  if (!o || typeof o !== 'object') return o;
  if (seen.includes(o)) return '<self>';
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = plain((o as Record<string, unknown>)[k], [...seen, o]);
  return out;
}

type PeerSocket = { getPeerCertificate(detailed?: boolean): unknown } & import('node:stream').Duplex;

describe('interop: getPeerCertificate() equals node:tls', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  function clientView(impl: 'node' | 'qtls', port: number): Promise<{ short: unknown; detailed: unknown }> {
    return new Promise((resolve, reject) => {
      const opts = { host: '127.0.0.1', port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' as const };
      const c: PeerSocket = impl === 'node' ? nodeTls.connect(opts) : (qtlsConnect(opts) as unknown as PeerSocket);
      c.once('secureConnect', () => {
        resolve({ short: plain(c.getPeerCertificate()), detailed: plain(c.getPeerCertificate(true)) });
        c.end();
      });
      c.on('data', () => {});
      c.on('error', reject);
    });
  }

  for (const kind of ['rsa', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const satisfies readonly CertKind[]) {
    it(`server certificate ${kind}, seen by a qtls client and a node client`, async () => {
      const server = nodeTls.createServer({ cert: CERTS[kind].chain(), key: CERTS[kind].key() }, (s) => s.end());
      cleanup.defer(() => new Promise((r) => server.close(r)));
      const port = await listenLocal(server);
      const node = await clientView('node', port);
      const qtls = await clientView('qtls', port);
      expect(qtls.short).to.deep.equal(node.short);
      expect(qtls.detailed).to.deep.equal(node.detailed);
      expect(JSON.stringify(qtls.detailed)).to.include('"issuerCertificate":"<self>"');
    });
  }

  it('client certificate, seen by a qtls server and a node server', async () => {
    const views: Record<string, unknown> = {};
    for (const impl of ['node', 'qtls'] as const) {
      const opts = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key(), requestCert: true, ca: ca() };
      const seen = new Promise<unknown>((resolve) => {
        const onSecure = (s: PeerSocket) => {
          resolve({ short: plain(s.getPeerCertificate()), detailed: plain(s.getPeerCertificate(true)) });
          s.end();
        };
        const server = impl === 'node' ? nodeTls.createServer(opts, onSecure as never) : qtlsCreateServer(opts, onSecure as never);
        cleanup.defer(() => new Promise((r) => server.close(() => r(undefined))));
        void listenLocal(server as never).then((port) => {
          const c = nodeTls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca(), cert: pki('client-chain.pem'), key: pki('client-key.pem'), maxVersion: 'TLSv1.2' });
          c.on('data', () => {});
          c.on('error', () => {});
        });
      });
      views[impl] = await seen;
    }
    expect(views.qtls).to.deep.equal(views.node);
  });
});
