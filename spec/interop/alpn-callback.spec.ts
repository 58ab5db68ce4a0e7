// The ALPNCallback server option (node ≥ 20): what the callback is given, what its answers do, and the
// option checks — node:tls ↔ node:tls is the reference for each case.
import { expect } from 'chai';
import * as nodeTls from 'node:tls';
import { createServer as qtlsCreateServer, type ALPNCallback } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca } from '../helpers/fixtures.js';
import { describeReport, runClient, startEchoServer, type Impl } from '../helpers/peers.js';

const CERT = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };

interface Case {
  name: string;
  client: { ALPNProtocols?: string[]; servername?: string };
  answer: (info: { servername: string | false; protocols: string[] }) => unknown;
  /** The negotiated protocol, or how the handshake fails. */
  expect: string | false | 'refused' | 'invalid';
}

const CASES: Case[] = [
  { name: 'picks the second protocol', client: { ALPNProtocols: ['h2', 'http/1.1'], servername: 'localhost' }, answer: (i) => i.protocols[1], expect: 'http/1.1' },
  { name: 'no SNI: servername is false', client: { ALPNProtocols: ['h2'] }, answer: (i) => i.protocols[0], expect: 'h2' },
  { name: 'client offers no ALPN: not called', client: { servername: 'localhost' }, answer: () => 'h2', expect: false },
  { name: 'undefined refuses every protocol (no_application_protocol)', client: { ALPNProtocols: ['h2', 'http/1.1'] }, answer: () => undefined, expect: 'refused' },
  { name: 'a protocol the client did not offer is an error', client: { ALPNProtocols: ['h2'] }, answer: () => 'spdy/3', expect: 'invalid' },
  { name: 'null is an error too', client: { ALPNProtocols: ['h2'] }, answer: () => null, expect: 'invalid' },
];

describe('interop: ALPNCallback', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  async function run(serverImpl: Impl, clientImpl: Impl, c: Case) {
    const calls: unknown[] = [];
    const ALPNCallback = ((info: { servername: string | false; protocols: string[] }) => (calls.push(info), c.answer(info))) as ALPNCallback;
    const server = await startEchoServer(serverImpl, { ...CERT, ALPNCallback } as never, cleanup);
    const client = await runClient(clientImpl, { port: server.port, ca: ca(), rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...c.client }, { payload: Buffer.from('alpn\n') });
    if (c.expect === 'refused' || c.expect === 'invalid') return { client, calls, serverError: await server.clientError(0), session: undefined };
    const session = await server.session(0);
    await session.closed;
    return { client, calls, serverError: undefined, session };
  }

  for (const c of CASES) {
    describe(c.name, () => {
      let reference: ReturnType<typeof run> | undefined;
      const nodeReference = () => (reference ??= run('node', 'node', c));

      it('reference: node:tls ↔ node:tls', async () => {
        const r = await nodeReference();
        if (c.expect === 'refused') expect(r.client.error?.code, describeReport(r.client)).to.equal('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
        else if (c.expect === 'invalid') expect(r.serverError?.code).to.equal('ERR_TLS_ALPN_CALLBACK_INVALID_RESULT');
        else expect([r.client.alpn, r.session?.alpn]).to.deep.equal([c.expect, c.expect]);
      });

      for (const clientImpl of ['node', 'qtls'] as const) {
        it(`${clientImpl} client ↔ qtls server`, async () => {
          const [r, ref] = [await run('qtls', clientImpl, c), await nodeReference()];
          const why = `${describeReport(r.client)}\nserver error: ${r.serverError?.message}`;
          // The callback saw what node's saw (servername false without SNI; not called without ALPN).
          expect(r.calls, why).to.deep.equal(ref.calls);
          if (c.expect === 'refused') {
            expect(r.client.secure, why).to.equal(false);
            if (clientImpl === 'node') expect(r.client.error?.code, why).to.equal(ref.client.error?.code);
            else expect(r.client.error, why).to.deep.include({ alert: 'no_application_protocol', origin: 'remote' });
            expect(r.serverError, why).to.deep.include({ alert: 'no_application_protocol', origin: 'local' });
          } else if (c.expect === 'invalid') {
            // The server reports node's error, code and message alike. (node then resets the connection;
            // qtls tells the client with an internal_error alert.)
            expect(r.serverError?.code, why).to.equal(ref.serverError?.code);
            expect(r.serverError?.message, why).to.equal(ref.serverError?.message);
            expect(r.client.secure, why).to.equal(false);
            if (clientImpl === 'node') expect(r.client.error?.code, why).to.equal('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
            else expect(r.client.error, why).to.deep.include({ alert: 'internal_error', origin: 'remote' });
          } else {
            expect(r.client.error, why).to.equal(undefined);
            expect([r.client.alpn, r.session?.alpn], why).to.deep.equal([ref.client.alpn, ref.session?.alpn]);
            expect(r.client.received.toString()).to.equal('alpn\n');
          }
        });
      }
    });
  }

  it('is asked again on a resumed session, as node', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const seen: string[][] = [];
      const ALPNCallback = ({ protocols }: { protocols: string[] }) => (seen.push(protocols), protocols.at(-1));
      const server = await startEchoServer(impl, { ...CERT, ALPNCallback } as never, cleanup);
      const opts = { port: server.port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' as const };
      const first = await runClient('node', { ...opts, ALPNProtocols: ['h2', 'http/1.1'] });
      const second = await runClient('node', { ...opts, ALPNProtocols: ['http/1.1', 'h2'], session: first.session });
      expect([first.reused, second.reused], impl).to.deep.equal([false, true]);
      expect(seen, impl).to.deep.equal([['h2', 'http/1.1'], ['http/1.1', 'h2']]);
      expect([first.alpn, second.alpn], impl).to.deep.equal(['http/1.1', 'h2']);
    }
  });

  it('with ALPNProtocols as well throws ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS, as node', () => {
    const opts = { ...CERT, ALPNProtocols: ['h2'], ALPNCallback: () => 'h2' };
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
      }
      return undefined;
    };
    const ref = thrown(() => nodeTls.createServer(opts));
    expect(ref?.code).to.equal('ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS');
    expect(thrown(() => qtlsCreateServer(opts))).to.deep.equal(ref);
    // setSecureContext() must not create the combination either.
    const server = qtlsCreateServer({ ...CERT, ALPNCallback: () => 'h2' });
    expect(thrown(() => server.setSecureContext({ ALPNProtocols: ['h2'] }))).to.deep.equal(ref);
  });

  it('a callback that is not a function is refused when the server is created', () => {
    // node checks only when a client connects, and the TypeError then escapes as an uncaught exception.
    expect(() => qtlsCreateServer({ ...CERT, ALPNCallback: 'h2' as never }))
      .to.throw(TypeError, 'The "options.ALPNCallback" property must be of type function').with.property('code', 'ERR_INVALID_ARG_TYPE');
  });

  it('a callback that throws fails the handshake and the server reports the error', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const server = await startEchoServer(impl, { ...CERT, ALPNCallback: () => { throw new Error('callback exploded'); } } as never, cleanup);
      const client = await runClient('node', { port: server.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ALPNProtocols: ['h2'] });
      expect(client.secure, impl).to.equal(false);
      expect((await server.clientError(0)).message, impl).to.match(/callback exploded/);
    }
  });
});
