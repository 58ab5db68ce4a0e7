// Handshakes that cannot succeed (no common suite, no common group, no common version, a suite the
// certificate can't serve): a qtls endpoint must refuse the way a node:tls endpoint does — same alert
// on the wire, so the node peer reports the same error code as in the node ↔ node reference run.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, textPayload } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, type Impl } from '../helpers/peers.js';

interface FailureCase {
  name: string;
  server: Record<string, unknown>;
  /** Client options; `qtls` overrides for a qtls client where node spells an option differently. */
  client: Record<string, unknown>;
  qtlsClient?: Record<string, unknown>;
  /** The alert the server sends (RFC 5246 §7.2 name). */
  alert: string;
  /** Skip a direction qtls can't express (it implements TLS 1.2 only). */
  noQtlsClient?: boolean;
  noQtlsServer?: boolean;
}

const ecdsa = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
const CASES: FailureCase[] = [
  {
    name: 'no cipher suite in common',
    server: { ...ecdsa, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
    client: { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' },
    alert: 'handshake_failure',
  },
  {
    name: 'only RSA suites offered to an ECDSA-only server',
    server: { ...ecdsa },
    client: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305', maxVersion: 'TLSv1.2' },
    alert: 'handshake_failure',
  },
  {
    name: 'no ECDHE group in common',
    server: { cert: CERTS.rsa.chain(), key: CERTS.rsa.key(), ecdhCurve: 'P-256', groups: 'P-256', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' },
    client: { ecdhCurve: 'X25519', groups: 'X25519', maxVersion: 'TLSv1.2' },
    alert: 'handshake_failure',
  },
  {
    name: 'TLS 1.3-only client, TLS 1.2 server',
    server: { ...ecdsa, maxVersion: 'TLSv1.2' },
    client: { minVersion: 'TLSv1.3' },
    alert: 'protocol_version',
    noQtlsClient: true,
  },
  {
    name: 'TLS 1.2 client, TLS 1.3-only server',
    server: { ...ecdsa, minVersion: 'TLSv1.3' },
    client: { maxVersion: 'TLSv1.2' },
    alert: 'protocol_version',
    noQtlsServer: true,
  },
];

/** node's error code for a received alert, e.g. handshake_failure → ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE. */
function alertOfNodeCode(code: string | undefined): string | undefined {
  return /_ALERT_([A-Z_]+)$/.exec(code ?? '')?.[1]?.toLowerCase();
}

describe('interop: refused handshakes send the alert node:tls sends', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  async function run(clientImpl: Impl, serverImpl: Impl, c: FailureCase) {
    const server = await startEchoServer(serverImpl, c.server as never, cleanup);
    const client = await runClient(clientImpl, { port: server.port, servername: 'localhost', ca: ca(), ...c.client, ...(clientImpl === 'qtls' ? c.qtlsClient : {}) } as never, { payload: Buffer.from('x') });
    const serverError = await server.clientError(0, 5000);
    return { client, serverError };
  }

  for (const c of CASES) {
    describe(c.name, () => {
      let reference: ReturnType<typeof run> | undefined;
      const nodeReference = () => (reference ??= run('node', 'node', c));

      it(`reference: node ↔ node fails with ${c.alert}`, async () => {
        const ref = await nodeReference();
        expect(ref.client.secure).to.equal(false);
        expect(alertOfNodeCode(ref.client.error?.code), describeReport(ref.client)).to.equal(c.alert);
      });

      if (!c.noQtlsServer) it('node client → qtls server: the same error as node ↔ node', async () => {
        const ref = await nodeReference();
        const r = await run('node', 'qtls', c);
        const why = `${describeReport(r.client)}\nqtls server: ${r.serverError.message}`;
        expect(r.client.secure, why).to.equal(false);
        expect(r.client.error?.code, why).to.equal(ref.client.error?.code);
        expect(r.serverError, why).to.deep.include({ alert: c.alert, origin: 'local' });
      });

      if (!c.noQtlsClient) {
        it('qtls client → node server: receives that alert; node reports what it reported to a node client', async () => {
          const ref = await nodeReference();
          const r = await run('qtls', 'node', c);
          const why = `${describeReport(r.client)}\nnode server: ${r.serverError.code} ${r.serverError.message}`;
          expect(r.client.secure, why).to.equal(false);
          expect(r.client.error, why).to.deep.include({ alert: c.alert, origin: 'remote' });
          expect(r.serverError.code, why).to.equal(ref.serverError.code);
        });
      }
    });
  }

  describe('against openssl s_client', () => {
    before(function () {
      requireOpenssl(this);
    });

    for (const [name, server, args, alert] of [
      ['no cipher suite in common', { ...ecdsa, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, ['-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'], 'handshake failure'],
      ['no group in common', { ...ecdsa, groups: 'P-384' }, ['-groups', 'X25519'], 'handshake failure'],
    ] as const) {
      it(`${name}: qtls server sends ${alert}`, async () => {
        const srv = await startEchoServer('qtls', server, cleanup);
        const res = await runOpensslClient({ port: srv.port, input: textPayload(1), args: [...args] });
        const serverError = await srv.clientError(0);
        expect(res.exitCode, res.diagnostics).to.not.equal(0);
        expect(res.facts.alertsIn, res.diagnostics).to.deep.equal([alert]);
        expect(serverError.alert).to.equal(alert.replace(' ', '_'));
      });
    }

    it('s_client -tls1_3 → qtls server: protocol_version', async () => {
      const srv = await startEchoServer('qtls', ecdsa, cleanup);
      const res = await runOpensslClient({ port: srv.port, input: textPayload(1), versionArgs: ['-tls1_3'] });
      const serverError = await srv.clientError(0);
      expect(res.exitCode, res.diagnostics).to.not.equal(0);
      expect(res.facts.alertsIn, res.diagnostics).to.deep.equal(['protocol version']);
      expect(serverError.alert).to.equal('protocol_version');
    });
  });
});
