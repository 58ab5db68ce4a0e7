// OCSP stapling (RFC 6066 §8) with node's API: the client's `requestOCSP` option and 'OCSPResponse'
// event, the server's 'OCSPRequest' event `(certificate, issuer, callback)`. node:tls ↔ node:tls is the
// reference for what each side sees; qtls must see the same against node:tls in both directions and
// against itself. A qtls client's trace shows the wire: Certificate, CertificateStatus, ServerKeyExchange.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as nodeTls from 'node:tls';
import { connect as qtlsConnect, createSecureContext, type TraceEvent } from '../../lib/index.js';
import { ExtensionType } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { parseClientHello } from '../../lib/handshake/messages/client-hello.js';
import { parseServerHello } from '../../lib/handshake/messages/server-hello.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki } from '../helpers/fixtures.js';
import { startEchoServer, type EchoServer, type Impl } from '../helpers/peers.js';
import { LOCALHOST } from '../helpers/ports.js';

/** A real DER OCSPResponse for ecdsa-p256-cert.pem (fixtures/pki/make-ocsp.sh). */
const OCSP_DER = pki('ocsp-ecdsa-p256-good.der');
const der = (name: string) => new X509Certificate(pki(name)).raw;
const LEAF = der('ecdsa-p256-cert.pem');
const RSA_LEAF = der('rsa-cert.pem');
const INTERMEDIATE = der('intermediate-ca.pem');
const CERT = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
const RESPONDER_DOWN = new Error('responder unreachable');
const PAIRS: ReadonlyArray<[server: Impl, client: Impl]> = [['node', 'qtls'], ['qtls', 'node'], ['qtls', 'qtls']];

type OcspCallback = (err: Error | null, response?: unknown) => void;
interface OcspRequest {
  cert: Buffer;
  issuer: Buffer | null;
  /** `this` in the listener was the server. */
  thisIsServer: boolean;
  args: number;
}

interface ClientSide {
  /** In order: 'OCSPResponse <n> bytes' / 'OCSPResponse null', 'secureConnect', 'error'. */
  events: string[];
  responses: Array<Buffer | null>;
  secure: boolean;
  reused: boolean | undefined;
  session: Buffer | undefined;
  error: (Error & { code?: string; alert?: string; origin?: string }) | undefined;
  /** qtls clients: handshake messages received, and the ServerHello's extension types. */
  messagesIn: string[];
  serverHelloExtensions: number[] | undefined;
  statusRequestSent: Uint8Array | undefined;
}

/** Connect, record the OCSP events, end once secure; never rejects (destroys the socket after `timeoutMs`). */
async function runClient(impl: Impl, port: number, options: Record<string, unknown> = {}, timeoutMs = 5000): Promise<ClientSide> {
  const r: ClientSide = { events: [], responses: [], secure: false, reused: undefined, session: undefined, error: undefined, messagesIn: [], serverHelloExtensions: undefined, statusRequestSent: undefined };
  const opts: Record<string, unknown> = { host: LOCALHOST, port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2', requestOCSP: true, ...options };
  if (impl === 'qtls') {
    opts.trace = (e: TraceEvent) => {
      if (e.kind !== 'handshake' || !e.raw) return;
      if (e.direction === 'out' && e.type === HandshakeType.client_hello) r.statusRequestSent = parseClientHello(e.raw.subarray(4)).extensions.get(ExtensionType.status_request);
      if (e.direction !== 'in') return;
      r.messagesIn.push(e.name);
      if (e.type === HandshakeType.server_hello) r.serverHelloExtensions = [...parseServerHello(e.raw.subarray(4)).extensions.keys()];
    };
  }
  const sock = (impl === 'node' ? nodeTls.connect(opts as nodeTls.ConnectionOptions) : qtlsConnect(opts)) as nodeTls.TLSSocket;
  sock.on('OCSPResponse', (resp: Buffer | null) => {
    r.responses.push(resp);
    r.events.push(`OCSPResponse ${resp ? `${resp.length} bytes` : String(resp)}`);
  });
  sock.once('secureConnect', () => {
    r.events.push('secureConnect');
    r.secure = true;
    r.reused = sock.isSessionReused();
    sock.end();
  });
  sock.on('session', (s: Buffer) => (r.session = s));
  sock.on('error', (e: Error) => {
    r.events.push('error');
    r.error ??= e;
  });
  sock.resume();
  const timer = setTimeout(() => sock.destroy(new Error(`${impl} client: not closed within ${timeoutMs} ms`)), timeoutMs);
  await new Promise((resolve) => sock.once('close', resolve));
  clearTimeout(timer);
  return r;
}

describe('interop: OCSP stapling (RFC 6066 §8)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  /** An echo server whose 'OCSPRequest' listener records the call and answers with `answer`. */
  async function stapler(impl: Impl, answer: ((cb: OcspCallback) => void) | 'no listener', options: Record<string, unknown> = {}) {
    const server = await startEchoServer(impl, { ...CERT, maxVersion: 'TLSv1.2', ...options } as never, cleanup);
    const requests: OcspRequest[] = [];
    if (answer !== 'no listener') {
      server.server.on('OCSPRequest', function (this: unknown, cert: Buffer, issuer: Buffer | null, cb: OcspCallback) {
        requests.push({ cert, issuer, thisIsServer: this === server.server, args: arguments.length });
        answer(cb);
      });
    }
    return { server, requests };
  }

  interface Case {
    name: string;
    answer: ((cb: OcspCallback) => void) | 'no listener';
    /** The response the client receives; 'fails': the handshake does. */
    expect: Buffer | null | 'fails';
  }
  const CASES: Case[] = [
    { name: 'callback(null, DER)', answer: (cb) => cb(null, OCSP_DER), expect: OCSP_DER },
    { name: 'callback(null, Uint8Array)', answer: (cb) => cb(null, new Uint8Array(OCSP_DER)), expect: OCSP_DER },
    { name: 'callback(null, DER) 100 ms later: the handshake waits', answer: (cb) => void setTimeout(() => cb(null, OCSP_DER), 100), expect: OCSP_DER },
    { name: 'callback(null, null): nothing stapled', answer: (cb) => cb(null, null), expect: null },
    { name: 'callback(null): nothing stapled', answer: (cb) => cb(null), expect: null },
    { name: 'callback(null, empty Buffer): nothing stapled', answer: (cb) => cb(null, Buffer.alloc(0)), expect: null },
    { name: 'no OCSPRequest listener: nothing stapled', answer: 'no listener', expect: null },
    { name: 'callback(err): the handshake fails', answer: (cb) => cb(RESPONDER_DOWN), expect: 'fails' },
  ];

  async function run(serverImpl: Impl, clientImpl: Impl, c: Case) {
    const { server, requests } = await stapler(serverImpl, c.answer);
    const client = await runClient(clientImpl, server.port);
    const serverError = c.expect === 'fails' ? await server.clientError(0) : undefined;
    return { client, requests, serverError, server };
  }

  for (const c of CASES) {
    describe(c.name, () => {
      let reference: ReturnType<typeof run> | undefined;
      const nodeReference = () => (reference ??= run('node', 'node', c));

      it('reference: node:tls ↔ node:tls', async () => {
        const r = await nodeReference();
        if (c.expect === 'fails') {
          expect(r.client.secure).to.equal(false);
          expect(r.serverError).to.equal(RESPONDER_DOWN);
        } else {
          expect(r.client.events).to.deep.equal([c.expect ? `OCSPResponse ${c.expect.length} bytes` : 'OCSPResponse null', 'secureConnect']);
          if (c.expect) expect(r.client.responses[0]).to.deep.equal(c.expect);
        }
      });

      for (const [serverImpl, clientImpl] of PAIRS) {
        it(`${clientImpl} client ↔ ${serverImpl} server`, async () => {
          const [r, ref] = [await run(serverImpl, clientImpl, c), await nodeReference()];
          const why = `client events ${JSON.stringify(r.client.events)}, error ${r.client.error?.message}; server error ${r.serverError?.message}`;
          // The listener got what node's got: the leaf and its issuer as DER, `this` the server.
          expect(r.requests.map((q) => [q.cert, q.issuer, q.thisIsServer, q.args]), why).to.deep.equal(ref.requests.map((q) => [q.cert, q.issuer, q.thisIsServer, q.args]));
          if (c.answer !== 'no listener') expect(r.requests.map((q) => [q.cert, q.issuer]), why).to.deep.equal([[LEAF, INTERMEDIATE]]);
          if (c.expect === 'fails') {
            expect(r.client.secure, why).to.equal(false);
            expect(r.client.events, why).to.not.include('OCSPResponse null');
            // node reports the callback's error itself; qtls a TLSError (internal_error) caused by it.
            if (serverImpl === 'node') expect(r.serverError, why).to.equal(RESPONDER_DOWN);
            else expect(r.serverError, why).to.deep.include({ alert: 'internal_error', message: 'internal_error: responder unreachable', cause: RESPONDER_DOWN });
            // node resets the connection; a qtls server sends internal_error.
            if (serverImpl === 'qtls' && clientImpl === 'node') expect(r.client.error?.code, why).to.equal('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
            if (serverImpl === 'qtls' && clientImpl === 'qtls') expect(r.client.error, why).to.deep.include({ alert: 'internal_error', origin: 'remote' });
            if (serverImpl === 'node') expect(r.client.error?.code, why).to.equal(ref.client.error?.code);
            return;
          }
          expect(r.client.events, why).to.deep.equal(ref.client.events);
          expect(r.client.responses, why).to.deep.equal(ref.client.responses);
          if (clientImpl === 'qtls') {
            // On the wire: ServerHello announces it only when something is stapled; CertificateStatus sits
            // between Certificate and ServerKeyExchange (RFC 6066 §8).
            expect(r.client.serverHelloExtensions, why).to.satisfy((exts: number[]) => exts.includes(ExtensionType.status_request) === (c.expect !== null));
            expect(r.client.messagesIn.slice(0, 5), why).to.deep.equal(
              c.expect ? ['server_hello', 'certificate', 'certificate_status', 'server_key_exchange', 'server_hello_done'] : ['server_hello', 'certificate', 'server_key_exchange', 'server_hello_done', 'new_session_ticket'],
            );
          }
        });
      }
    });
  }

  it('a client without requestOCSP: no OCSPRequest, no OCSPResponse, no status_request on the wire', async () => {
    for (const [serverImpl, clientImpl] of [['node', 'node'], ...PAIRS] as const) {
      const { server, requests } = await stapler(serverImpl, (cb) => cb(null, OCSP_DER));
      const client = await runClient(clientImpl, server.port, { requestOCSP: false });
      const pair = `${clientImpl} → ${serverImpl}`;
      expect(client.events, pair).to.deep.equal(['secureConnect']);
      expect(requests, pair).to.have.length(0);
      if (clientImpl === 'qtls') expect(client.statusRequestSent, pair).to.equal(undefined);
    }
  });

  it("the ClientHello's status_request is byte-equal to node's (ocsp, no responder IDs, no extensions)", async () => {
    const sent: Record<Impl, Uint8Array | undefined> = { node: undefined, qtls: undefined };
    const trace = (e: TraceEvent) => {
      if (e.direction === 'in' && e.type === HandshakeType.client_hello && e.raw) sent.node = parseClientHello(e.raw.subarray(4)).extensions.get(ExtensionType.status_request);
    };
    const { server } = await stapler('qtls', (cb) => cb(null, OCSP_DER), { trace });
    await runClient('node', server.port);
    sent.qtls = (await runClient('qtls', server.port)).statusRequestSent;
    expect(sent.node).to.deep.equal(Uint8Array.of(1, 0, 0, 0, 0));
    expect(sent.qtls).to.deep.equal(sent.node);
  });

  describe('resumption: no OCSPRequest and no OCSPResponse on an abbreviated handshake, as node', () => {
    for (const [serverImpl, clientImpl] of [['node', 'node'], ...PAIRS] as const) {
      for (const tickets of [true, false]) {
        // node:tls servers resume by session ID only through newSession/resumeSession; tickets are enough there.
        if (serverImpl === 'node' && !tickets) continue;
        it(`${clientImpl} client → ${serverImpl} server, ${tickets ? 'ticket' : 'session ID'}`, async () => {
          const { server, requests } = await stapler(serverImpl, (cb) => cb(null, OCSP_DER), serverImpl === 'qtls' ? { sessionTickets: tickets } : {});
          const first = await runClient(clientImpl, server.port);
          const second = await runClient(clientImpl, server.port, { session: first.session });
          expect([first.reused, second.reused]).to.deep.equal([false, true]);
          expect(first.events).to.deep.equal([`OCSPResponse ${OCSP_DER.length} bytes`, 'secureConnect']);
          expect(second.events).to.deep.equal(['secureConnect']);
          expect(requests).to.have.length(1);
          if (clientImpl === 'qtls') expect(second.messagesIn).to.not.include('certificate_status');
        });
      }
    }
  });

  describe('the issuer argument', () => {
    const cases: Array<{ name: string; server: Record<string, unknown>; issuer: Buffer | null }> = [
      { name: 'the chain has it', server: {}, issuer: INTERMEDIATE },
      { name: 'the leaf alone, no ca: null', server: { cert: pki('ecdsa-p256-cert.pem') }, issuer: null },
      { name: 'the leaf alone, the issuer in ca: found there', server: { cert: pki('ecdsa-p256-cert.pem'), ca: pki('intermediate-ca.pem') }, issuer: INTERMEDIATE },
    ];
    for (const c of cases) {
      it(`${c.name} (node and qtls servers alike)`, async () => {
        for (const impl of ['node', 'qtls'] as const) {
          const { server, requests } = await stapler(impl, (cb) => cb(null, OCSP_DER), c.server);
          const client = await runClient('node', server.port, { rejectUnauthorized: false });
          expect(client.events, impl).to.deep.equal([`OCSPResponse ${OCSP_DER.length} bytes`, 'secureConnect']);
          expect(requests.map((q) => [q.cert, q.issuer]), impl).to.deep.equal([[LEAF, c.issuer]]);
        }
      });
    }
  });

  it("SNICallback first, then OCSPRequest with the SNI context's certificate (as node)", async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const order: string[] = [];
      const rsa = { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() };
      const ctx = impl === 'node' ? nodeTls.createSecureContext(rsa) : createSecureContext(rsa);
      const SNICallback = (_name: string, cb: (e: Error | null, c: unknown) => void) => (order.push('SNICallback'), cb(null, ctx));
      const { server, requests } = await stapler(impl, (cb) => (order.push('OCSPRequest'), cb(null, OCSP_DER)), { SNICallback });
      const client = await runClient('node', server.port);
      expect(client.events, impl).to.deep.equal([`OCSPResponse ${OCSP_DER.length} bytes`, 'secureConnect']);
      expect(order, impl).to.deep.equal(['SNICallback', 'OCSPRequest']);
      expect(requests.map((q) => [q.cert, q.issuer]), impl).to.deep.equal([[RSA_LEAF, INTERMEDIATE]]);
    }
  });

  it('several certificates: qtls names the one it serves; node names the last configured (known difference)', async () => {
    const certs = { cert: [CERTS.rsa.chain(), CERTS['ecdsa-p256'].chain()], key: [CERTS.rsa.key(), CERTS['ecdsa-p256'].key()] };
    const seen: Record<Impl, Buffer[]> = { node: [], qtls: [] };
    for (const impl of ['node', 'qtls'] as const) {
      const { server, requests } = await stapler(impl, (cb) => cb(null, OCSP_DER), certs);
      for (const ciphers of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256']) {
        const client = await runClient('node', server.port, { ciphers });
        expect(client.secure, `${impl} ${ciphers}`).to.equal(true);
      }
      seen[impl] = requests.map((q) => q.cert);
    }
    // node asks before it picks the certificate (OpenSSL's cert_cb), so it passes the context's current one.
    expect(seen.node).to.deep.equal([LEAF, LEAF]);
    expect(seen.qtls).to.deep.equal([RSA_LEAF, LEAF]);
  });

  it('callback called twice: ERR_MULTIPLE_CALLBACK ends the connection, as node', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const { server } = await stapler(impl, (cb) => (cb(null, OCSP_DER), cb(null, OCSP_DER)));
      const client = await runClient('node', server.port);
      const err = await server.clientError(0);
      expect([err.code, err.message], impl).to.deep.equal(['ERR_MULTIPLE_CALLBACK', 'Callback called multiple times']);
      expect(client.secure, impl).to.equal(false);
    }
  });

  it("an answer that is not a buffer throws node's TypeError at the caller; qtls then fails the handshake (node hangs until its timeout)", async () => {
    const thrown: Record<Impl, unknown> = { node: undefined, qtls: undefined };
    const servers: Partial<Record<Impl, EchoServer>> = {};
    for (const impl of ['node', 'qtls'] as const) {
      const { server } = await stapler(impl, (cb) => {
        try {
          cb(null, 'not a buffer');
        } catch (e) {
          thrown[impl] = e;
        }
      }, { handshakeTimeout: 500 });
      servers[impl] = server;
      // A node:tls server leaves the connection open after its handshake timeout.
      await runClient('node', server.port, {}, 1500);
    }
    const shape = (e: unknown) => e && { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
    expect(shape(thrown.node)).to.deep.equal({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'OCSP response must be a buffer' });
    expect(shape(thrown.qtls)).to.deep.equal(shape(thrown.node));
    expect((await servers.node!.clientError(0)).code).to.equal('ERR_TLS_HANDSHAKE_TIMEOUT');
    expect((await servers.qtls!.clientError(0)).cause).to.equal(thrown.qtls);
  });

  it('a callback never called: the handshake timeout still applies (ERR_TLS_HANDSHAKE_TIMEOUT, as node)', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const { server } = await stapler(impl, () => {}, { handshakeTimeout: 300 });
      const started = Date.now();
      const client = runClient('node', server.port, {}, 1500);
      expect((await server.clientError(0)).code, impl).to.equal('ERR_TLS_HANDSHAKE_TIMEOUT');
      expect(Date.now() - started, impl).to.be.within(250, 1500);
      expect((await client).secure, impl).to.equal(false);
    }
  });

  it('a listener that throws fails the handshake with its error (qtls)', async () => {
    const exploded = new Error('listener exploded');
    const { server } = await stapler('qtls', () => {
      throw exploded;
    });
    const client = await runClient('qtls', server.port);
    expect((await server.clientError(0)).cause).to.equal(exploded);
    expect(client.error).to.deep.include({ alert: 'internal_error', origin: 'remote' });
  });

  it("destroying the client in 'OCSPResponse' ends it before secureConnect, as node", async () => {
    const events: Record<Impl, string[]> = { node: [], qtls: [] };
    const { server } = await stapler('node', (cb) => cb(null, OCSP_DER));
    for (const impl of ['node', 'qtls'] as const) {
      const opts = { host: LOCALHOST, port: server.port, servername: 'localhost', ca: ca(), requestOCSP: true, maxVersion: 'TLSv1.2' as const };
      const sock = (impl === 'node' ? nodeTls.connect(opts) : qtlsConnect(opts)) as nodeTls.TLSSocket;
      sock.on('OCSPResponse', () => (events[impl].push('OCSPResponse'), sock.destroy()));
      sock.on('secureConnect', () => events[impl].push('secureConnect'));
      sock.on('error', (e) => events[impl].push(`error ${e.message}`));
      await new Promise((r) => sock.once('close', r));
    }
    expect(events.node).to.deep.equal(['OCSPResponse']);
    expect(events.qtls).to.deep.equal(events.node);
  });

  it("an unverifiable server certificate: node emits 'OCSPResponse' before failing, qtls fails at Certificate (known difference)", async () => {
    const { server } = await stapler('node', (cb) => cb(null, OCSP_DER));
    const [node, qtls] = [await runClient('node', server.port, { ca: pki('rsa-root-ca.pem') }), await runClient('qtls', server.port, { ca: pki('rsa-root-ca.pem') })];
    expect(node.events).to.deep.equal([`OCSPResponse ${OCSP_DER.length} bytes`, 'error']);
    expect(node.error?.code).to.equal('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(qtls.events).to.deep.equal(['error']);
    expect(qtls.error?.alert).to.equal('unknown_ca');
  });
});
