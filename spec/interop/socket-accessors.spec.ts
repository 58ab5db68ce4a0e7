// getCertificate(), getX509Certificate(), getPeerX509Certificate(), getSharedSigalgs() and
// disableRenegotiation() on qtls sockets, against what node:tls reports for the same connection (the peer's
// view of our certificate) and for a node:tls ↔ node:tls reference connection configured alike.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as nodeTls from 'node:tls';
import { connect as qtlsConnect, createServer as qtlsCreateServer, type TLSSocket, type TraceEvent } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki, type CertKind } from '../helpers/fixtures.js';
import { listenLocal, LOCALHOST } from '../helpers/ports.js';

type Impl = 'node' | 'qtls';
type AnySocket = nodeTls.TLSSocket | TLSSocket;

/** A plain comparable copy of a certificate object: Buffers as hex, keys sorted. */
function plain(o: unknown): unknown {
  if (Buffer.isBuffer(o)) return `<Buffer ${o.toString('hex')}>`;
  if (Array.isArray(o)) return o.map(plain);
  if (!o || typeof o !== 'object') return o;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, plain((o as Record<string, unknown>)[k])]));
}

const CLIENT_CERT = { cert: pki('client-chain.pem'), key: pki('client-key.pem') };
const serverCert = (kind: CertKind) => ({ cert: CERTS[kind].chain(), key: CERTS[kind].key() });

describe('interop: getCertificate, X509 certificates, getSharedSigalgs, disableRenegotiation', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  /** One connection, both ends secure and open (closed by cleanup). */
  async function pair(serverImpl: Impl, clientImpl: Impl, serverOpts: Record<string, unknown>, clientOpts: Record<string, unknown> = {}) {
    let serverSocket: AnySocket | undefined;
    const onSecure = (s: AnySocket) => {
      serverSocket = s;
      s.resume();
      s.on('error', () => {});
    };
    const opts = { maxVersion: 'TLSv1.2', ...serverOpts };
    const server = serverImpl === 'node' ? nodeTls.createServer(opts as nodeTls.TlsOptions, onSecure) : qtlsCreateServer(opts, onSecure as never);
    cleanup.defer(() => new Promise((r) => server.close(r)));
    const port = await listenLocal(server as never);
    const copts = { host: LOCALHOST, port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' as const, ...clientOpts };
    const client: AnySocket = clientImpl === 'node' ? nodeTls.connect(copts as nodeTls.ConnectionOptions) : qtlsConnect(copts);
    client.on('error', () => {});
    cleanup.defer(() => client.destroy());
    await new Promise((r) => client.once('secureConnect', r));
    client.resume();
    while (!serverSocket) await new Promise((r) => setImmediate(r));
    cleanup.defer(() => serverSocket!.destroy());
    return { server: serverSocket, client };
  }

  describe('getCertificate() and getX509Certificate()', () => {
    for (const kind of ['rsa', 'ecdsa-p256', 'ed25519'] as const) {
      it(`a qtls server's own ${kind} certificate is what the node client sees, and what a node server reports`, async () => {
        const ref = await pair('node', 'node', serverCert(kind));
        const q = await pair('qtls', 'node', serverCert(kind));
        expect(plain(q.server.getCertificate())).to.deep.equal(plain(q.client.getPeerCertificate()));
        expect(plain(q.server.getCertificate())).to.deep.equal(plain(ref.server.getCertificate()));
        expect(q.server.getCertificate()).not.to.have.property('issuerCertificate');
        const x509 = q.server.getX509Certificate();
        expect(x509).to.be.instanceOf(X509Certificate);
        expect(x509!.raw.equals(q.client.getPeerX509Certificate()!.raw)).to.equal(true);
        expect(x509!.raw.equals(ref.server.getX509Certificate()!.raw)).to.equal(true);
      });
    }

    it('a qtls client sending a certificate reports it as the node server sees it', async () => {
      const opts = { ...serverCert('ecdsa-p256'), requestCert: true, ca: ca() };
      const ref = await pair('node', 'node', opts, CLIENT_CERT);
      const q = await pair('node', 'qtls', opts, CLIENT_CERT);
      expect(q.server.authorized).to.equal(true);
      expect(plain(q.client.getCertificate())).to.deep.equal(plain(q.server.getPeerCertificate()));
      expect(plain(q.client.getCertificate())).to.deep.equal(plain(ref.client.getCertificate()));
      expect(q.client.getX509Certificate()!.raw.equals(q.server.getPeerX509Certificate()!.raw)).to.equal(true);
      expect(q.client.getPeerX509Certificate()!.raw.equals(q.server.getX509Certificate()!.raw)).to.equal(true);
    });

    it('a client with a certificate the server did not ask for still reports it, as node', async () => {
      const ref = await pair('node', 'node', serverCert('ecdsa-p256'), CLIENT_CERT);
      const q = await pair('node', 'qtls', serverCert('ecdsa-p256'), CLIENT_CERT);
      expect((ref.client.getCertificate() as { subject?: { CN?: string } }).subject?.CN).to.equal('client');
      expect(plain(q.client.getCertificate())).to.deep.equal(plain(ref.client.getCertificate()));
      expect(q.client.getX509Certificate()!.raw.equals(ref.client.getX509Certificate()!.raw)).to.equal(true);
      // The server, not having asked, has no peer certificate.
      expect(q.server.getPeerX509Certificate()).to.equal(undefined);
    });

    it('none of our own, none from the peer: {} and undefined, as node', async () => {
      for (const [serverImpl, clientImpl] of [['node', 'node'], ['qtls', 'qtls'], ['node', 'qtls'], ['qtls', 'node']] as const) {
        const { server, client } = await pair(serverImpl, clientImpl, serverCert('rsa'));
        const why = `${clientImpl} client ↔ ${serverImpl} server`;
        expect(client.getCertificate(), why).to.deep.equal({});
        expect(client.getX509Certificate(), why).to.equal(undefined);
        expect(server.getPeerX509Certificate(), why).to.equal(undefined);
      }
    });
  });

  describe('getSharedSigalgs()', () => {
    // Deliberately different orders; both contain rsa_pkcs1_sha512 only on the client side.
    const SERVER_SIGALGS = 'ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256:ed25519:rsa_pkcs1_sha256:ecdsa_secp256r1_sha256';
    const CLIENT_SIGALGS = 'ecdsa_secp256r1_sha256:rsa_pkcs1_sha256:ed25519:rsa_pss_rsae_sha256:rsa_pkcs1_sha512:ecdsa_secp384r1_sha384';

    for (const honorCipherOrder of [true, false]) {
      it(`on a server (honorCipherOrder ${honorCipherOrder}): the ClientHello's and ours, ordered as node orders them`, async () => {
        const sopts = { ...serverCert('ecdsa-p256'), sigalgs: SERVER_SIGALGS, honorCipherOrder };
        const ref = (await pair('node', 'node', sopts, { sigalgs: CLIENT_SIGALGS })).server.getSharedSigalgs();
        expect(ref).to.deep.equal(
          honorCipherOrder
            ? ['ECDSA+SHA384', 'RSA-PSS+SHA256', 'Ed25519+UNDEF', 'RSA+SHA256', 'ECDSA+SHA256']
            : ['ECDSA+SHA256', 'RSA+SHA256', 'Ed25519+UNDEF', 'RSA-PSS+SHA256', 'ECDSA+SHA384'],
        );
        for (const clientImpl of ['node', 'qtls'] as const)
          expect((await pair('qtls', clientImpl, sopts, { sigalgs: CLIENT_SIGALGS })).server.getSharedSigalgs(), `${clientImpl} client`).to.deep.equal(ref);
      });
    }

    it('sigalgs in OpenSSL\'s SIG+HASH spelling (node\'s documented form) mean the same on both stacks', async () => {
      const sopts = { ...serverCert('ecdsa-p256'), sigalgs: 'ECDSA+SHA384:RSA-PSS+SHA256:ed25519:RSA+SHA256:ECDSA+SHA256' };
      const copts = { sigalgs: 'ECDSA+SHA256:RSA+SHA256:ed25519:RSA-PSS+SHA256:RSA+SHA512:ECDSA+SHA384' };
      const ref = (await pair('node', 'node', sopts, copts)).server.getSharedSigalgs();
      expect(ref).to.deep.equal(['ECDSA+SHA384', 'RSA-PSS+SHA256', 'Ed25519+UNDEF', 'RSA+SHA256', 'ECDSA+SHA256']);
      expect((await pair('qtls', 'qtls', sopts, copts)).server.getSharedSigalgs()).to.deep.equal(ref);
    });

    it("on a client: the server's CertificateRequest and ours, in the server's order, as node", async () => {
      const sopts = { ...serverCert('ecdsa-p256'), sigalgs: SERVER_SIGALGS, requestCert: true, ca: ca() };
      const copts = { ...CLIENT_CERT, sigalgs: CLIENT_SIGALGS };
      const ref = await pair('node', 'node', sopts, copts);
      expect(ref.client.getSharedSigalgs()).to.deep.equal(ref.server.getSharedSigalgs());
      const q = await pair('node', 'qtls', sopts, copts);
      expect(q.client.getSharedSigalgs()).to.deep.equal(ref.client.getSharedSigalgs());
      const qs = await pair('qtls', 'qtls', sopts, copts);
      expect([qs.client.getSharedSigalgs(), qs.server.getSharedSigalgs()]).to.deep.equal([ref.client.getSharedSigalgs(), ref.server.getSharedSigalgs()]);
    });

    it('on a client the server asked no certificate of: none, as node', async () => {
      for (const [serverImpl, clientImpl] of [['node', 'node'], ['node', 'qtls'], ['qtls', 'qtls']] as const)
        expect((await pair(serverImpl, clientImpl, serverCert('rsa'))).client.getSharedSigalgs(), `${clientImpl} ↔ ${serverImpl}`).to.deep.equal([]);
    });

    it("a default qtls server names its defaults as node does, in node's vocabulary", async () => {
      const nodeNames = (await pair('node', 'node', serverCert('rsa'))).server.getSharedSigalgs();
      const names = (await pair('qtls', 'node', serverCert('rsa'))).server.getSharedSigalgs();
      expect(names).to.deep.equal(['ECDSA+SHA256', 'ECDSA+SHA384', 'Ed25519+UNDEF', 'RSA-PSS+SHA256', 'RSA-PSS+SHA384', 'RSA-PSS+SHA512', 'RSA+SHA256', 'RSA+SHA384', 'RSA+SHA512']);
      for (const n of names) expect(nodeNames, n).to.include(n);
    });

    it('none before the handshake and on a resumed session, as node', async () => {
      for (const serverImpl of ['node', 'qtls'] as const) {
        const seen: Array<{ reused: boolean; sigalgs: string[] }> = [];
        const onSecure = (s: AnySocket) => (seen.push({ reused: s.isSessionReused(), sigalgs: s.getSharedSigalgs() ?? [] }), s.end());
        const opts = { ...serverCert('ecdsa-p256'), maxVersion: 'TLSv1.2' as const };
        const server = serverImpl === 'node' ? nodeTls.createServer(opts, onSecure) : qtlsCreateServer(opts, onSecure as never);
        cleanup.defer(() => new Promise((r) => server.close(r)));
        const port = await listenLocal(server as never);
        let session: Buffer | undefined;
        for (let i = 0; i < 2; i++) {
          const c = nodeTls.connect({ host: LOCALHOST, port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2', session });
          expect(c.getSharedSigalgs(), 'before the handshake').to.deep.equal([]);
          c.on('session', (s: Buffer) => (session = s));
          c.resume();
          await new Promise((r) => c.once('close', r));
        }
        expect(seen.map((s) => s.reused), serverImpl).to.deep.equal([false, true]);
        expect(seen[0]!.sigalgs, serverImpl).to.have.length.above(0);
        expect(seen[1]!.sigalgs, serverImpl).to.deep.equal([]);
      }
      const q = qtlsConnect({ host: LOCALHOST, port: 1 });
      q.on('error', () => {});
      expect([q.getSharedSigalgs(), q.getCertificate()]).to.deep.equal([[], {}]);
      q.destroy();
    });
  });

  describe('disableRenegotiation()', () => {
    it('a qtls server keeps refusing the node client that renegotiates (no_renegotiation)', async () => {
      const alertsOut: string[] = [];
      const trace = (e: TraceEvent) => void (e.kind === 'alert' && e.direction === 'out' && alertsOut.push(e.name));
      const { server, client } = await pair('qtls', 'node', { ...serverCert('ecdsa-p256'), trace });
      expect(server.disableRenegotiation()).to.equal(undefined);
      // node calls back only on success; a refused renegotiation ends its connection instead.
      let renegotiated = false;
      (client as nodeTls.TLSSocket).renegotiate({}, (err) => (renegotiated = !err));
      await new Promise((r) => client.once('close', r));
      expect(renegotiated).to.equal(false);
      expect(alertsOut).to.deep.equal(['no_renegotiation']);
    });

    it('(reference) a node server lets the handshake start and reports ERR_TLS_RENEGOTIATION_DISABLED instead', async () => {
      const { server, client } = await pair('node', 'node', serverCert('ecdsa-p256'));
      server.disableRenegotiation();
      const serverError = new Promise<{ code?: string }>((resolve) => server.once('error', resolve));
      (client as nodeTls.TLSSocket).renegotiate({}, () => {});
      expect((await serverError).code).to.equal('ERR_TLS_RENEGOTIATION_DISABLED');
    });

    it('a qtls client keeps refusing a node server that asks to renegotiate (no_renegotiation)', async () => {
      const alertsOut: string[] = [];
      const trace = (e: TraceEvent) => void (e.kind === 'alert' && e.direction === 'out' && alertsOut.push(e.name));
      const { server, client } = await pair('node', 'qtls', serverCert('ecdsa-p256'), { trace });
      expect(client.disableRenegotiation()).to.equal(undefined);
      let renegotiated = false;
      (server as nodeTls.TLSSocket).renegotiate({}, (err) => (renegotiated = !err));
      while (alertsOut.length === 0) await new Promise((r) => setImmediate(r));
      expect(alertsOut).to.deep.equal(['no_renegotiation']);
      expect(renegotiated).to.equal(false);
    });
  });
});
