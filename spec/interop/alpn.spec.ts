// ALPN (RFC 7301) against node:tls both ways, with node:tls ↔ node:tls as the reference for each
// case's expected outcome, and a positive case each way against openssl.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, textPayload } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, startOpensslServer, type Impl } from '../helpers/peers.js';

interface AlpnCase {
  name: string;
  client?: string[];
  server?: string[];
  /** The protocol both sides must report, or 'refused' (no overlap: no_application_protocol). */
  expect: string | false | 'refused';
}

const CASES: AlpnCase[] = [
  { name: 'overlap on one protocol', client: ['h2', 'http/1.1'], server: ['http/1.1'], expect: 'http/1.1' },
  { name: "the server's preference wins", client: ['http/1.1', 'h2'], server: ['h2', 'http/1.1'], expect: 'h2' },
  { name: 'client offers, server has no ALPN', client: ['h2'], expect: false },
  { name: 'server has ALPN, client offers none', server: ['h2'], expect: false },
  { name: 'no overlap → no_application_protocol', client: ['h2', 'spdy/3'], server: ['http/1.1'], expect: 'refused' },
];

describe('interop: ALPN against node:tls', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  async function run(clientImpl: Impl, serverImpl: Impl, c: AlpnCase) {
    const cert = CERTS['ecdsa-p256'];
    const server = await startEchoServer(serverImpl, { cert: cert.chain(), key: cert.key(), ...(c.server ? { ALPNProtocols: c.server } : {}) }, cleanup);
    const client = await runClient(
      clientImpl,
      { port: server.port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2', ...(c.client ? { ALPNProtocols: c.client } : {}) },
      { payload: Buffer.from('alpn\n') },
    );
    if (c.expect === 'refused') {
      const serverError = await server.clientError(0);
      return { client, serverError, session: undefined };
    }
    const session = await server.session(0);
    await session.closed;
    return { client, serverError: undefined, session };
  }

  for (const c of CASES) {
    describe(c.name, () => {
      // node ↔ node is the reference outcome (computed once, also when a single test is --grep'ed).
      let reference: ReturnType<typeof run> | undefined;
      const nodeReference = () => (reference ??= run('node', 'node', c));

      it('reference: node:tls client ↔ node:tls server', async () => {
        const r = await nodeReference();
        if (c.expect === 'refused') {
          expect(r.client.secure).to.equal(false);
          expect(r.client.error?.code, describeReport(r.client)).to.equal('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
        } else {
          expect(r.client.alpn, describeReport(r.client)).to.equal(c.expect);
          expect(r.session!.alpn).to.equal(c.expect);
        }
      });

      for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
        it(`${clientImpl} client ↔ ${serverImpl} server`, async () => {
          const r = await run(clientImpl, serverImpl, c);
          const why = `${describeReport(r.client)}\nserver error: ${r.serverError?.message}`;
          if (c.expect === 'refused') {
            // The server refuses with a fatal no_application_protocol alert; the client reports it.
            expect(r.client.secure, why).to.equal(false);
            if (clientImpl === 'qtls') {
              expect(r.client.error, why).to.deep.include({ alert: 'no_application_protocol', origin: 'remote' });
              // node's server reports the same failure it reported in the reference run.
              const ref = (await nodeReference()).serverError;
              expect(ref?.code, 'node server error in the reference run').to.be.a('string');
              expect(r.serverError?.code, why).to.equal(ref?.code);
            } else {
              expect(r.client.error?.code, why).to.equal('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
              expect(r.serverError, why).to.deep.include({ alert: 'no_application_protocol', origin: 'local' });
            }
            return;
          }
          expect(r.client.error, why).to.equal(undefined);
          expect(r.client.alpn, why).to.equal(c.expect);
          expect(r.session!.alpn, why).to.equal(c.expect);
          expect(r.client.alpn, 'same as node ↔ node').to.equal((await nodeReference()).client.alpn);
          expect(r.client.received.toString()).to.equal('alpn\n');
        });
      }
    });
  }
});

describe('interop: ALPN against openssl', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  before(function () {
    requireOpenssl(this);
  });

  it('openssl s_client -alpn h2,http/1.1 → qtls server [http/1.1]', async () => {
    const payload = textPayload(1);
    const server = await startEchoServer('qtls', { cert: CERTS.rsa.chain(), key: CERTS.rsa.key(), ALPNProtocols: ['http/1.1'] }, cleanup, { closeAfter: payload.length });
    const res = await runOpensslClient({ port: server.port, alpn: ['h2', 'http/1.1'], input: payload });
    expect(res.exitCode, res.diagnostics).to.equal(0);
    expect(res.alpn, res.diagnostics).to.equal('http/1.1');
    const s = await server.session(0);
    expect(s.alpn).to.equal('http/1.1');
  });

  it('qtls client [h2, http/1.1] → openssl s_server -alpn http/1.1', async () => {
    const server = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], alpn: ['http/1.1'] }, cleanup);
    const mark = server.mark();
    const client = await runClient('qtls', { port: server.port, servername: 'localhost', ca: ca(), ALPNProtocols: ['h2', 'http/1.1'] }, { payload: Buffer.from('abc\n') });
    const conn = await server.connection(mark);
    expect(client.error, `${describeReport(client)}\n${conn.diagnostics}`).to.equal(undefined);
    expect(client.alpn).to.equal('http/1.1');
    expect(client.received.toString()).to.equal('cba\n');
    // s_server's own trace of its ServerHello: the ALPN extension selecting http/1.1.
    expect(conn.trace).to.match(/Sent Record[\s\S]*?ServerHello[\s\S]*?extension_type=application_layer_protocol_negotiation\(16\), length=11\n\s+http\/1\.1\n/);
  });
});
