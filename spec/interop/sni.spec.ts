// Server Name Indication (RFC 6066 §3): what the client sends (a host name, never an IP address),
// what the server reports in socket.servername, and SNICallback choosing the certificate. Each case runs
// node ↔ node as the reference and the mixed pairs against it.
import { expect } from 'chai';
import * as nodeTls from 'node:tls';
import { useCleanup } from '../helpers/cleanup.js';
import { BAD_CERTS, CERTS, ca, textPayload } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';

interface SniCase {
  name: string;
  client: { servername?: string };
  /** SNICallback is called with this name (undefined: not called, no SNI sent). */
  sni: string | undefined;
  authorized: boolean;
  authorizationCode?: string;
}

const CASES: SniCase[] = [
  { name: "servername 'localhost' → the SNICallback certificate", client: { servername: 'localhost' }, sni: 'localhost', authorized: true },
  { name: "servername 'wrong.example' → the default certificate, valid for that name", client: { servername: 'wrong.example' }, sni: 'wrong.example', authorized: true },
  { name: 'connect by IP address, no servername → no SNI, default certificate (wrong name for 127.0.0.1)', client: {}, sni: undefined, authorized: false, authorizationCode: 'ERR_TLS_CERT_ALTNAME_INVALID' },
];

describe('interop: SNI and SNICallback', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  /** Default certificate: wrong.example; SNICallback serves the ECDSA localhost certificate for 'localhost'. */
  async function run(clientImpl: Impl, serverImpl: Impl, c: SniCase) {
    const calls: string[] = [];
    const good = CERTS['ecdsa-p256'];
    const SNICallback = (name: string, cb: (err: Error | null, ctx?: unknown) => void) => {
      calls.push(name);
      if (name !== 'localhost') return cb(null, undefined);
      // node wants a SecureContext; qtls takes the { cert, key } options directly.
      cb(null, serverImpl === 'node' ? nodeTls.createSecureContext({ cert: good.chain(), key: good.key() }) : { cert: good.chain(), key: good.key() });
    };
    const server = await startEchoServer(serverImpl, { cert: BAD_CERTS['wrong-name'].chain(), key: BAD_CERTS['wrong-name'].key(), SNICallback: SNICallback as never }, cleanup);
    const client = await runClient(clientImpl, { port: server.port, ca: ca(), rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...c.client }, { payload: Buffer.from('sni\n') });
    const session = await server.session(0);
    await session.closed;
    return { client, session, calls };
  }

  for (const c of CASES) {
    describe(c.name, () => {
      let reference: ReturnType<typeof run> | undefined;
      const nodeReference = () => (reference ??= run('node', 'node', c));

      const check = (r: Awaited<ReturnType<typeof run>>, ref: Awaited<ReturnType<typeof run>>) => {
        const why = `${describeReport(r.client)}\n${describeReport(r.session)}\ncalls ${JSON.stringify(r.calls)}`;
        expect(r.client.error, why).to.equal(undefined);
        expect(r.calls, why).to.deep.equal(c.sni === undefined ? [] : [c.sni]);
        expect(r.client.authorized, why).to.equal(c.authorized);
        expect(r.client.authorizationCode, why).to.equal(c.authorizationCode);
        expect(r.client.received.toString(), why).to.equal('sni\n');
        // Same certificate and the same servername report as node ↔ node.
        expect(r.client.peer, why).to.deep.equal(ref.client.peer);
        expect(r.session.servername, why).to.equal(ref.session.servername);
      };

      it('reference: node client ↔ node server', async () => {
        const ref = await nodeReference();
        check(ref, ref);
        expect(ref.session.servername).to.equal(c.sni ?? false);
      });
      for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
        it(`${clientImpl} client ↔ ${serverImpl} server`, async () => check(await run(clientImpl, serverImpl, c), await nodeReference()));
      }
    });
  }

  describe('against openssl', () => {
    before(function () {
      requireOpenssl(this);
    });

    for (const [label, servername, expectSni, expectCN] of [
      ['-servername localhost', 'localhost', 'localhost', 'localhost'],
      ['-noservername', null, undefined, 'wrong.example'],
    ] as const) {
      it(`openssl s_client ${label} → qtls server with SNICallback`, async () => {
        const calls: string[] = [];
        const good = CERTS.rsa;
        const payload = textPayload(1);
        const server = await startEchoServer(
          'qtls',
          {
            cert: BAD_CERTS['wrong-name'].chain(), key: BAD_CERTS['wrong-name'].key(),
            SNICallback: ((name: string, cb: (err: Error | null, ctx?: { cert: Buffer; key: Buffer }) => void) => {
              calls.push(name);
              cb(null, name === 'localhost' ? { cert: good.chain(), key: good.key() } : undefined);
            }) as never,
          },
          cleanup,
          { closeAfter: payload.length },
        );
        const res = await runOpensslClient({ port: server.port, verify: false, servername, input: payload });
        const session: EndpointReport = await server.session(0);
        expect(res.exitCode, res.diagnostics).to.equal(0);
        expect(calls).to.deep.equal(expectSni ? [expectSni] : []);
        expect(session.servername).to.equal(expectSni ?? false);
        expect(res.stdout, res.diagnostics).to.match(new RegExp(`^subject=.*CN = ${expectCN.replace('.', '\\.')}$`, 'm'));
      });
    }
  });
});
