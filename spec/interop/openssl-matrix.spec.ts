// qtls client ↔ `openssl s_server -tls1_2` and `openssl s_client -tls1_2` ↔ qtls server: every suite ×
// every group, RSA and ECDSA P-256 certificates, plus the ECDSA suites with P-384 and Ed25519
// certificates. openssl's -trace output is its own record of each connection: the suite in ServerHello,
// the group in ServerKeyExchange, and the decrypted close_notify alerts received and sent.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { expectNegotiated } from '../helpers/assertions.js';
import { CERTS, ca, groupsOffering, matrixCases, textPayload, type CertKind, type MatrixCase } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, startOpensslServer, type OpensslServer } from '../helpers/peers.js';

const label = (c: MatrixCase) => `${c.suite.openssl} × ${c.group.name} × ${c.cert.kind}`;

/** What `s_server -rev` sends back: each line reversed. */
function reverseLines(b: Buffer): Buffer {
  const text = b.toString('latin1');
  return Buffer.from(
    text
      .split('\n')
      .map((l, i, all) => (i === all.length - 1 ? l : [...l].reverse().join('')))
      .join('\n'),
    'latin1',
  );
}

const masterOf = (line: string | undefined) => line?.split(' ')[2];

describe('interop: qtls client ↔ openssl s_server (every suite × group × cert)', function () {
  this.timeout(20_000);
  const servers = new Map<CertKind, OpensslServer>();
  const suiteCleanup = useCleanup('all');

  before(async function () {
    requireOpenssl(this);
    // One s_server per certificate serves all of that certificate's cases; the client picks the suite
    // and (openssl honours the client's group order) the group.
    for (const kind of Object.keys(CERTS) as CertKind[]) servers.set(kind, await startOpensslServer({ certs: [CERTS[kind]] }, suiteCleanup));
  });

  for (const c of matrixCases()) {
    it(label(c), async () => {
      const server = servers.get(c.cert.kind)!;
      const mark = server.mark();
      const payload = textPayload(200);
      const client = await runClient(
        'qtls',
        { port: server.port, servername: 'localhost', ca: ca(), ciphers: c.suite.iana, groups: groupsOffering(c.group, c.cert) },
        { payload },
      );
      const conn = await server.connection(mark);
      const why = `${label(c)}\n${describeReport(client)}\n${conn.diagnostics}`;

      expectNegotiated(client, c.suite, c.group, why);
      expect(client.received.equals(reverseLines(payload)), `${why}\nthe reversed lines came back wrong`).to.equal(true);
      expect(client.ended, why).to.equal(true);
      expect(client.alertsOut, why).to.deep.equal(['close_notify']);
      expect(client.alertsIn, why).to.deep.equal(['close_notify']);

      // openssl's side of the same connection.
      expect(conn.established, why).to.equal(true);
      expect(conn.failure, why).to.equal(false);
      expect(conn.protocol, why).to.equal('TLSv1.2');
      expect(conn.cipher, why).to.equal(c.suite.openssl);
      expect(conn.facts.cipherSuite, why).to.equal(c.suite.id);
      expect(conn.facts.namedCurve, why).to.equal(c.group.code);
      expect(conn.closed, `${why}\ns_server did not see a close_notify`).to.equal(true);
      expect(conn.facts.alertsIn, why).to.deep.equal(['close notify']);
      expect(conn.facts.alertsOut, why).to.deep.equal(['close notify']);
      // Same master secret on both ends (qtls 'keylog' event vs s_server -keylogfile).
      expect(client.keylog, why).to.have.length(1);
      expect(conn.masterSecret, why).to.be.a('string').and.equal(masterOf(client.keylog[0]));
    });
  }
});

describe('interop: openssl s_client ↔ qtls server (every suite × group × cert)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  before(function () {
    requireOpenssl(this);
  });

  for (const c of matrixCases()) {
    it(label(c), async () => {
      const payload = textPayload(200);
      // qtls picks the group by its own preference: the server offers only the case's group.
      // The server closes first here (after echoing the payload): s_client -ign_eof reads until then.
      const server = await startEchoServer('qtls', { cert: c.cert.chain(), key: c.cert.key(), groups: c.group.name }, cleanup, { closeAfter: payload.length });
      const res = await runOpensslClient({ port: server.port, cipher: c.suite.openssl, groups: groupsOffering(c.group, c.cert), input: payload });
      const srv = await server.session(0, 2000).catch((e: Error) => {
        throw new Error(`${e.message}\n${res.diagnostics}`);
      });
      await srv.closed;
      const why = `${label(c)}\n${describeReport(srv)}\n${res.diagnostics}`;

      // openssl's side.
      expect(res.timedOut, why).to.equal(false);
      expect(res.exitCode, why).to.equal(0);
      expect(res.verifyReturn, why).to.equal('0 (ok)');
      expect(res.protocol, why).to.equal('TLSv1.2');
      expect(res.cipher, why).to.equal(c.suite.openssl);
      expect(res.tempKey, why).to.equal(c.group.opensslTempKey);
      expect(res.facts.cipherSuite, why).to.equal(c.suite.id);
      expect(res.facts.namedCurve, why).to.equal(c.group.code);
      expect(res.data === payload.toString('latin1'), `${why}\ns_client printed different data (${res.data.length} bytes)`).to.equal(true);
      expect(res.closed, `${why}\ns_client did not read a close_notify`).to.equal(true);
      expect(res.facts.alertsIn, why).to.deep.equal(['close notify']);
      expect(res.facts.alertsOut, why).to.deep.equal(['close notify']);

      // qtls's side.
      expectNegotiated(srv, c.suite, c.group, why);
      expect(srv.received.equals(payload), `${why}\nserver received different bytes`).to.equal(true);
      expect(srv.ended, why).to.equal(true);
      expect(srv.alertsOut, why).to.deep.equal(['close_notify']);
      expect(srv.alertsIn, why).to.deep.equal(['close_notify']);
      expect(srv.keylog, why).to.have.length(1);
      expect(res.masterKey, why).to.be.a('string').and.equal(masterOf(srv.keylog[0]));
    });
  }
});
