// qtls client ↔ node:tls server and node:tls client ↔ qtls server: every suite × every group, with the
// default certificate for the suite (ECDSA P-256 / RSA), plus the ECDSA suites with P-384 and Ed25519
// certificates. Each case: 40 KB of random bytes echoed byte-exact, the client closes, the server
// answers with its own close_notify. Checked on both endpoints (getCipher, getEphemeralKeyInfo, keylog,
// alerts), and on the wire through a relay (ServerHello suite, ServerKeyExchange group, closing alerts).
import { randomBytes } from 'node:crypto';
import { useCleanup } from '../helpers/cleanup.js';
import { expectCleanEcho, expectNegotiated, expectSameKeylog, expectWire } from '../helpers/assertions.js';
import { ca, groupsOffering, matrixCases, type MatrixCase } from '../helpers/fixtures.js';
import { runClient, startEchoServer } from '../helpers/peers.js';
import { startTap } from '../helpers/wire.js';

const label = (c: MatrixCase) => `${c.suite.openssl} × ${c.group.name} × ${c.cert.kind}`;

type Impl = 'qtls' | 'node';

/**
 * One matrix case through a relay: an echo server of `serverImpl`, a client of `clientImpl` sending 40 KB,
 * then the same checks on both endpoints and on the wire.
 */
async function runCase(
  c: MatrixCase,
  cleanup: ReturnType<typeof useCleanup>,
  serverImpl: Impl,
  serverOptions: Parameters<typeof startEchoServer>[1],
  clientImpl: Impl,
  clientOptions: Parameters<typeof runClient>[1],
): Promise<void> {
  const server = await startEchoServer(serverImpl, serverOptions, cleanup);
  const tap = await startTap(server.port);
  cleanup.defer(() => tap.close());
  const payload = randomBytes(40_000);
  const client = await runClient(clientImpl, { port: tap.port, servername: 'localhost', ca: ca(), ...clientOptions }, { payload });
  const srv = await server.session(0).catch((e: Error) => {
    throw new Error(`${e.message}\nclient: ${client.error?.message}`);
  });
  await srv.closed;
  await tap.connections[0]!.done;
  const ctx = label(c);
  expectNegotiated(client, c.suite, c.group, ctx);
  expectNegotiated(srv, c.suite, c.group, ctx);
  expectCleanEcho(client, srv, payload, ctx);
  expectSameKeylog(client, srv, ctx);
  expectWire(tap.connections[0]!, c.suite, c.group, ctx);
}

describe('interop: qtls client ↔ node:tls server (every suite × group)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  for (const c of matrixCases()) {
    // The node server offers only the case's group; the client offers it first plus the certificate's
    // curve (RFC 8422 §5.3: OpenSSL won't use a P-256 key for a client without P-256).
    it(label(c), () =>
      runCase(c, cleanup, 'node', { cert: c.cert.chain(), key: c.cert.key(), ecdhCurve: c.group.name }, 'qtls', {
        ciphers: c.suite.iana,
        groups: groupsOffering(c.group, c.cert),
      }));
  }
});

describe('interop: node:tls client ↔ qtls server (every suite × group)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  for (const c of matrixCases()) {
    // qtls picks the group by its own preference, so the server offers only the case's group; the node
    // client (default settings: it offers TLS 1.3 too) offers the group and the cert's curve.
    it(label(c), () =>
      runCase(c, cleanup, 'qtls', { cert: c.cert.chain(), key: c.cert.key(), groups: c.group.name }, 'node', {
        ciphers: c.suite.openssl,
        ecdhCurve: groupsOffering(c.group, c.cert),
      }));
  }
});
