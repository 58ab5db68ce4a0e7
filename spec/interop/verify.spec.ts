// rejectUnauthorized semantics compared with node:tls. For each bad server certificate (unknown CA,
// wrong host, expired) a node:tls server presents it to a node:tls client and to a qtls client:
//  - rejectUnauthorized true (the default): both fail the handshake; qtls sends the alert openssl's
//    s_client sends for the same failure (node's server reports both the same way);
//  - rejectUnauthorized false: both connect with authorized=false and the same authorizationError code.
// And node:tls clients see the same verdict whether the certificate comes from node or from qtls
// (qtls sends the chain as node does).
import { expect } from 'chai';
import * as nodeTls from 'node:tls';
import { useCleanup } from '../helpers/cleanup.js';
import { BAD_CERTS, CERTS, ca, textPayload, type BadCertKind } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';

interface Scenario {
  name: string;
  chain: () => Buffer;
  key: () => Buffer;
  /** Client options beyond port/ca. */
  client: { servername?: string };
  /** node:tls's verify error code (error.code when rejecting, authorizationError otherwise). */
  nodeCode: string;
  /** The alert qtls (and openssl) send when rejecting. */
  alert: string;
  /** node's error code for that alert as received by a node:tls server. */
  serverCode: string;
}

const bad = (kind: BadCertKind) => BAD_CERTS[kind];
const SCENARIOS: Scenario[] = [
  { name: 'unknown CA', ...bad('unknown-ca'), client: { servername: 'localhost' }, nodeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', alert: 'unknown_ca', serverCode: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
  { name: 'wrong host (certificate for wrong.example)', ...bad('wrong-name'), client: { servername: 'localhost' }, nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID', alert: 'bad_certificate', serverCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' },
  {
    name: 'wrong host (good certificate, servername not in its SAN)',
    chain: () => CERTS['ecdsa-p256'].chain(), key: () => CERTS['ecdsa-p256'].key(),
    client: { servername: 'not-localhost.example' }, nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID', alert: 'bad_certificate', serverCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  },
  { name: 'expired', ...bad('expired'), client: { servername: 'localhost' }, nodeCode: 'CERT_HAS_EXPIRED', alert: 'certificate_expired', serverCode: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED' },
];

const authCode = (r: EndpointReport) => r.authorizationCode;

describe('interop: rejectUnauthorized semantics vs node:tls', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  async function connect(clientImpl: Impl, serverImpl: Impl, s: Pick<Scenario, 'chain' | 'key' | 'client'>, rejectUnauthorized: boolean) {
    const server = await startEchoServer(serverImpl, { cert: s.chain(), key: s.key() }, cleanup);
    const client = await runClient(clientImpl, { port: server.port, ca: ca(), rejectUnauthorized, maxVersion: 'TLSv1.2', ...s.client }, { payload: Buffer.from('ping\n') });
    return { server, client };
  }

  it('control: a good certificate verifies on both clients, by name and by IP address SAN', async () => {
    const good = { chain: () => CERTS['ecdsa-p256'].chain(), key: () => CERTS['ecdsa-p256'].key() };
    for (const client of [{ servername: 'localhost' }, {}]) {
      for (const impl of ['node', 'qtls'] as const) {
        const { client: r } = await connect(impl, 'node', { ...good, client }, true);
        const why = `${JSON.stringify(client)}\n${describeReport(r)}`;
        expect(r.error, why).to.equal(undefined);
        expect(r.authorized, why).to.equal(true);
        expect(authCode(r), why).to.equal(undefined);
        expect(r.received.toString(), why).to.equal('ping\n');
      }
    }
  });

  for (const s of SCENARIOS) {
    describe(s.name, () => {
      it(`rejectUnauthorized true: node client fails with ${s.nodeCode}; qtls client fails with a ${s.alert} alert`, async () => {
        const n = await connect('node', 'node', s, true);
        expect(n.client.secure, describeReport(n.client)).to.equal(false);
        expect(n.client.error?.code, describeReport(n.client)).to.equal(s.nodeCode);

        const q = await connect('qtls', 'node', s, true);
        const why = describeReport(q.client);
        expect(q.client.secure, why).to.equal(false);
        expect(q.client.received.length, why).to.equal(0);
        expect(q.client.error, why).to.deep.include({ alert: s.alert, origin: 'local' });
        // The node server received that alert.
        const serverError = await q.server.clientError(0);
        expect(serverError.code, serverError.message).to.equal(s.serverCode);
      });

      it(`rejectUnauthorized false: both connect with authorized=false, authorizationError ${s.nodeCode}`, async () => {
        for (const impl of ['node', 'qtls'] as const) {
          const { client: r, server } = await connect(impl, 'node', s, false);
          const why = describeReport(r);
          expect(r.error, why).to.equal(undefined);
          expect(r.secure, why).to.equal(true);
          expect(r.authorized, why).to.equal(false);
          expect(authCode(r), why).to.equal(s.nodeCode);
          expect(r.received.toString(), why).to.equal('ping\n');
          expect(server.clientErrors, why).to.deep.equal([]);
        }
      });

      it('node:tls clients reach the same verdict against a qtls server presenting the certificate', async () => {
        for (const reject of [true, false]) {
          const viaNode = await connect('node', 'node', s, reject);
          const viaQtls = await connect('node', 'qtls', s, reject);
          const why = `rejectUnauthorized ${reject}\n${describeReport(viaNode.client)}\n${describeReport(viaQtls.client)}`;
          expect(viaQtls.client.secure, why).to.equal(viaNode.client.secure);
          expect(viaQtls.client.error?.code, why).to.equal(viaNode.client.error?.code);
          expect(viaQtls.client.authorized, why).to.equal(viaNode.client.authorized);
          expect(authCode(viaQtls.client), why).to.equal(authCode(viaNode.client));
        }
      });
    });
  }

  describe('checkServerIdentity (node:tls semantics: called with the detailed peer certificate)', () => {
    /** node's documentation pattern: the default host check, then a pin on the leaf's SHA-256 fingerprint. */
    function pinning(pin: string | undefined, seen: Array<Record<string, unknown>>) {
      return (host: string, cert: nodeTls.PeerCertificate & { issuerCertificate?: nodeTls.PeerCertificate }) => {
        seen.push({ host, cn: cert.subject?.CN, san: cert.subjectaltname, fp: cert.fingerprint256, issuerCN: cert.issuerCertificate?.subject?.CN });
        const err = nodeTls.checkServerIdentity(host, cert);
        if (err) return err;
        if (pin !== undefined && cert.fingerprint256 !== pin) return Object.assign(new Error(`certificate pin mismatch for ${host}`), { code: 'ERR_PIN_MISMATCH' });
        return undefined;
      };
    }

    it('a node-style pinning callback accepts the pinned certificate on both clients, seeing the same object fields', async () => {
      const good = { chain: () => CERTS.rsa.chain(), key: () => CERTS.rsa.key() };
      const server = await startEchoServer('node', { cert: good.chain(), key: good.key() }, cleanup);
      const seen: Record<Impl, Array<Record<string, unknown>>> = { node: [], qtls: [] };
      // Learn the fingerprint from a plain node connection, then pin it.
      const probe = await runClient('node', { port: server.port, servername: 'localhost', ca: ca() }, { payload: Buffer.from('p') });
      const fingerprint = probe.peer?.fingerprint256 as string;
      expect(fingerprint).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      for (const impl of ['node', 'qtls'] as const) {
        const r = await runClient(impl, { port: server.port, servername: 'localhost', ca: ca(), checkServerIdentity: pinning(fingerprint, seen[impl]) as never }, { payload: Buffer.from('ping\n') });
        expect(r.error, describeReport(r)).to.equal(undefined);
        expect(r.authorized, describeReport(r)).to.equal(true);
        expect(r.received.toString()).to.equal('ping\n');
      }
      expect(seen.qtls).to.have.length(1);
      expect(seen.qtls).to.deep.equal(seen.node);
      expect(seen.qtls[0]).to.deep.include({ host: 'localhost', cn: 'localhost', fp: fingerprint, issuerCN: 'qtls Test Intermediate CA P-256' });
    });

    it("a pin mismatch rejects on both clients (rejectUnauthorized true) and is the authorizationError otherwise", async () => {
      const server = await startEchoServer('node', { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() }, cleanup);
      const wrongPin = Array(32).fill('00').join(':');
      for (const impl of ['node', 'qtls'] as const) {
        const rejected = await runClient(impl, { port: server.port, servername: 'localhost', ca: ca(), checkServerIdentity: pinning(wrongPin, []) as never }, { payload: Buffer.from('x') });
        expect(rejected.secure, describeReport(rejected)).to.equal(false);
        expect(rejected.received.length).to.equal(0);
        if (impl === 'node') expect(rejected.error?.code).to.equal('ERR_PIN_MISMATCH');
        else expect(rejected.error?.message).to.match(/certificate pin mismatch for localhost/);
        const allowed = await runClient(impl, { port: server.port, servername: 'localhost', ca: ca(), rejectUnauthorized: false, checkServerIdentity: pinning(wrongPin, []) as never }, { payload: Buffer.from('x') });
        expect(allowed.error, describeReport(allowed)).to.equal(undefined);
        expect(allowed.authorized).to.equal(false);
        expect(allowed.authorizationCode).to.equal('ERR_PIN_MISMATCH');
      }
    });
  });

  describe('against openssl s_client -verify_return_error', () => {
    before(function () {
      requireOpenssl(this);
    });

    for (const s of SCENARIOS) {
      const want = { alert: s.alert.replace(/_/g, ' ').replace('unknown ca', 'unknown CA'), serverCode: s.serverCode };
      it(`${s.name}: openssl rejects with ${want.alert} like qtls`, async () => {
        const server = await startEchoServer('node', { cert: s.chain(), key: s.key() }, cleanup);
        const res = await runOpensslClient({ port: server.port, servername: s.client.servername, input: textPayload(1) });
        expect(res.exitCode, res.diagnostics).to.not.equal(0);
        const serverError = await server.clientError(0);
        expect(serverError.code, `${serverError.message}\n${res.diagnostics}`).to.equal(want.serverCode);
        expect(res.facts.alertsOut, res.diagnostics).to.deep.equal([want.alert]);
      });
    }
  });
});
