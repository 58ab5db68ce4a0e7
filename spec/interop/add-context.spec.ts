// server.addContext(hostname, context): which certificate a client gets for its SNI, with node:tls ↔
// node:tls as the reference for every name (wildcards, case, the order contexts were added in), and the
// rules around it (SNICallback wins, a missing hostname, bad contexts).
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as nodeTls from 'node:tls';
import { createServer as qtlsCreateServer } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { BAD_CERTS, CERTS, ca } from '../helpers/fixtures.js';
import { describeReport, runClient, startEchoServer, type Impl } from '../helpers/peers.js';

const DEFAULT = { cert: BAD_CERTS['wrong-name'].chain(), key: BAD_CERTS['wrong-name'].key() };
const ECDSA = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
const RSA = { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() };
const fingerprint = (chain: Buffer) => new X509Certificate(chain).fingerprint256;
const WHICH: Record<string, string> = { [fingerprint(DEFAULT.cert)]: 'default', [fingerprint(ECDSA.cert)]: 'ecdsa', [fingerprint(RSA.cert)]: 'rsa' };

type Order = 'wildcard first' | 'exact name first';

/** Which certificate (by name) a client with this SNI is served; undefined servername: connect by IP, no SNI. */
async function served(serverImpl: Impl, clientImpl: Impl, order: Order, servername: string | undefined, cleanup: ReturnType<typeof useCleanup>) {
  const server = await startEchoServer(serverImpl, { ...DEFAULT }, cleanup);
  const contexts: Array<[string, typeof ECDSA]> = [['*.example.com', ECDSA], ['a.example.com', RSA]];
  if (order === 'exact name first') contexts.reverse();
  for (const [name, ctx] of contexts) server.server.addContext(name, ctx);
  const client = await runClient(clientImpl, { port: server.port, ca: ca(), rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...(servername ? { servername } : {}) }, { payload: Buffer.from('ctx\n') });
  expect(client.error, describeReport(client)).to.equal(undefined);
  return WHICH[String(client.peer?.fingerprint256)] ?? 'unknown';
}

describe('interop: server.addContext()', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  // [servername, certificate with '*.example.com' then 'a.example.com' added, with the reverse order]
  const CASES: Array<[string | undefined, string, string]> = [
    ['a.example.com', 'rsa', 'ecdsa'], // both match: the context added last wins, not the most specific
    ['b.example.com', 'ecdsa', 'ecdsa'],
    ['.example.com', 'ecdsa', 'ecdsa'], // '*' also matches an empty label
    ['x.y.example.com', 'default', 'default'], // '*' does not cross a dot
    ['example.com', 'default', 'default'],
    ['A.EXAMPLE.COM', 'default', 'default'], // node matches case-sensitively
    [undefined, 'default', 'default'], // no SNI: contexts are not consulted
  ];

  for (const [servername, wildcardFirst, exactFirst] of CASES) {
    for (const [order, expected] of [['wildcard first', wildcardFirst], ['exact name first', exactFirst]] as const) {
      it(`SNI ${servername ?? '(none)'}, ${order} → the ${expected} certificate, as node:tls`, async () => {
        const reference = await served('node', 'node', order, servername, cleanup);
        expect(reference, 'node ↔ node').to.equal(expected);
        expect(await served('qtls', 'node', order, servername, cleanup), 'node client ↔ qtls server').to.equal(expected);
        if (servername === undefined || servername === servername.toLowerCase())
          expect(await served('qtls', 'qtls', order, servername, cleanup), 'qtls client ↔ qtls server').to.equal(expected);
      });
    }
  }

  it('contexts added after listen() apply to the next connections', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const server = await startEchoServer(impl, { ...DEFAULT }, cleanup);
      const connect = () => runClient('node', { port: server.port, servername: 'late.example.com', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      expect(WHICH[String((await connect()).peer?.fingerprint256)], impl).to.equal('default');
      server.server.addContext('late.example.com', RSA);
      expect(WHICH[String((await connect()).peer?.fingerprint256)], impl).to.equal('rsa');
    }
  });

  it('with an SNICallback the contexts are not consulted (node: they feed only the default SNICallback)', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const calls: string[] = [];
      const SNICallback = (name: string, cb: (err: Error | null, ctx?: undefined) => void) => (calls.push(name), cb(null, undefined));
      const server = await startEchoServer(impl, { ...DEFAULT, SNICallback: SNICallback as never }, cleanup);
      server.server.addContext('*.example.com', ECDSA);
      const client = await runClient('node', { port: server.port, servername: 'a.example.com', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      expect(calls, impl).to.deep.equal(['a.example.com']);
      expect(WHICH[String(client.peer?.fingerprint256)], impl).to.equal('default');
    }
  });

  it('a missing hostname throws ERR_TLS_REQUIRED_SERVER_NAME, as node', () => {
    const node = nodeTls.createServer({ ...DEFAULT });
    const qtls = qtlsCreateServer({ ...DEFAULT });
    const thrown = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return { code: (e as { code?: string }).code, message: (e as Error).message, name: (e as Error).name };
      }
      return undefined;
    };
    const ref = thrown(() => node.addContext('', ECDSA));
    expect(ref?.code).to.equal('ERR_TLS_REQUIRED_SERVER_NAME');
    expect(thrown(() => qtls.addContext('', ECDSA))).to.deep.equal(ref);
  });

  it('an unreadable certificate throws at addContext() (node: createSecureContext throws)', () => {
    expect(() => nodeTls.createServer({ ...DEFAULT }).addContext('x.example', { cert: 'not a certificate', key: RSA.key })).to.throw();
    expect(() => qtlsCreateServer({ ...DEFAULT }).addContext('x.example', { cert: 'not a certificate', key: RSA.key })).to.throw();
    expect(() => qtlsCreateServer({ ...DEFAULT }).addContext('x.example', { cert: RSA.cert, key: ECDSA.key })).to.throw(/no private key matches/);
    // A node SecureContext wraps OpenSSL state qtls cannot use: say so rather than serve the default certificate.
    expect(() => qtlsCreateServer({ ...DEFAULT }).addContext('x.example', nodeTls.createSecureContext(RSA) as never)).to.throw(/SecureContext/);
  });

  it('a context without a certificate fails the handshake of a matching client, as node', async () => {
    for (const impl of ['node', 'qtls'] as const) {
      const server = await startEchoServer(impl, { ...DEFAULT }, cleanup);
      server.server.addContext('nocert.example', {});
      const client = await runClient('node', { port: server.port, servername: 'nocert.example', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      const serverError = await server.clientError(0);
      expect(client.secure, `${impl}: ${describeReport(client)}`).to.equal(false);
      expect(serverError.message, impl).to.match(impl === 'node' ? /null parameter/ : /addContext\("nocert.example"\) context has no certificate/);
      // Other names are unaffected.
      const other = await runClient('node', { port: server.port, servername: 'other.example', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      expect(WHICH[String(other.peer?.fingerprint256)], impl).to.equal('default');
    }
  });
});
