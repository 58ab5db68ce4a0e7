// Records and handshake messages cut into pieces: a relay that forwards one byte per write (every
// record and handshake message arrives over many reads), and openssl with -max_send_frag 512 (handshake
// messages such as a certificate chain span several records; application data goes in 512-byte records).
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { useCleanup } from '../helpers/cleanup.js';
import { expectCleanEcho, expectNegotiated, expectSameKeylog, expectWire } from '../helpers/assertions.js';
import { CERTS, INTERMEDIATE_PATH, SUITES, ca, group, groupsOffering, pkiPath, textPayload } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, startOpensslServer } from '../helpers/peers.js';
import { startTap } from '../helpers/wire.js';

/** Handshake records openssl sent (out) or received (in) with their lengths, from its -trace. */
function handshakeRecordLengths(trace: string, dir: 'Sent' | 'Received'): number[] {
  const re = new RegExp(`^${dir} Record\\nHeader:\\n  Version = [^\\n]*\\n  Content Type = Handshake \\(22\\)\\n  Length = (\\d+)`, 'gm');
  return [...trace.matchAll(re)].map((m) => Number(m[1]));
}

describe('interop: fragmented records and handshake messages', function () {
  this.timeout(30_000);
  const cleanup = useCleanup();

  const cases = [
    { suite: SUITES.find((s) => s.openssl === 'ECDHE-RSA-AES256-GCM-SHA384')!, group: group('secp384r1'), cert: CERTS.rsa },
    { suite: SUITES.find((s) => s.openssl === 'ECDHE-ECDSA-CHACHA20-POLY1305')!, group: group('x25519'), cert: CERTS['ecdsa-p256'] },
  ];

  for (const c of cases) {
    for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
      it(`1-byte writes both ways: ${clientImpl} client → ${serverImpl} server (${c.suite.openssl}, ${c.group.name})`, async () => {
        const server = await startEchoServer(serverImpl, { cert: c.cert.chain(), key: c.cert.key(), ecdhCurve: c.group.name, groups: c.group.name }, cleanup);
        const tap = await startTap(server.port, { chunk: 1 });
        cleanup.defer(() => tap.close());
        const payload = randomBytes(3000);
        const client = await runClient(
          clientImpl,
          { port: tap.port, servername: 'localhost', ca: ca(), ciphers: clientImpl === 'qtls' ? c.suite.iana : c.suite.openssl, groups: groupsOffering(c.group, c.cert), ecdhCurve: groupsOffering(c.group, c.cert) },
          { payload, timeoutMs: 20_000 },
        );
        const srv = await server.session(0);
        await srv.closed;
        await tap.connections[0]!.done;
        expectNegotiated(client, c.suite, c.group);
        expectNegotiated(srv, c.suite, c.group);
        expectCleanEcho(client, srv, payload);
        expectSameKeylog(client, srv);
        expectWire(tap.connections[0]!, c.suite, c.group);
        // The relay really did deliver byte by byte (the recording holds what it read, in whatever
        // pieces; what it wrote was one byte per write).
        expect(tap.connections[0]!.c2s.reduce((n, b) => n + b.length, 0)).to.be.greaterThan(payload.length);
      });
    }
  }

  describe('openssl -max_send_frag 512', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('openssl s_server → qtls client: certificate chain and application data in 512-byte records', async () => {
      const server = await startOpensslServer({ certs: [CERTS.rsa], args: ['-max_send_frag', '512'] }, cleanup);
      const mark = server.mark();
      const payload = textPayload(60, 300); // 300-byte lines: each reversed line needs one record
      const client = await runClient('qtls', { port: server.port, servername: 'localhost', ca: ca() }, { payload });
      const conn = await server.connection(mark);
      const why = `${describeReport(client)}\n${conn.diagnostics}`;
      expect(client.error, why).to.equal(undefined);
      expect(client.received.length, why).to.equal(payload.length);
      expect(conn.closed, why).to.equal(true);
      const sent = handshakeRecordLengths(conn.trace, 'Sent');
      // The Certificate message (RSA leaf + ECDSA intermediate, > 1 KB) was split over records of 512.
      expect(sent.filter((n) => n === 512).length, `${why}\nhandshake records sent: ${sent}`).to.be.greaterThanOrEqual(2);
      expect(Math.max(...sent), why).to.be.at.most(512);
    });

    it('openssl s_client -max_send_frag 512 with a client certificate → qtls server', async () => {
      const payload = textPayload(40, 200);
      const server = await startEchoServer('qtls', { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key(), requestCert: true, ca: ca() }, cleanup, { closeAfter: payload.length });
      const res = await runOpensslClient({
        port: server.port, input: payload,
        args: ['-max_send_frag', '512', '-cert', pkiPath('client-cert.pem'), '-key', pkiPath('client-key.pem'), '-cert_chain', INTERMEDIATE_PATH],
      });
      const srv = await server.session(0);
      await srv.closed;
      const why = `${describeReport(srv)}\n${res.diagnostics}`;
      expect(res.exitCode, why).to.equal(0);
      expect(res.data === payload.toString('latin1'), why).to.equal(true);
      expect(srv.received.equals(payload), why).to.equal(true);
      expect(srv.authorized, why).to.equal(true);
      expect(srv.peer?.subjectCN, why).to.equal('client');
      const sent = handshakeRecordLengths(res.trace, 'Sent');
      expect(sent.filter((n) => n === 512).length, `${why}\nhandshake records sent: ${sent}`).to.be.greaterThanOrEqual(1);
    });
  });
});
