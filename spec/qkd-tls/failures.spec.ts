// When QKD key delivery fails, the handshake fails cleanly: the side whose KME failed sends a fatal
// handshake_failure alert (checked on the wire, through a tap), its API error is a TLSError naming the
// KME (URL) and the KME's reason, the peer's error is the received alert, and the server goes on
// serving. Each case runs over ETSI 014 and ETSI 004. docs/qkd-in-tls.md "Failures" lists the mapping.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { KeyDelivery } from '../../lib/qkd/key-delivery.js';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { qtlsConnect } from '../../lib/qkd/qtls-transport.js';
import type { QkdOptions } from '../../lib/kx/qkd-options.js';
import { startQtlsServer, type QtlsServer } from '../hostile/helpers/qtls.js';
import {
  APIS,
  GatedLink,
  SwitchableDelivery,
  clearAlerts,
  expectEcho,
  expectTlsError,
  hangingDelivery,
  keyIdPattern,
  mapDelivery,
  runClient,
  startQkdNet,
  until,
  type QkdTestNet,
} from '../helpers/qkd-tls.js';
import { startTap, type Tap } from '../helpers/wire.js';

const esc = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/** A TCP port on 127.0.0.1 with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('QKD in TLS: key delivery failures', function () {
  this.timeout(20_000);
  const link = new GatedLink();
  let q: QkdTestNet;
  let dead: number;

  before(async function () {
    // sae-c sits at KME B next to sae-b: a real SAE that the master never names as slave.
    q = await startQkdNet({ saeB: ['sae-b', 'sae-c'], link, limits: { maxKeyCount: 48 }, minKeys: 40 });
    dead = await closedPort();
  });
  after(async function () {
    link.open = true;
    await q?.close();
  });

  for (const api of APIS) {
    describe(`over ETSI GS QKD ${api}`, function () {
      let dA: KeyDelivery;
      let dB: KeyDelivery;
      let sw: SwitchableDelivery;
      let sq: QkdOptions;
      let srv: QtlsServer;
      let tap: Tap;
      const deadUrl = () => (api === '014' ? `https://127.0.0.1:${dead}` : `tls://127.0.0.1:${dead}`);

      before(async function () {
        dA = q.delivery('sae-a', api);
        dB = q.delivery('sae-b', api);
        sw = new SwitchableDelivery(dA);
        sq = { saeId: 'sae-a', delivery: sw, timeoutMs: 5000 };
        srv = await startQtlsServer({ identity: 'ecdsa', options: { qkd: sq } });
        tap = await startTap(srv.port);
      });
      after(async function () {
        await tap?.close();
        await srv?.close();
      });
      afterEach(function () {
        sw.use(undefined);
        sq.timeoutMs = 5000;
      });

      interface Case {
        /** Whose KME fails. */
        failing: 'server' | 'client';
        client?: Partial<QkdOptions>;
        ciphers?: string;
        /** The failing side's error names this KME... */
        kme: string;
        /** ...and this reason. */
        reason: RegExp;
        /** Undo the fault before checking that the server still serves. */
        restore?: () => Promise<void>;
      }

      /** Run a failing handshake through the tap, check alert, both errors, and that the server still serves. */
      async function failureCase(c: Case): Promise<void> {
        const errP = srv.nextError(10_000);
        const n = tap.connections.length;
        const run = await runClient(tap.port, { ...(c.ciphers ? { ciphers: c.ciphers } : {}), qkd: { saeId: 'sae-b', delivery: dB, ...c.client } }, 'x', 10_000);
        const serverErr = await errP;
        sw.use(undefined);
        sq.timeoutMs = 5000;
        expect(run.error, 'the handshake must fail').to.be.instanceOf(Error);
        const [mine, theirs] = c.failing === 'server' ? [serverErr, run.error] : [run.error, serverErr];
        expectTlsError(mine, 'handshake_failure', 'local', /QKD/, esc(c.kme), c.reason);
        expectTlsError(theirs, 'handshake_failure', 'remote');
        // On the wire: exactly one clear fatal handshake_failure (2, 40) from the failing side, none back.
        const conn = tap.connections[n]!;
        await conn.done;
        const [sent, other] = c.failing === 'server' ? [conn.s2c, conn.c2s] : [conn.c2s, conn.s2c];
        expect(clearAlerts(sent), `alert from the ${c.failing}`).to.deep.equal([[2, 40]]);
        expect(clearAlerts(other), 'no alert back').to.deep.equal([]);
        // The server keeps serving: the next QKD client gets a fresh key.
        await c.restore?.();
        const ok = await runClient(srv.port, { qkd: { saeId: 'sae-b', delivery: dB } });
        expectEcho(ok);
        expect(ok.info.qkdKeyId).to.match(keyIdPattern(api));
      }

      it("server's KME unreachable (closed port): the server fails with handshake_failure naming the KME", async function () {
        sw.use(q.delivery('sae-a', api, { kme: deadUrl() }));
        await failureCase({ failing: 'server', kme: deadUrl(), reason: /unreachable.*ECONNREFUSED/ });
      });

      it("client's KME unreachable (closed port): the client fails with handshake_failure naming the KME", async function () {
        await failureCase({
          failing: 'client',
          client: { delivery: q.delivery('sae-b', api, { kme: deadUrl() }) },
          ciphers: 'QKD-ECDSA-AES256-GCM-SHA384',
          kme: deadUrl(),
          reason: /unreachable.*ECONNREFUSED/,
        });
      });

      it("server's KME never answers: timeoutMs ends the call and the handshake", async function () {
        const hang = hangingDelivery(api, q.url('A', api));
        sw.use(hang);
        sq.timeoutMs = 300;
        const t0 = Date.now();
        await failureCase({ failing: 'server', kme: q.url('A', api), reason: /did not answer within 300 ms/ });
        expect(Date.now() - t0).to.be.lessThan(5000);
        expect([hang.calls, hang.aborted], 'the hanging call was cancelled').to.deep.equal([1, 1]);
      });

      it("client's KME never answers: timeoutMs ends the call and the handshake", async function () {
        const hang = hangingDelivery(api, q.url('B', api));
        await failureCase({ failing: 'client', client: { delivery: hang, timeoutMs: 300 }, kme: q.url('B', api), reason: /did not answer within 300 ms/ });
        expect([hang.calls, hang.aborted]).to.deep.equal([1, 1]);
      });

      it('a KME call hanging for one client does not hold up another client', async function () {
        // The server's KME hangs only for slave sae-c; a sae-b client handshakes meanwhile.
        const hang = hangingDelivery(api, q.url('A', api));
        sw.use({ api, kme: q.url('A', api), getKey: (s, o) => (s === 'sae-c' ? hang.getKey(s, o) : dA.getKey(s, o)), getKeyById: (m, id, o) => dA.getKeyById(m, id, o), close: async () => {} });
        sq.timeoutMs = 2000;
        const errP = srv.nextError(10_000);
        const stuck = runClient(srv.port, { qkd: { saeId: 'sae-c', delivery: q.delivery('sae-c', api) } }, 'x', 10_000);
        await until(() => hang.calls === 1, 'the hanging KME call');
        const ok = await runClient(srv.port, { qkd: { saeId: 'sae-b', delivery: dB } });
        expectEcho(ok);
        expect(hang.aborted, 'served while the other handshake still waits for its KME').to.equal(0);
        expectTlsError((await errP) as Error, 'handshake_failure', 'local', /did not answer within 2000 ms/);
        expectTlsError((await stuck).error, 'handshake_failure', 'remote');
      });

      it("the master's KME pool is empty: handshake_failure with the KME's reason; served again once the link refills it", async function () {
        link.open = false;
        try {
          await drainPoolA(q);
          await failureCase({
            failing: 'server',
            kme: q.url('A', api),
            reason: api === '014' ? /empty 503/ : /empty 2: GET_KEY.*insufficient key/,
            restore: async () => {
              link.open = true;
              await until(() => q.net.sites.A.storedKeyCount() >= 16, 'KME A refilled');
            },
          });
        } finally {
          link.open = true;
        }
      });

      it("the key_ID is unknown to the client's KME: the client fails with the KME's not-found answer", async function () {
        sw.use(
          mapDelivery(dA, (k) => ({ ...k, keyId: api === '014' ? randomUUID() : `${randomUUID()}/0` })),
        );
        await failureCase({ failing: 'client', kme: q.url('B', api), reason: api === '014' ? /not-found 400: one or more keys specified are not found on KME/ : /not-found 1: key stream .* is not known to the KME/ });
      });

      it("a client whose KME credentials name another SAE than the slave the master named is refused by its KME", async function () {
        // The client announces sae-b (the master asks KME A for a key for sae-b) but authenticates to
        // KME B as sae-c.
        await failureCase({
          failing: 'client',
          client: { delivery: q.delivery('sae-c', api) },
          kme: q.url('B', api),
          reason: api === '014' ? /unauthorized 401/ : /refused 5: OPEN_CONNECT/,
        });
      });

      it('a client announcing an SAE its KME network does not know: the master\'s KME refuses the request', async function () {
        await failureCase({ failing: 'server', client: { saeId: 'sae-nobody' }, kme: q.url('A', api), reason: api === '014' ? /refused 400: slave_SAE_ID is not known to KME/ : /unreachable 4: OPEN_CONNECT: no QKD connection available/ });
      });

      it("the server's KME hands out a key of the wrong size: handshake_failure, the key is not used", async function () {
        sw.use(mapDelivery(dA, (k) => ({ ...k, key: k.key.subarray(0, 16) })));
        await failureCase({ failing: 'server', kme: q.url('A', api), reason: /has 128 bits, expected 256/ });
      });

      it("the client's KME hands out a key of the wrong size: handshake_failure, the key is not used", async function () {
        const long = mapDelivery(dB, (k) => ({ ...k, key: new Uint8Array([...k.key, ...k.key]) }));
        await failureCase({ failing: 'client', client: { delivery: long }, kme: q.url('B', api), reason: /has 512 bits, expected 256/ });
      });
    });
  }
});

/** Take every ready key of KME A (as sae-a for sae-b) so that the next enc_keys / GET_KEY finds none. */
async function drainPoolA(q: QkdTestNet): Promise<void> {
  const f = q.net.pki.sae['sae-a']!;
  const c = new Etsi014Client({ url: q.net.A.url, cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(q.net.pki.ca), tlsConnect: qtlsConnect });
  try {
    for (let i = 0; i < 10 && q.net.sites.A.storedKeyCount() > 0; i++) {
      await c.getKey('sae-b', { number: Math.min(q.net.sites.A.storedKeyCount(), 128), size: 256 });
    }
    expect(q.net.sites.A.storedKeyCount()).to.equal(0);
  } finally {
    c.close();
  }
}
