// Client certificates (CertificateRequest / Certificate / CertificateVerify) across implementations:
// qtls client ↔ node:tls and openssl s_server requiring a certificate, node:tls and openssl s_client
// ↔ qtls server requesting one. Both ends must agree on the client certificate (fingerprint) and the
// server must report it verified. Refusals without a certificate are compared with node ↔ node.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CA_FILE, CERTS, INTERMEDIATE_PATH, ca, pki, pkiPath, textPayload, type CertKind } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, startOpensslServer, type EndpointReport, type Impl } from '../helpers/peers.js';

const CLIENT_CERT = { cert: pki('client-chain.pem'), key: pki('client-key.pem') };

describe('interop: client certificates (mutual TLS)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  async function mtls(clientImpl: Impl, serverImpl: Impl, serverCert: CertKind, withClientCert: boolean, rejectUnauthorized = true) {
    const server = await startEchoServer(
      serverImpl,
      { cert: CERTS[serverCert].chain(), key: CERTS[serverCert].key(), requestCert: true, rejectUnauthorized, ca: ca() },
      cleanup,
    );
    const client = await runClient(
      clientImpl,
      { port: server.port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2', ...(withClientCert ? CLIENT_CERT : {}) },
      { payload: Buffer.from('mtls\n') },
    );
    return { server, client };
  }

  function expectClientAuthenticated(client: EndpointReport, session: EndpointReport): void {
    const why = `${describeReport(client)}\n${describeReport(session)}`;
    expect(client.error, why).to.equal(undefined);
    expect(client.received.toString(), why).to.equal('mtls\n');
    expect(session.authorized, why).to.equal(true);
    expect(session.authorizationCode, why).to.equal(undefined);
    expect(session.peer?.subjectCN, why).to.equal('client');
    expect(session.peer?.issuerCN, why).to.equal('qtls Test Intermediate CA P-256');
  }

  for (const serverCert of ['ecdsa-p256', 'rsa'] as const) {
    for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
      it(`${clientImpl} client with an ECDSA certificate → ${serverImpl} server (${serverCert}) requiring one`, async () => {
        const { server, client } = await mtls(clientImpl, serverImpl, serverCert, true);
        const session = await server.session(0);
        await session.closed;
        expectClientAuthenticated(client, session);
        // Both implementations saw the same certificate: the server's view of the client certificate
        // matches what node itself computes for that certificate in the reference run.
        const ref = await mtls('node', 'node', serverCert, true);
        const refSession = await ref.server.session(0);
        expect(session.peer).to.deep.equal(refSession.peer);
        expect(client.peer).to.deep.equal(ref.client.peer);
      });
    }
  }

  describe('requestCert + rejectUnauthorized, client sends no certificate', () => {
    let reference: ReturnType<typeof mtls> | undefined;
    const nodeReference = () => (reference ??= mtls('node', 'node', 'ecdsa-p256', false));

    it('qtls client → node server: refused, with the alert node sends a node client', async () => {
      const ref = await nodeReference();
      const refServerError = await ref.server.clientError(0);
      const { server, client } = await mtls('qtls', 'node', 'ecdsa-p256', false);
      const serverError = await server.clientError(0);
      expect(client.secure, describeReport(client)).to.equal(false);
      expect(client.error, describeReport(client)).to.deep.include({ origin: 'remote', alert: 'handshake_failure' });
      expect(serverError.code).to.equal(refServerError.code);
    });

    it('node client → qtls server: refused like node ↔ node', async () => {
      const ref = await nodeReference();
      const { server, client } = await mtls('node', 'qtls', 'ecdsa-p256', false);
      const serverError = await server.clientError(0);
      expect(client.secure, describeReport(client)).to.equal(false);
      expect(ref.client.secure).to.equal(false);
      expect(client.error?.code, describeReport(client)).to.equal(ref.client.error?.code);
      expect(serverError).to.deep.include({ origin: 'local', alert: 'handshake_failure' });
    });
  });

  it('requestCert without rejectUnauthorized, no client certificate: connected, authorized=false, same code as node', async () => {
    const ref = await mtls('node', 'node', 'ecdsa-p256', false, false);
    const refSession = await ref.server.session(0);
    expect(refSession.authorized).to.equal(false);
    const { server, client } = await mtls('node', 'qtls', 'ecdsa-p256', false, false);
    const session = await server.session(0);
    expect(client.error, describeReport(client)).to.equal(undefined);
    expect(session.authorized).to.equal(false);
    expect(session.authorizationCode).to.equal(refSession.authorizationCode);
    expect(session.peer).to.equal(undefined);
  });

  describe('against openssl', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('qtls client → openssl s_server -Verify 1 -verify_return_error', async () => {
      const server = await startOpensslServer({ certs: [CERTS.rsa], args: ['-Verify', '1', '-CAfile', CA_FILE, '-verify_return_error'] }, cleanup);
      const mark = server.mark();
      const client = await runClient('qtls', { port: server.port, servername: 'localhost', ca: ca(), ...CLIENT_CERT }, { payload: Buffer.from('abc\n') });
      const conn = await server.connection(mark);
      const why = `${describeReport(client)}\n${conn.diagnostics}`;
      expect(client.error, why).to.equal(undefined);
      expect(client.received.toString(), why).to.equal('cba\n');
      expect(conn.closed, why).to.equal(true);
      expect(conn.log, why).to.match(/^Peer certificate: .*CN = client$/m);
      // openssl's trace: it received our Certificate and a CertificateVerify that verified.
      expect(conn.trace, why).to.match(/Received Record[\s\S]*?CertificateVerify, Length=/);
    });

    it('qtls client without a certificate → openssl s_server -Verify 1: refused', async () => {
      const server = await startOpensslServer({ certs: [CERTS.rsa], args: ['-Verify', '1', '-CAfile', CA_FILE, '-verify_return_error'] }, cleanup);
      const mark = server.mark();
      const client = await runClient('qtls', { port: server.port, servername: 'localhost', ca: ca() }, { payload: Buffer.from('abc\n') });
      const conn = await server.connection(mark);
      const why = `${describeReport(client)}\n${conn.diagnostics}`;
      expect(client.secure, why).to.equal(false);
      expect(client.error, why).to.deep.include({ origin: 'remote', alert: 'handshake_failure' });
      expect(conn.failure, why).to.equal(true);
      expect(conn.facts.alertsOut, why).to.deep.equal(['handshake failure']);
    });

    it('openssl s_client -cert → qtls server requesting a certificate', async () => {
      const payload = textPayload(2);
      const server = await startEchoServer('qtls', { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key(), requestCert: true, ca: ca() }, cleanup, { closeAfter: payload.length });
      const res = await runOpensslClient({
        port: server.port, input: payload,
        args: ['-cert', pkiPath('client-cert.pem'), '-key', pkiPath('client-key.pem'), '-cert_chain', INTERMEDIATE_PATH],
      });
      const session = await server.session(0);
      await session.closed;
      const why = `${describeReport(session)}\n${res.diagnostics}`;
      expect(res.exitCode, why).to.equal(0);
      expect(res.data, why).to.equal(payload.toString('latin1'));
      expect(res.closed, why).to.equal(true);
      expect(session.authorized, why).to.equal(true);
      expect(session.peer?.subjectCN, why).to.equal('client');
      expect(res.trace, why).to.match(/Sent Record[\s\S]*?CertificateVerify, Length=/);
    });
  });
});
