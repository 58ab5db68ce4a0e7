// Bulk data: megabytes echoed through qtls ↔ node:tls in each AEAD, exercising full 2^14-byte records,
// records split across TCP reads, and backpressure (pause/resume on both sides).
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, SUITES, ca } from '../helpers/fixtures.js';
import { describeReport, runClient, startEchoServer } from '../helpers/peers.js';

const SIZE = 2 * 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('interop: bulk transfer (2 MiB each way) with node:tls', function () {
  this.timeout(60_000);
  const cleanup = useCleanup();
  const payload = randomBytes(SIZE);

  for (const suite of SUITES.filter((s) => s.auth === 'ECDSA')) {
    for (const [clientImpl, serverImpl] of [['qtls', 'node'], ['node', 'qtls']] as const) {
      it(`${suite.openssl}: ${clientImpl} client → ${serverImpl} server`, async () => {
        const cert = CERTS['ecdsa-p256'];
        const server = await startEchoServer(serverImpl, { cert: cert.chain(), key: cert.key() }, cleanup);
        const t0 = performance.now();
        const client = await runClient(
          clientImpl,
          { port: server.port, servername: 'localhost', ca: ca(), ciphers: clientImpl === 'qtls' ? suite.iana : suite.openssl, maxVersion: 'TLSv1.2' },
          { payload, timeoutMs: 50_000 },
        );
        const ms = performance.now() - t0;
        const srv = await server.session(0);
        await srv.closed;
        const why = `${describeReport(client)}\n${describeReport(srv)}`;
        expect(client.error, why).to.equal(undefined);
        expect(client.cipher?.name, why).to.equal(suite.openssl);
        expect(srv.received.length, why).to.equal(SIZE);
        expect(sha256(srv.received), why).to.equal(sha256(payload));
        expect(client.received.length, why).to.equal(SIZE);
        expect(sha256(client.received), why).to.equal(sha256(payload));
        expect(client.ended && srv.ended, why).to.equal(true);
        // Not a benchmark; a gross regression (e.g. quadratic buffering) shows up here.
        expect(ms, `${(SIZE * 2) / 1024 / 1024} MiB took ${ms.toFixed(0)} ms`).to.be.below(30_000);
      });
    }
  }
});
