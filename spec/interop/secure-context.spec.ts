// createSecureContext() and every place a context goes: connect({ secureContext }), createServer() and
// setSecureContext(), an SNICallback's answer and addContext(). node ↔ node configured the same way is the
// reference wherever node takes the context; where node does not (createServer ignores `secureContext`),
// node's behaviour is recorded next to qtls's. Also: bad input throws when the context is made, a
// node:tls SecureContext is refused clearly, and a context is parsed once, not per handshake.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as nodeTls from 'node:tls';
import { connect as qtlsConnect, createSecureContext, createServer as qtlsCreateServer, type SecureContext, type TLSSocket } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { BAD_CERTS, CERTS, ca, pki } from '../helpers/fixtures.js';
import { describeReport, runClient, startEchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';
import { LOCALHOST, listenLocal } from '../helpers/ports.js';

const RSA = { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() };
const ECDSA = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
const DEFAULT = { cert: BAD_CERTS['wrong-name'].chain(), key: BAD_CERTS['wrong-name'].key() };
const CLIENT = { cert: pki('client-chain.pem'), key: pki('client-key.pem') };
const UNKNOWN_ROOT = pki('unknown-root-ca.pem');
const fingerprint = (chain: Buffer) => new X509Certificate(chain).fingerprint256;
const WHICH: Record<string, string> = { [fingerprint(DEFAULT.cert)]: 'default', [fingerprint(ECDSA.cert)]: 'ecdsa', [fingerprint(RSA.cert)]: 'rsa' };
const which = (r: EndpointReport) => WHICH[String(r.peer?.fingerprint256)] ?? `none (${describeReport(r)})`;

/** A context of that implementation. node's client contexts cap the version: options.maxVersion beside one is ignored. */
function contextOf(impl: Impl, options: Record<string, unknown>): unknown {
  return impl === 'node' ? nodeTls.createSecureContext({ maxVersion: 'TLSv1.2', ...options } as nodeTls.SecureContextOptions) : createSecureContext(options);
}

function thrown(f: () => unknown): { name: string; code: unknown; message: string } | undefined {
  try {
    f();
  } catch (e) {
    return { name: (e as Error).name, code: (e as { code?: unknown }).code, message: (e as Error).message };
  }
  return undefined;
}

describe('interop: createSecureContext() and the secureContext option', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  describe('connect({ secureContext })', () => {
    /** A client of `impl` whose context holds `ctxOptions`, with `alongside` given next to it. */
    async function connectWith(impl: Impl, server: { port: number }, ctxOptions: Record<string, unknown>, alongside: Record<string, unknown> = {}) {
      return runClient(impl, { port: server.port, servername: 'localhost', maxVersion: 'TLSv1.2', ...alongside, secureContext: contextOf(impl, ctxOptions) } as never, { payload: Buffer.from('ctx\n') });
    }

    it("verifies the server with the context's ca; a context with another ca rejects it, as node", async () => {
      const server = await startEchoServer('node', { ...RSA }, cleanup);
      const results: Record<string, { secure: boolean; code: unknown }> = {};
      for (const impl of ['node', 'qtls'] as const) {
        const good = await connectWith(impl, server, { ca: ca() });
        expect(good.error, describeReport(good)).to.equal(undefined);
        expect(good.authorized, impl).to.equal(true);
        expect(good.received.toString(), impl).to.equal('ctx\n');
        const bad = await connectWith(impl, server, { ca: UNKNOWN_ROOT });
        // node's error carries the verification code; qtls's is the TLSError (its alert), caused by it.
        const code = impl === 'node' ? bad.error?.code : (bad.error?.cause as { code?: unknown } | undefined)?.code;
        results[impl] = { secure: bad.secure, code };
        expect(bad.secure, impl).to.equal(false);
        expect(bad.error, impl).to.not.equal(undefined);
      }
      // The same verification failure.
      expect(results.qtls!.code).to.equal(results.node!.code);
    });

    it("the context's ca, not the ca option beside it (either way round), as node", async () => {
      const server = await startEchoServer('node', { ...ECDSA }, cleanup);
      for (const impl of ['node', 'qtls'] as const) {
        const ctxWins = await connectWith(impl, server, { ca: ca() }, { ca: UNKNOWN_ROOT });
        expect(ctxWins.error, `${impl}: ${describeReport(ctxWins)}`).to.equal(undefined);
        expect(ctxWins.authorized, impl).to.equal(true);
        const optionIgnored = await connectWith(impl, server, { ca: UNKNOWN_ROOT }, { ca: ca() });
        expect(optionIgnored.secure, `${impl}: ${describeReport(optionIgnored)}`).to.equal(false);
        // Without rejectUnauthorized the handshake completes, unauthorized by the context's ca.
        const lenient = await connectWith(impl, server, { ca: UNKNOWN_ROOT }, { ca: ca(), rejectUnauthorized: false });
        expect(lenient.secure, impl).to.equal(true);
        expect(lenient.authorized, impl).to.equal(false);
      }
    });

    it("the context's ciphers, not the ciphers option beside it, as node", async () => {
      // The server holds both an RSA and an ECDSA certificate, so either kind of suite can be negotiated.
      const server = await startEchoServer('node', { cert: [RSA.cert, ECDSA.cert], key: [RSA.key, ECDSA.key] }, cleanup);
      for (const impl of ['node', 'qtls'] as const) {
        const r = await connectWith(impl, server, { ca: ca(), ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
        expect(r.error, describeReport(r)).to.equal(undefined);
        expect(r.cipher?.name, impl).to.equal('ECDHE-ECDSA-AES256-GCM-SHA384');
        // Without a context the option applies (the control).
        const control = await runClient(impl, { port: server.port, ca: ca(), maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, { payload: Buffer.from('ctx\n') });
        expect(control.cipher?.name, impl).to.equal('ECDHE-RSA-AES128-GCM-SHA256');
      }
    });

    it("the context's client certificate, not the cert/key options beside it, as node", async () => {
      const server = await startEchoServer('node', { ...ECDSA, ca: ca(), requestCert: true, rejectUnauthorized: false }, cleanup);
      let n = 0;
      for (const impl of ['node', 'qtls'] as const) {
        await connectWith(impl, server, { ca: ca(), ...CLIENT });
        const withCert = await server.session(n++);
        expect(withCert.peer?.subjectCN, impl).to.equal('client');
        expect(withCert.authorized, impl).to.equal(true);
        // A context without a certificate: the cert/key beside it are not sent.
        await connectWith(impl, server, { ca: ca() }, { ...CLIENT });
        const without = await server.session(n++);
        expect(without.peer, impl).to.equal(undefined);
      }
    });

    it('minVersion/maxVersion beside a context are ignored (node negotiates by its context), not refused', async () => {
      const server = await startEchoServer('node', { ...ECDSA }, cleanup);
      for (const impl of ['node', 'qtls'] as const) {
        const r = await connectWith(impl, server, { ca: ca() }, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
        expect(r.error, describeReport(r)).to.equal(undefined);
        expect(r.protocol, impl).to.equal('TLSv1.2');
      }
      // Without a context qtls refuses TLS 1.3 up front.
      expect(() => qtlsConnect({ port: 1, host: LOCALHOST, maxVersion: 'TLSv1.3' })).to.throw(/TLSv1.2 only/);
    });

    it('a falsy secureContext means none: the options apply, as node', async () => {
      const server = await startEchoServer('node', { ...ECDSA }, cleanup);
      for (const impl of ['node', 'qtls'] as const) {
        for (const secureContext of [null, undefined, 0]) {
          const r = await runClient(impl, { port: server.port, ca: ca(), maxVersion: 'TLSv1.2', secureContext } as never, { payload: Buffer.from('ctx\n') });
          expect(r.error, `${impl} ${secureContext}: ${describeReport(r)}`).to.equal(undefined);
          expect(r.authorized).to.equal(true);
        }
      }
    });

    it('against a qtls server too', async () => {
      const server = await startEchoServer('qtls', { ...RSA }, cleanup);
      const ok = await connectWith('qtls', server, { ca: ca() }, { ca: UNKNOWN_ROOT });
      expect(ok.error, describeReport(ok)).to.equal(undefined);
      expect(ok.authorized).to.equal(true);
      const refused = await connectWith('qtls', server, { ca: UNKNOWN_ROOT }, { ca: ca() });
      expect(refused.secure).to.equal(false);
    });
  });

  describe('createServer({ secureContext }) and setSecureContext()', () => {
    it("a qtls server serves the context's certificate; node's createServer ignores the option (documented)", async () => {
      // node: "The tls.Server constructor and the tls.createServer() method do not support the secureContext option."
      const nodeOnly = await startEchoServer('node', { secureContext: nodeTls.createSecureContext(RSA) } as never, cleanup);
      const refused = await runClient('node', { port: nodeOnly.port, ca: ca(), maxVersion: 'TLSv1.2' });
      expect(refused.secure, 'node ignores the context: no certificate, no shared cipher').to.equal(false);
      expect((await nodeOnly.clientError(0)).message).to.match(/no shared cipher/);
      const nodeBoth = await startEchoServer('node', { secureContext: nodeTls.createSecureContext(RSA), ...ECDSA } as never, cleanup);
      expect(which(await runClient('node', { port: nodeBoth.port, ca: ca(), maxVersion: 'TLSv1.2' })), 'node: the cert option').to.equal('ecdsa');

      // qtls takes the option as connect() does: the context stands for the context options beside it.
      const qtlsOnly = await startEchoServer('qtls', { secureContext: createSecureContext(RSA) }, cleanup);
      const qtlsBoth = await startEchoServer('qtls', { secureContext: createSecureContext(RSA), ...ECDSA }, cleanup);
      for (const clientImpl of ['node', 'qtls'] as const) {
        for (const server of [qtlsOnly, qtlsBoth]) {
          const r = await runClient(clientImpl, { port: server.port, ca: ca(), maxVersion: 'TLSv1.2' }, { payload: Buffer.from('ctx\n') });
          expect(r.error, describeReport(r)).to.equal(undefined);
          expect(r.authorized, clientImpl).to.equal(true);
          expect(which(r), clientImpl).to.equal('rsa');
        }
      }
    });

    it("client certificates are verified with the context's ca (not the ca option beside it)", async () => {
      const server = await startEchoServer('qtls', { secureContext: createSecureContext({ ...ECDSA, ca: ca() }), ca: UNKNOWN_ROOT, requestCert: true }, cleanup);
      let n = 0;
      for (const clientImpl of ['node', 'qtls'] as const) {
        const r = await runClient(clientImpl, { port: server.port, ca: ca(), maxVersion: 'TLSv1.2', ...CLIENT }, { payload: Buffer.from('ctx\n') });
        expect(r.error, describeReport(r)).to.equal(undefined);
        const session = await server.session(n++);
        expect(session.authorized, clientImpl).to.equal(true);
        expect(session.peer?.subjectCN, clientImpl).to.equal('client');
      }
      const wrongCa = await startEchoServer('qtls', { secureContext: createSecureContext({ ...ECDSA, ca: UNKNOWN_ROOT }), ca: ca(), requestCert: true }, cleanup);
      const r = await runClient('node', { port: wrongCa.port, ca: ca(), maxVersion: 'TLSv1.2', ...CLIENT });
      expect(r.secure && r.ended && r.receivedLength > 0, describeReport(r)).to.equal(false);
      expect((await wrongCa.clientError(0)).message).to.match(/certificate|issuer|CA/i);
    });

    it("the context's ciphers and honorCipherOrder, not the options beside it", async () => {
      const both = { cert: [RSA.cert, ECDSA.cert], key: [RSA.key, ECDSA.key] };
      const server = await startEchoServer('qtls', { secureContext: createSecureContext({ ...both, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, cleanup);
      const r = await runClient('node', { port: server.port, ca: ca(), maxVersion: 'TLSv1.2' });
      expect(r.cipher?.name, describeReport(r)).to.equal('ECDHE-RSA-AES256-GCM-SHA384');
      // honorCipherOrder false in the context: the client's order wins although the option beside says true.
      const offer = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';
      const clientOrder = await startEchoServer('qtls', { secureContext: createSecureContext({ ...ECDSA, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256', honorCipherOrder: false }), honorCipherOrder: true }, cleanup);
      expect((await runClient('node', { port: clientOrder.port, ca: ca(), maxVersion: 'TLSv1.2', ciphers: offer })).cipher?.name).to.equal('ECDHE-ECDSA-AES128-GCM-SHA256');
      const serverOrder = await startEchoServer('qtls', { secureContext: createSecureContext({ ...ECDSA, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256' }), honorCipherOrder: false }, cleanup);
      expect((await runClient('node', { port: serverOrder.port, ca: ca(), maxVersion: 'TLSv1.2', ciphers: offer })).cipher?.name, 'server default: its order').to.equal('ECDHE-ECDSA-AES256-GCM-SHA384');
    });

    it('setSecureContext({ secureContext }) switches new connections to the context; options without one drop it', async () => {
      const server = await startEchoServer('qtls', { ...ECDSA }, cleanup);
      const qtlsServer = server.server as ReturnType<typeof qtlsCreateServer>;
      const served = async () => which(await runClient('node', { port: server.port, ca: ca(), maxVersion: 'TLSv1.2', rejectUnauthorized: false }));
      expect(await served()).to.equal('ecdsa');
      qtlsServer.setSecureContext({ secureContext: createSecureContext(RSA) });
      expect(await served()).to.equal('rsa');
      qtlsServer.setSecureContext({ ...DEFAULT });
      expect(await served()).to.equal('default');
      // A bad context argument leaves the server as it was.
      expect(() => qtlsServer.setSecureContext({ secureContext: nodeTls.createSecureContext(RSA) as never })).to.throw(/node:tls SecureContext/);
      expect(await served()).to.equal('default');
    });

    it('setSecureContext() replaces the context options as a whole, as node (what is not given is not kept)', async () => {
      for (const impl of ['node', 'qtls'] as const) {
        // Only ciphers given: the certificate is gone, so certificate suites fail.
        const a = await startEchoServer(impl, { ...RSA }, cleanup);
        a.server.setSecureContext({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
        const r = await runClient('node', { port: a.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
        expect(r.secure, `${impl}: ${describeReport(r)}`).to.equal(false);
        // A new certificate without ca: client certificates no longer verify against the old ca.
        const b = await startEchoServer(impl, { ...RSA, ca: ca(), requestCert: true, rejectUnauthorized: false }, cleanup);
        b.server.setSecureContext({ ...ECDSA });
        await runClient('node', { port: b.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...CLIENT });
        const session = await b.session(0);
        expect(session.peer?.subjectCN, impl).to.equal('client');
        expect(session.authorized, impl).to.equal(false);
        expect(which(await runClient('node', { port: b.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' })), impl).to.equal('ecdsa');
      }
    });
  });

  describe('SNICallback answering with a context', () => {
    /** a.example → RSA, b.example → ECDSA, anything else → the default (wrong.example) certificate. */
    async function served(serverImpl: Impl, clientImpl: Impl, servername: string | undefined, viaInner = false) {
      const contexts = { 'a.example': contextOf(serverImpl, RSA), 'b.example': contextOf(serverImpl, ECDSA) } as Record<string, unknown>;
      const calls: string[] = [];
      const SNICallback = (name: string, cb: (err: Error | null, ctx?: unknown) => void) => {
        calls.push(name);
        const ctx = contexts[name] as { context?: unknown } | undefined;
        cb(null, viaInner ? ctx?.context : ctx);
      };
      const server = await startEchoServer(serverImpl, { ...DEFAULT, SNICallback: SNICallback as never }, cleanup);
      const client = await runClient(clientImpl, { port: server.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...(servername ? { servername } : {}) }, { payload: Buffer.from('sni\n') });
      expect(client.error, describeReport(client)).to.equal(undefined);
      return { cert: which(client), calls };
    }

    for (const [servername, expected] of [['a.example', 'rsa'], ['b.example', 'ecdsa'], ['c.example', 'default'], [undefined, 'default']] as const) {
      it(`SNI ${servername ?? '(none)'} → the ${expected} certificate, as node`, async () => {
        const reference = await served('node', 'node', servername);
        expect(reference.cert, 'node ↔ node').to.equal(expected);
        for (const clientImpl of ['node', 'qtls'] as const) {
          const r = await served('qtls', clientImpl, servername);
          expect(r.cert, `${clientImpl} client ↔ qtls server`).to.equal(expected);
          expect(r.calls).to.deep.equal(reference.calls);
        }
      });
    }

    it('cb(null, ctx.context) works too, as node', async () => {
      expect((await served('node', 'node', 'a.example', true)).cert).to.equal('rsa');
      expect((await served('qtls', 'node', 'a.example', true)).cert).to.equal('rsa');
    });

    it('a context without a certificate fails that handshake with a clear error', async () => {
      const server = await startEchoServer('qtls', { ...DEFAULT, SNICallback: (_n, cb) => cb(null, createSecureContext({ ca: ca() })) }, cleanup);
      const client = await runClient('node', { port: server.port, servername: 'x.example', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      expect(client.secure).to.equal(false);
      expect((await server.clientError(0)).message).to.match(/SecureContext for "x.example" has no certificate/);
    });
  });

  describe('addContext(hostname, context)', () => {
    async function served(impl: Impl, servername: string) {
      const server = await startEchoServer(impl, { ...DEFAULT }, cleanup);
      server.server.addContext('*.example', contextOf(impl, ECDSA) as never);
      server.server.addContext('a.example', contextOf(impl, RSA) as never);
      return which(await runClient('node', { port: server.port, servername, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, { payload: Buffer.from('ctx\n') }));
    }

    for (const [servername, expected] of [['a.example', 'rsa'], ['b.example', 'ecdsa'], ['b.other', 'default']] as const) {
      it(`SNI ${servername} → the ${expected} certificate, as node`, async () => {
        expect(await served('node', servername), 'node ↔ node').to.equal(expected);
        expect(await served('qtls', servername), 'node client ↔ qtls server').to.equal(expected);
      });
    }

    it('plain { cert, key } options still work beside contexts', async () => {
      const server = await startEchoServer('qtls', { ...DEFAULT }, cleanup);
      server.server.addContext('a.example', createSecureContext(ECDSA) as never);
      server.server.addContext('b.example', RSA);
      const get = async (servername: string) => which(await runClient('qtls', { port: server.port, servername, rejectUnauthorized: false }));
      expect([await get('a.example'), await get('b.example')]).to.deep.equal(['ecdsa', 'rsa']);
    });
  });

  describe('createSecureContext() input', () => {
    const BAD: Array<[string, Record<string, unknown>, RegExp, boolean]> = [
      // [what, options, qtls error, whether node's createSecureContext throws too]
      ['unreadable certificate', { cert: 'not a certificate', key: RSA.key }, /./, true],
      // node (OpenSSL) silently drops a key that does not match and fails the handshakes instead.
      ['key of another certificate', { cert: RSA.cert, key: ECDSA.key }, /no private key matches/, false],
      ['certificate without key', { cert: RSA.cert }, /without its private key/, false],
      ['unknown cipher suite', { ciphers: 'NOT-A-SUITE' }, /unknown cipher suite "NOT-A-SUITE"/, true],
      ['ciphers not a string', { ciphers: 7 }, /ciphers must be a string/, true],
      ['unknown group', { ecdhCurve: 'P-999' }, /unknown group "P-999"/, true],
      ['unknown signature algorithm', { sigalgs: 'RSA+MD5000' }, /unknown signature algorithm/, true],
      ['a TLS version qtls lacks', { minVersion: 'TLSv1.3' }, /TLSv1.2 only/, false],
    ];

    for (const [what, options, error, nodeThrows] of BAD) {
      it(`${what}: throws when the context is made, as createServer() would`, () => {
        const qtls = thrown(() => createSecureContext(options));
        expect(qtls?.message, what).to.match(error);
        // The same error createServer() and connect() give for the same options.
        expect(thrown(() => qtlsCreateServer(options)), 'createServer').to.deep.equal(qtls);
        if (nodeThrows) expect(thrown(() => nodeTls.createSecureContext(options as never)), 'node throws too').to.not.equal(undefined);
      });
    }

    it('an unreadable ca or dhparam throws at once (createServer reads them on first use; node ignores them)', () => {
      expect(() => createSecureContext({ ca: 'not a certificate' })).to.throw(/CERTIFICATE/);
      expect(() => createSecureContext({ dhparam: 'not DH parameters' })).to.throw(/DHParameter|DH PARAMETERS/);
      expect(() => createSecureContext({ dhparam: 'auto' })).to.not.throw();
      expect(() => createSecureContext({ dhparam: pki('../dh/dh2048.pem') })).to.not.throw();
    });

    it('options that are not an object throw ERR_INVALID_ARG_TYPE as node; falsy ones are empty options', () => {
      for (const v of ['x', 5, [], () => 1]) {
        const ref = thrown(() => nodeTls.createSecureContext(v as never));
        expect(ref?.code, String(v)).to.equal('ERR_INVALID_ARG_TYPE');
        expect(thrown(() => createSecureContext(v as never)), String(v)).to.deep.equal(ref);
      }
      for (const v of [undefined, null, 0, '', false]) expect(() => createSecureContext(v as never), String(v)).to.not.throw();
    });

    it("has node's one public member, `context`, and cannot be made with new", () => {
      const ctx = createSecureContext(RSA);
      const node = nodeTls.createSecureContext(RSA);
      expect(Object.keys(ctx)).to.deep.equal([]);
      expect('context' in ctx && 'context' in node).to.equal(true);
      expect(ctx.context).to.equal(ctx);
      const Ctor = ctx.constructor as new () => SecureContext;
      expect(() => new Ctor()).to.throw(/createSecureContext/);
    });
  });

  describe('a node:tls SecureContext is refused with a clear error', () => {
    const nodeCtx = () => nodeTls.createSecureContext({ ...RSA, ca: ca() });

    it('connect(), createServer(), setSecureContext(), addContext()', () => {
      const refusal = /node:tls SecureContext cannot be used by qtls/;
      const c = thrown(() => qtlsConnect({ port: 1, host: LOCALHOST, secureContext: nodeCtx() as never }));
      expect(c?.message).to.match(refusal);
      // node's class and code for a secureContext it cannot use.
      const ref = thrown(() => nodeTls.connect({ port: 1, host: LOCALHOST, secureContext: {} as never }));
      expect(ref).to.include({ name: 'TypeError', code: 'ERR_TLS_INVALID_CONTEXT' });
      expect(c).to.include({ name: ref!.name, code: ref!.code });
      expect(thrown(() => qtlsConnect({ port: 1, host: LOCALHOST, secureContext: {} as never }))).to.include({ name: 'TypeError', code: 'ERR_TLS_INVALID_CONTEXT' });
      expect(thrown(() => qtlsCreateServer({ secureContext: nodeCtx() as never }))?.message).to.match(refusal);
      expect(thrown(() => qtlsCreateServer({ ...RSA }).setSecureContext({ secureContext: nodeCtx() as never }))?.message).to.match(refusal);
      expect(thrown(() => qtlsCreateServer({ ...RSA }).addContext('a.example', nodeCtx() as never))?.message).to.match(refusal);
      expect(thrown(() => qtlsCreateServer({ ...RSA }).addContext('a.example', nodeCtx().context as never))?.message).to.match(refusal);
    });

    it('an SNICallback answering with one fails that handshake and says why', async () => {
      const server = await startEchoServer('qtls', { ...DEFAULT, SNICallback: (_n, cb) => cb(null, nodeCtx() as never) }, cleanup);
      const client = await runClient('node', { port: server.port, servername: 'a.example', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      expect(client.secure).to.equal(false);
      expect((await server.clientError(0)).message).to.match(/node:tls SecureContext cannot be used by qtls/);
    });
  });

  describe('parsed once, shared by every handshake', () => {
    /** The certificate objects the server side of each connection used (the handshake's own, not a copy). */
    async function serverCertificates(options: Parameters<typeof qtlsCreateServer>[0], setup: (s: ReturnType<typeof qtlsCreateServer>) => void, servername: string, n: number) {
      const server = qtlsCreateServer(options);
      setup(server);
      const used: unknown[] = [];
      server.on('secureConnection', (s: TLSSocket) => (used.push(s.session?.localCertificate), s.end()));
      const port = await listenLocal(server as never);
      cleanup.defer(() => new Promise<void>((r) => server.close(() => r())));
      for (let i = 0; i < n; i++) {
        const r = await runClient('node', { port, servername, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
        expect(r.secure, describeReport(r)).to.equal(true);
      }
      return used;
    }

    it('createServer, SNICallback and addContext use the context as it was parsed (no PEM parsing per handshake)', async () => {
      const ctx = createSecureContext(RSA);
      const viaOption = await serverCertificates({ secureContext: ctx }, () => {}, 'a.example', 2);
      const viaSni = await serverCertificates({ ...DEFAULT, SNICallback: (_n, cb) => cb(null, ctx) }, () => {}, 'a.example', 2);
      const viaAddContext = await serverCertificates({ ...DEFAULT }, (s) => s.addContext('a.example', ctx), 'a.example', 2);
      const all = [...viaOption, ...viaSni, ...viaAddContext];
      expect(all[0]).to.be.an('object');
      // One certificate object across three servers and six handshakes: the context's.
      for (const c of all) expect(c).to.equal(all[0]);
      // The control: plain options returned by an SNICallback are parsed for each handshake.
      const plain = await serverCertificates({ ...DEFAULT, SNICallback: (_n, cb) => cb(null, RSA) }, () => {}, 'a.example', 2);
      expect(plain[0]).to.not.equal(plain[1]);
    });

    it('connect() with a context reuses its client certificate', async () => {
      const server = await startEchoServer('node', { ...ECDSA, ca: ca(), requestCert: true }, cleanup);
      const ctx = createSecureContext({ ca: ca(), ...CLIENT });
      const used: unknown[] = [];
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = qtlsConnect({ host: LOCALHOST, port: server.port, secureContext: ctx }, () => (used.push(s.session?.localCertificate), s.end(), resolve()));
          s.on('error', reject);
        });
      }
      expect(used[0]).to.be.an('object');
      expect(used[1]).to.equal(used[0]);
    });
  });
});
