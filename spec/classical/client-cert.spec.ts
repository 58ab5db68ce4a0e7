// Client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8): the server's requestCert / rejectUnauthorized
// / ca, its CertificateRequest (certificate types, signature algorithms, CA names), chain and
// CertificateVerify checks and getPeerCertificate(); the client's cert/key (several pairs, chosen by
// the server's signature algorithms) or an empty Certificate — qtls against itself, openssl
// s_client/s_server and node:tls, plus a hostile client signing the wrong transcript.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki, pkiPath } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startOpensslServer } from '../helpers/openssl.js';
import { CLIENT_CERT, ECDSA_SERVER, RSA_SERVER, runClient, show, startServer } from './helpers/endpoints.js';
import { clientAuthHandshake } from './helpers/hostile-kx.js';

const verifying = { requestCert: true, rejectUnauthorized: true, ca: ca() };
const UNKNOWN_CA_CERT = { cert: pki('unknown-ca-cert.pem'), key: pki('unknown-ca-key.pem') };

describe('classical: client certificates', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  describe('qtls ↔ qtls', () => {
    it('a verified client certificate: authorized, getPeerCertificate() on the server, over ECDHE and DHE', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup);
      const rsaServer = await startServer('qtls', { ...RSA_SERVER, ...verifying }, cleanup);
      for (const [srv, ciphers] of [[server, 'ECDHE-ECDSA-AES128-GCM-SHA256'], [rsaServer, 'DHE-RSA-AES256-GCM-SHA384']] as const) {
        const c = await runClient('qtls', srv.port, { ca: ca(), ciphers, ...CLIENT_CERT });
        const s = await srv.next();
        const why = `${show(c)}\n${show(s)}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(ciphers);
        expect(s.authorized, why).to.equal(true);
        expect(s.peerCN, why).to.equal('client');
        expect(s.received.toString(), why).to.equal('ping');
      }
    });

    it('no client certificate: an empty Certificate; required → handshake_failure, optional → authorized=false', async () => {
      const strict = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup);
      const c = await runClient('qtls', strict.port, { ca: ca() });
      expect(c.error?.alert, show(c)).to.equal('handshake_failure');
      expect(c.error?.origin).to.equal('remote');
      expect((await strict.nextError()).message).to.match(/client sent none/);

      const lax = await startServer('qtls', { ...ECDSA_SERVER, requestCert: true, rejectUnauthorized: false, ca: ca() }, cleanup);
      const c2 = await runClient('qtls', lax.port, { ca: ca() });
      const s2 = await lax.next();
      expect(c2.error, show(c2)).to.equal(undefined);
      expect(s2.authorized).to.equal(false);
      expect(s2.peerCN).to.equal(undefined);
    });

    it('a client certificate from an unknown CA: unknown_ca, or authorized=false when not required', async () => {
      const strict = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup);
      const c = await runClient('qtls', strict.port, { ca: ca(), ...UNKNOWN_CA_CERT });
      const e = await strict.nextError();
      expect(e.alert, e.message).to.equal('unknown_ca');
      expect(c.error?.alert, show(c)).to.equal('unknown_ca');

      const lax = await startServer('qtls', { ...ECDSA_SERVER, requestCert: true, rejectUnauthorized: false, ca: ca() }, cleanup);
      const c2 = await runClient('qtls', lax.port, { ca: ca(), ...UNKNOWN_CA_CERT });
      const s2 = await lax.next();
      expect(c2.error, show(c2)).to.equal(undefined);
      expect(s2.authorized).to.equal(false);
      expect(s2.authorizationError).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(s2.peerCN).to.equal('localhost');
    });

    it('several cert/key pairs: the client picks the one the server\'s signature algorithms allow', async () => {
      // The RSA leaf is a server certificate (EKU serverAuth): the lax server shows which one came.
      const pairs = { cert: [RSA_SERVER.cert, CLIENT_CERT.cert], key: [CLIENT_CERT.key, RSA_SERVER.key] };
      const lax = { requestCert: true, rejectUnauthorized: false, ca: ca() };
      // The server's sigalgs are what its CertificateRequest lists.
      const ecdsaOnly = await startServer('qtls', { ...ECDSA_SERVER, ...lax, sigalgs: 'ecdsa_secp256r1_sha256' }, cleanup);
      const c1 = await runClient('qtls', ecdsaOnly.port, { ca: ca(), ...pairs });
      expect(c1.error, show(c1)).to.equal(undefined);
      expect((await ecdsaOnly.next()).peerCN).to.equal('client');

      // Both fit: the client prefers ECDSA (smaller, faster).
      const both = await startServer('qtls', { ...ECDSA_SERVER, ...lax, sigalgs: 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256' }, cleanup);
      const c2 = await runClient('qtls', both.port, { ca: ca(), ...pairs });
      expect(c2.error, show(c2)).to.equal(undefined);
      expect((await both.next()).peerCN).to.equal('client');

      const rsaPss = await startServer('qtls', { ...RSA_SERVER, ...lax, sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' }, cleanup);
      const c3 = await runClient('qtls', rsaPss.port, { ca: ca(), ...pairs });
      const s3 = await rsaPss.next();
      expect(c3.error, show(c3)).to.equal(undefined);
      expect(s3.peerCN).to.equal('localhost');
      expect(s3.authorized).to.equal(false);
    });

    it('a CertificateVerify over the wrong transcript is refused with decrypt_error', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup);
      // Control: the scripted client is otherwise correct.
      const good = await clientAuthHandshake(server.port, (correct) => correct);
      await good.readServerFinished();
      good.conn.destroy();
      expect((await server.next()).peerCN).to.equal('client');

      // Signed without the ClientKeyExchange (the last message before CertificateVerify).
      const bad = await clientAuthHandshake(server.port, (_c, msgs) => Buffer.concat(msgs.slice(0, -1)));
      const alert = await bad.conn.expectAlert();
      bad.conn.destroy();
      expect(alert.text).to.equal('fatal decrypt_error');
      const e = await server.nextError();
      expect(e.alert).to.equal('decrypt_error');
      expect(e.message).to.match(/CertificateVerify signature does not verify/);
    });
  });

  describe('openssl s_client → qtls server', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('-cert/-key: CertificateRequest with CA names and signature algorithms; verified; missing or unknown-CA certificate refused', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup, { closeAfter: 6 });
      const res = await runOpensslClient({ port: server.port, input: 'hello\n', args: ['-cert', pkiPath('client-cert.pem'), '-key', pkiPath('client-key.pem'), '-cert_chain', pkiPath('intermediate-ca.pem')] });
      const s = await server.next();
      const why = `${show(s)}\n${res.diagnostics}`;
      expect(res.exitCode, why).to.equal(0);
      expect(res.data, why).to.equal('hello\n');
      expect(res.stdout, why).to.match(/Acceptable client certificate CA names\nC = DE, O = qtls test PKI, CN = qtls Test Root CA P-256\nC = DE, O = qtls test PKI, CN = qtls Test Root CA RSA\n/);
      expect(res.stdout, why).to.match(/^Client Certificate Types: ECDSA sign, RSA sign$/m);
      expect(res.stdout, why).to.match(/^Requested Signature Algorithms: ECDSA\+SHA256:.*RSA-PSS\+SHA256/m);
      expect(s.peerCN, why).to.equal('client');
      expect(s.authorized, why).to.equal(true);

      const none = await runOpensslClient({ port: server.port, input: '' });
      expect((await server.nextError()).alert).to.equal('handshake_failure');
      expect(none.facts.alertsIn, none.diagnostics).to.deep.equal(['handshake failure']);

      const unknown = await runOpensslClient({ port: server.port, input: '', args: ['-cert', pkiPath('unknown-ca-cert.pem'), '-key', pkiPath('unknown-ca-key.pem')] });
      expect((await server.nextError()).alert).to.equal('unknown_ca');
      expect(unknown.facts.alertsIn, unknown.diagnostics).to.deep.equal(['unknown CA']);
    });
  });

  describe('qtls client → openssl s_server -Verify/-verify', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('-Verify 1 (required): the qtls client\'s certificate is verified; without one openssl refuses', async () => {
      const s = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], args: ['-Verify', '1', '-CAfile', pkiPath('ca.pem'), '-verify_return_error'] }, cleanup);
      let mark = s.mark();
      const c = await runClient('qtls', s.port, { ca: ca(), ...CLIENT_CERT }, 'hello\n');
      let conn = await s.connection(mark);
      expect(c.error, `${show(c)}\n${conn.diagnostics}`).to.equal(undefined);
      expect(c.received.toString()).to.equal('olleh\n');
      expect(conn.log, conn.diagnostics).to.match(/^Peer certificate: C = DE, O = qtls test PKI, CN = client$/m);
      expect(conn.log, conn.diagnostics).to.match(/^Verification: OK$/m);

      mark = s.mark();
      const none = await runClient('qtls', s.port, { ca: ca() });
      conn = await s.connection(mark);
      expect(none.error?.origin, `${show(none)}\n${conn.diagnostics}`).to.equal('remote');
      expect(conn.log, conn.diagnostics).to.match(/peer did not return a certificate/);

      // An RSA pair next to the ECDSA one: openssl's CertificateRequest allows both; the client picks one that verifies.
      mark = s.mark();
      const two = await runClient('qtls', s.port, { ca: ca(), cert: [RSA_SERVER.cert, CLIENT_CERT.cert], key: [RSA_SERVER.key, CLIENT_CERT.key] }, 'hello\n');
      conn = await s.connection(mark);
      expect(two.error, `${show(two)}\n${conn.diagnostics}`).to.equal(undefined);
      expect(conn.log).to.match(/CN = client$/m);
    });

    it('-verify 1 (optional): a client without a certificate connects', async () => {
      const s = await startOpensslServer({ certs: [CERTS.rsa], args: ['-verify', '1', '-CAfile', pkiPath('ca.pem')] }, cleanup);
      const mark = s.mark();
      const c = await runClient('qtls', s.port, { ca: ca() }, 'hello\n');
      const conn = await s.connection(mark);
      expect(c.error, `${show(c)}\n${conn.diagnostics}`).to.equal(undefined);
      expect(conn.log).to.match(/No client certificate|no peer certificate/i);
    });
  });

  describe('node:tls', () => {
    it('node client with a certificate → qtls server', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, ...verifying }, cleanup);
      const c = await runClient('node', server.port, { ca: ca(), servername: 'localhost', ...CLIENT_CERT });
      const s = await server.next();
      expect(c.error, show(c)).to.equal(undefined);
      expect(s.peerCN).to.equal('client');
      expect(s.authorized).to.equal(true);
    });

    it('qtls client with a certificate → node server (requestCert): node sees the verified certificate', async () => {
      const server = await startServer('node', { ...RSA_SERVER, requestCert: true, rejectUnauthorized: true, ca: ca(), maxVersion: 'TLSv1.2' }, cleanup);
      const c = await runClient('qtls', server.port, { ca: ca(), ...CLIENT_CERT });
      const s = await server.next();
      expect(c.error, show(c)).to.equal(undefined);
      expect(s.authorized).to.equal(true);
      expect(s.peerCN).to.equal('client');
      // Without a certificate node refuses (its alert reaches the qtls client).
      const none = await runClient('qtls', server.port, { ca: ca() });
      expect(none.error?.origin, show(none)).to.equal('remote');
      await server.nextError();
    });
  });
});
