// Session resumption (RFC 5246 §7.3 abbreviated handshake) with session tickets (RFC 5077) and with
// session IDs, against node:tls and openssl both ways. Each case: a full handshake, then a second
// connection offering the saved session; both ends must report the resumption, keep the suite and
// the master secret (same key log secret, new client random), move data and close cleanly.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, startOpensslServer, type EchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';

type Mechanism = 'ticket' | 'session-id';

const secretOf = (r: EndpointReport) => r.keylog[0]?.split(' ')[2];
const randomOf = (r: EndpointReport) => r.keylog[0]?.split(' ')[1];

describe('interop: session resumption', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();
  const cert = CERTS['ecdsa-p256'];

  /** Server options for a mechanism: tickets off forces session IDs (node needs an external cache for those). */
  function server(impl: Impl, mechanism: Mechanism): Promise<EchoServer> {
    const noTickets = mechanism === 'session-id' ? { sessionTickets: false, secureOptions: 0x4000 /* node: SSL_OP_NO_TICKET */ } : {};
    return startEchoServer(impl, { cert: cert.chain(), key: cert.key(), ...noTickets }, cleanup);
  }

  for (const mechanism of ['ticket', 'session-id'] as const) {
    for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
      it(`${mechanism}: ${clientImpl} client → ${serverImpl} server`, async () => {
        const srv = await server(serverImpl, mechanism);
        // node:tls resumes session IDs only through its external-cache events.
        if (serverImpl === 'node' && mechanism === 'session-id') attachNodeSessionCache(srv);
        const opts = { port: srv.port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' as const, ...(mechanism === 'session-id' ? { sessionTickets: false } : {}) };
        const payload = Buffer.from('first\n');
        const first = await runClient(clientImpl, opts, { payload });
        const s1 = await srv.session(0);
        await s1.closed;
        expect(first.error, describeReport(first)).to.equal(undefined);
        expect(first.reused).to.equal(false);
        expect(s1.reused).to.equal(false);
        expect(first.session, 'no session to resume').to.be.instanceOf(Buffer);

        const second = await runClient(clientImpl, { ...opts, session: first.session }, { payload: Buffer.from('second\n') });
        const s2 = await srv.session(1);
        await s2.closed;
        const why = `${describeReport(second)}\n${describeReport(s2)}`;
        expect(second.error, why).to.equal(undefined);
        expect(second.reused, why).to.equal(true);
        expect(s2.reused, why).to.equal(true);
        expect(second.cipher, why).to.deep.equal(first.cipher);
        expect(s2.cipher, why).to.deep.equal(first.cipher);
        expect(second.received.toString(), why).to.equal('second\n');
        expect(s2.received.toString(), why).to.equal('second\n');
        expect(second.ended && s2.ended, why).to.equal(true);
        // Same master secret, fresh client random; both ends log the same line.
        expect(second.keylog, why).to.deep.equal(s2.keylog);
        expect(secretOf(second), why).to.equal(secretOf(first));
        expect(randomOf(second), why).to.not.equal(randomOf(first));
      });
    }
  }

  describe('against openssl', () => {
    let dir: string;
    before(function () {
      requireOpenssl(this);
    });
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'qtls-sess-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    for (const mechanism of ['ticket', 'session-id'] as const) {
      it(`${mechanism}: openssl s_client -sess_out/-sess_in → qtls server`, async () => {
        const srv = await startEchoServer('qtls', { cert: cert.chain(), key: cert.key(), ...(mechanism === 'session-id' ? { sessionTickets: false } : {}) }, cleanup, { closeAfter: 6 });
        const sess = path.join(dir, 'session.pem');
        const extra = mechanism === 'session-id' ? ['-no_ticket'] : [];
        const first = await runOpensslClient({ port: srv.port, input: 'one\nX\n', args: ['-sess_out', sess, ...extra] });
        expect(first.exitCode, first.diagnostics).to.equal(0);
        expect(first.reused, first.diagnostics).to.equal(false);
        const second = await runOpensslClient({ port: srv.port, input: 'two\nY\n', args: ['-sess_in', sess, ...extra] });
        const why = `${second.diagnostics}\n${second.stdout.slice(0, 400)}`;
        expect(second.exitCode, why).to.equal(0);
        expect(second.reused, why).to.equal(true);
        expect(second.data, why).to.equal('two\nY\n');
        expect(second.closed, why).to.equal(true);
        expect(second.masterKey, why).to.equal(first.masterKey);
        // The abbreviated handshake: no Certificate or ServerKeyExchange from the server.
        expect(second.trace, why).to.not.match(/ServerKeyExchange, Length=/);
        const s2 = await srv.session(1);
        expect(s2.reused).to.equal(true);
        expect(secretOf(s2)).to.equal(second.masterKey);
      });

      it(`${mechanism}: qtls client → openssl s_server`, async () => {
        const srv = await startOpensslServer({ certs: [cert], args: mechanism === 'session-id' ? ['-no_ticket'] : [] }, cleanup);
        const opts = { port: srv.port, servername: 'localhost', ca: ca(), ...(mechanism === 'session-id' ? { sessionTickets: false } : {}) };
        const m1 = srv.mark();
        const first = await runClient('qtls', opts, { payload: Buffer.from('abc\n') });
        const c1 = await srv.connection(m1);
        expect(first.error, `${describeReport(first)}\n${c1.diagnostics}`).to.equal(undefined);
        expect(first.reused).to.equal(false);
        const m2 = srv.mark();
        const second = await runClient('qtls', { ...opts, session: first.session }, { payload: Buffer.from('def\n') });
        const c2 = await srv.connection(m2);
        const why = `${describeReport(second)}\n${c2.diagnostics}`;
        expect(second.error, why).to.equal(undefined);
        expect(second.reused, why).to.equal(true);
        expect(second.received.toString(), why).to.equal('fed\n');
        expect(c2.closed, why).to.equal(true);
        expect(c2.trace, why).to.not.match(/ServerKeyExchange, Length=/);
        expect(c2.masterSecret, why).to.equal(secretOf(first));
        expect(secretOf(second), why).to.equal(secretOf(first));
        if (mechanism === 'ticket') expect(c2.trace, why).to.match(/extension_type=session_ticket\(35\), length=[1-9]/);
      });
    }
  });
});

/** node:tls's documented external session cache (newSession/resumeSession). */
function attachNodeSessionCache(srv: EchoServer): void {
  const cache = new Map<string, Buffer>();
  srv.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
    cache.set(id.toString('hex'), data);
    cb();
  });
  srv.server.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => cb(null, cache.get(id.toString('hex')) ?? null));
}
