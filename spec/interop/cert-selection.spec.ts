// Certificate selection with several server certificates (node's `cert: [ecdsa, rsa]`): RFC 8422 §5.3
// says an ECDSA certificate's curve must be one the client listed in supported_groups, and OpenSSL
// clients enforce it ("wrong curve"). A server holding ECDSA and RSA certificates must therefore fall
// back to an RSA suite for a client that offers ECDSA suites first but not the certificate's curve.
// node:tls's server is the reference for each case.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, textPayload, type CertKind } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, type Impl } from '../helpers/peers.js';

interface SelectionCase {
  name: string;
  certs: CertKind[];
  /** Client groups, in preference order. */
  groups: string;
  /** The suite the server must pick (client offers ECDSA suites before RSA suites). */
  expect: string;
}

const CLIENT_CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305';

const CASES: SelectionCase[] = [
  { name: 'P-256 certificate, client offers P-256 → ECDSA', certs: ['ecdsa-p256', 'rsa'], groups: 'X25519:P-256', expect: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
  { name: 'P-256 certificate, client offers only X25519 → RSA', certs: ['ecdsa-p256', 'rsa'], groups: 'X25519', expect: 'ECDHE-RSA-AES128-GCM-SHA256' },
  { name: 'P-384 certificate, client offers X25519:P-256 → RSA', certs: ['ecdsa-p384', 'rsa'], groups: 'X25519:P-256', expect: 'ECDHE-RSA-AES128-GCM-SHA256' },
  { name: 'P-384 certificate, client offers X25519:P-384 → ECDSA', certs: ['ecdsa-p384', 'rsa'], groups: 'X25519:P-384', expect: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
  { name: 'Ed25519 certificate: no curve constraint (RFC 8422 §5.3 covers ECDSA keys) → ECDSA suite', certs: ['ed25519', 'rsa'], groups: 'P-256', expect: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
];

describe('interop: ECDSA certificate selection honours the client supported_groups (RFC 8422 §5.3)', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  const serverOptions = (c: SelectionCase) => ({ honorCipherOrder: false, cert: c.certs.map((k) => CERTS[k].chain()), key: c.certs.map((k) => CERTS[k].key()) });

  for (const c of CASES) {
    describe(c.name, () => {
      for (const serverImpl of ['node', 'qtls'] as const satisfies readonly Impl[]) {
        it(`node:tls client → ${serverImpl} server`, async () => {
          const server = await startEchoServer(serverImpl, serverOptions(c), cleanup);
          const client = await runClient('node', { port: server.port, servername: 'localhost', ca: ca(), ciphers: CLIENT_CIPHERS, ecdhCurve: c.groups, maxVersion: 'TLSv1.2' }, { payload: Buffer.from('x') });
          const why = `${describeReport(client)}\nserver errors: ${server.clientErrors.map((e) => e.message).join('; ')}`;
          expect(client.error, why).to.equal(undefined);
          expect(client.cipher?.name, why).to.equal(c.expect);
          expect((await server.session(0)).cipher?.name, why).to.equal(c.expect);
        });
      }

      it('openssl s_client → qtls server', async function () {
        requireOpenssl(this);
        const payload = textPayload(1);
        const server = await startEchoServer('qtls', serverOptions(c), cleanup, { closeAfter: payload.length });
        const res = await runOpensslClient({ port: server.port, cipher: CLIENT_CIPHERS, groups: c.groups, input: payload });
        expect(res.exitCode, res.diagnostics).to.equal(0);
        expect(res.cipher, res.diagnostics).to.equal(c.expect);
        expect(res.data).to.equal(payload.toString('latin1'));
      });
    });
  }
});
