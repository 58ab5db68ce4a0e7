// PSK-compatible QKD (lib/kx/qkd-psk.ts): the standard PSK suites with the ETSI key_ID as the PSK
// identity (mode 'psk': the client is the master SAE) or as the identity hint (mode 'psk-hint': the
// server is the master SAE). An unmodified OpenSSL client joins with a key fetched by curl from its KME.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { KeyDelivery } from '../../lib/qkd/key-delivery.js';
import { qkdPskClientOptions, qkdPskServerOptions } from '../../lib/kx/qkd-psk.js';
import { startQtlsServer, type QtlsServer } from '../hostile/helpers/qtls.js';
import { requireOpenssl, runOpensslClient, type OpensslClientOptions } from '../helpers/openssl.js';
import { APIS, expectEcho, expectTlsError, keyIdPattern, recordingDelivery, requireTool, runClient, startQkdNet, type QkdTestNet } from '../helpers/qkd-tls.js';

const run = promisify(execFile);

describe('QKD in TLS: PSK-compatible modes', function () {
  this.timeout(20_000);
  let q: QkdTestNet;

  before(async function () {
    q = await startQkdNet({ minKeys: 32 });
  });
  after(async function () {
    await q?.close();
  });

  describe("mode 'psk': openssl s_client with a key fetched by curl (ETSI 014) ↔ qtls server", function () {
    let srv: QtlsServer;
    let dB: ReturnType<typeof recordingDelivery>;

    before(async function () {
      requireOpenssl(this);
      requireTool(this, 'curl');
      // The server is SAE sae-b at KME B (slave); the openssl client acts for sae-a (master).
      dB = recordingDelivery(q.delivery('sae-b', '014'));
      srv = await startQtlsServer({
        identity: 'ecdsa',
        options: { ciphers: 'PSK-AES256-GCM-SHA384:ECDHE-PSK-CHACHA20-POLY1305', ...qkdPskServerOptions({ saeId: 'sae-b', delivery: dB, peerSaeId: 'sae-a' }, 'psk') },
        onSecure: (s) => s.on('data', (d: Buffer) => s.end(Buffer.concat([Buffer.from('echo: '), d]))),
      });
    });
    after(async function () {
      await srv?.close();
    });

    /** `curl ... /api/v1/keys/sae-b/enc_keys` as SAE sae-a against KME A. */
    async function curlKey(): Promise<{ keyId: string; hex: string }> {
      const p = q.net.pki;
      const { stdout } = await run('curl', ['-sS', '--fail', '--cert', p.sae['sae-a']!.cert, '--key', p.sae['sae-a']!.key, '--cacert', p.ca, `${q.net.A.url}/api/v1/keys/sae-b/enc_keys`], { timeout: 10_000 });
      const body = JSON.parse(stdout) as { keys: Array<{ key_ID: string; key: string }> };
      expect(body.keys).to.have.length(1);
      return { keyId: body.keys[0]!.key_ID, hex: Buffer.from(body.keys[0]!.key, 'base64').toString('hex') };
    }

    for (const cipher of ['PSK-AES256-GCM-SHA384', 'ECDHE-PSK-CHACHA20-POLY1305']) {
      it(`${cipher}: handshake with key_ID as psk_identity, data both ways`, async function () {
        const k = await curlKey();
        expect(k.keyId).to.match(keyIdPattern('014'));
        expect(k.hex).to.have.length(64);
        const secure = srv.nextSecure(10_000);
        const r = await runOpensslClient({ port: srv.port, cipher, verify: false, servername: null, input: 'hello from openssl\n', args: ['-psk_identity', k.keyId, '-psk', k.hex] });
        expect(r.cipher, r.diagnostics).to.equal(cipher);
        expect(r.protocol).to.equal('TLSv1.2');
        expect(r.data).to.equal('echo: hello from openssl\n');
        const s = await secure;
        expect(s.getKeyExchangeInfo().pskIdentity).to.equal(k.keyId);
        // The server got exactly that key from its own KME, by ID.
        const got = dB.delivered.at(-1)!;
        expect(got.keyId).to.equal(k.keyId);
        expect(Buffer.from(got.key).toString('hex')).to.equal(k.hex);
      });
    }

    it('a key_ID already used is an unknown PSK identity the second time (unknown_psk_identity)', async function () {
      const k = await curlKey();
      const opts: OpensslClientOptions = { port: srv.port, cipher: 'PSK-AES256-GCM-SHA384', verify: false, servername: null, input: 'once\n', args: ['-psk_identity', k.keyId, '-psk', k.hex] };
      const first = await runOpensslClient(opts);
      expect(first.data, first.diagnostics).to.equal('echo: once\n');
      const err = srv.nextError(10_000);
      const second = await runOpensslClient({ ...opts, input: 'twice\n' });
      expect(second.data).to.equal('');
      expect(second.facts.alertsIn, second.diagnostics).to.deep.equal(['unknown PSK identity']);
      expectTlsError(await err, 'unknown_psk_identity', 'local');
    });
  });

  for (const api of APIS) {
    describe(`qtls ↔ qtls over ETSI GS QKD ${api}`, function () {
      let dA: KeyDelivery;
      let dB: KeyDelivery;
      before(function () {
        dA = q.delivery('sae-a', api);
        dB = q.delivery('sae-b', api);
      });

      it("mode 'psk-hint': the server (master) sends the key_ID as identity hint, the client fetches it and echoes it as identity", async function () {
        const srv = await startQtlsServer({
          identity: 'ecdsa',
          options: { ciphers: 'ECDHE-PSK-AES256-GCM-SHA384:PSK-AES256-GCM-SHA384', ...qkdPskServerOptions({ saeId: 'sae-a', delivery: dA, peerSaeId: 'sae-b' }, 'psk-hint') },
        });
        try {
          const secure = srv.nextSecure(10_000);
          const r = await runClient(srv.port, { ciphers: 'ECDHE-PSK-AES256-GCM-SHA384:PSK-AES256-GCM-SHA384', ...qkdPskClientOptions({ saeId: 'sae-b', delivery: dB, peerSaeId: 'sae-a' }, 'psk-hint') });
          expectEcho(r);
          const s = await secure;
          expect(r.cipher?.name).to.equal('ECDHE-PSK-AES256-GCM-SHA384');
          expect(r.info.pskIdentity).to.match(keyIdPattern(api));
          expect(s.getKeyExchangeInfo().pskIdentity).to.equal(r.info.pskIdentity);
        } finally {
          await srv.close();
        }
      });

      for (const cipher of ['PSK-AES256-GCM-SHA384', 'ECDHE-PSK-CHACHA20-POLY1305']) {
        it(`mode 'psk' both sides (${cipher}): the client (master) sends the key_ID as identity, the server fetches it by ID`, async function () {
          const srvDelivery = recordingDelivery(dA);
          const cliDelivery = recordingDelivery(dB);
          const srv = await startQtlsServer({
            identity: 'ecdsa',
            options: { ciphers: cipher, ...qkdPskServerOptions({ saeId: 'sae-a', delivery: srvDelivery, peerSaeId: 'sae-b' }, 'psk') },
          });
          try {
            const secure = srv.nextSecure(10_000);
            const r = await runClient(srv.port, { ciphers: cipher, ...qkdPskClientOptions({ saeId: 'sae-b', delivery: cliDelivery, peerSaeId: 'sae-a' }, 'psk') });
            expectEcho(r);
            const s = await secure;
            expect(r.cipher?.name).to.equal(cipher);
            const id = String(r.info.pskIdentity);
            expect(id).to.match(keyIdPattern(api));
            expect(s.getKeyExchangeInfo().pskIdentity).to.equal(id);
            expect(cliDelivery.delivered.map((k) => k.keyId)).to.deep.equal([id]);
            expect(srvDelivery.delivered.map((k) => k.keyId)).to.deep.equal([id]);
            expect(Buffer.from(srvDelivery.delivered[0]!.key).equals(Buffer.from(cliDelivery.delivered[0]!.key))).to.equal(true);
          } finally {
            await srv.close();
          }
        });
      }
    });
  }
});
