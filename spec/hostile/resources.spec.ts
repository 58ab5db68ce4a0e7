// Resource bounds: a hostile peer must not make a qtls endpoint hold unbounded memory or burn unbounded
// CPU. Covered: input buffered while the handshake awaits something slow of its own (an SNICallback, a
// session store, a key manager), handshake messages in 1-byte records, RSA keys with huge public
// exponents in certificate chains, renegotiation floods, and state left behind by hostile connections.
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createServer } from '../../lib/index.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { HostileClient, clientHelloBody } from './helpers/hostile-client.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { hugeExponentChain } from './helpers/evil-certs.js';
import { CA, pem } from './helpers/fixtures.js';
import { clientCase, serverCase, expectApiError, expectServerStillServes, expectWireAlert, startQtlsServer, type QtlsServer } from './helpers/qtls.js';
import { HostileServer } from './helpers/hostile-server.js';
import { encodeCertificateMessage } from '../../lib/handshake/messages/certificate.js';
import { rawRecord } from './helpers/raw-conn.js';

const CT = ContentType;
const MiB = 1 << 20;

describe('hostile/resources: memory and CPU stay bounded whatever the peer sends', function () {
  useProcessGuard();
  let srv: QtlsServer;
  /** The server's SNICallback parks here until the test releases it: the handshake is "busy". */
  let parked: Array<() => void> = [];
  let park = false;
  before(
    async () =>
      (srv = await startQtlsServer({
        options: {
          SNICallback: (_name: string, cb: (err: Error | null) => void) => {
            if (park) parked.push(() => cb(null));
            else cb(null);
          },
        },
      })),
  );
  after(async () => {
    parked.forEach((f) => f());
    await srv.close();
  });

  /** Send `total` bytes of `record` copies, pacing on the socket's drain so the test stays fast. */
  async function flood(c: HostileClient, record: Uint8Array, total: number): Promise<number> {
    let sent = 0;
    while (sent < total && !c.conn.eof) {
      const ok = c.conn.socket.write(record);
      sent += record.length;
      if (!ok) await Promise.race([new Promise((r) => c.conn.socket.once('drain', r)), c.conn.closed.promise]);
    }
    return sent;
  }

  async function floodCase(prelude: (c: HostileClient) => void, record: Uint8Array, message: RegExp): Promise<void> {
    const errP = srv.nextError(10_000);
    const c = await HostileClient.connect(srv.port);
    park = true;
    try {
      c.sendClientHello({ servername: 'localhost' });
      await within(
        (async () => {
          while (parked.length === 0) await new Promise((r) => setImmediate(r));
        })(),
        3000,
        'the server to call SNICallback',
      );
      prelude(c);
      const rssBefore = process.memoryUsage().rss;
      await flood(c, record, 16 * MiB);
      const err = await errP;
      expectApiError(err, { alert: 'unexpected_message', message });
      // The server gave up long before 16 MiB: it did not keep what it could not process.
      expect(process.memoryUsage().rss - rssBefore, 'memory growth').to.be.below(12 * MiB);
      const alert = await c.conn.expectAlert();
      expectWireAlert(alert, { alert: 'unexpected_message', message });
      await c.conn.waitClosed();
    } finally {
      c.conn.destroy();
      park = false;
      parked.splice(0).forEach((f) => f());
    }
    await expectServerStillServes(srv.port);
  }

  it('handshake messages flooded while the server awaits its SNICallback → unexpected_message, no unbounded queue', () =>
    floodCase(() => {}, rawRecord(CT.handshake, frameHandshake(HandshakeType.certificate, new Uint8Array(16000))), /bytes the handshake has not asked for/));

  it('ChangeCipherSpec then a flood of records the server cannot read yet → unexpected_message, no unbounded buffer', () =>
    floodCase((c) => c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([1]))), rawRecord(CT.handshake, new Uint8Array(16000).fill(0x41)), /bytes the handshake has not asked for/));

  // Many tiny records cost the attacker 5 bytes of header per byte; they must cost us linear time and
  // memory proportional to the bytes, not one object per record held until the message completes.
  it('a 60 KB ClientHello in 1-byte records is reassembled in linear time', async () => {
    const c = await HostileClient.connect(srv.port);
    try {
      const pad: [number, Uint8Array] = [0x4444, new Uint8Array(60_000)];
      const msg = frameHandshake(HandshakeType.client_hello, clientHelloBody({ random: c.clientRandom, servername: null, extensions: (d) => [...d, pad] }));
      const wire = new Uint8Array(msg.length * 6);
      for (let i = 0; i < msg.length; i++) wire.set(rawRecord(CT.handshake, msg.subarray(i, i + 1), 0x0301), i * 6);
      c.conn.transcript.add(msg);
      const t0 = Date.now();
      c.conn.write(wire);
      await c.readServerFlight();
      expect(Date.now() - t0, 'time to the server flight').to.be.below(2500);
    } finally {
      c.conn.destroy();
    }
  });

  it('a 250 KB Certificate message in 1-byte records: the client reaches its verdict in linear time', async () => {
    const hs = await HostileServer.listen();
    try {
      await clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          // The real chain plus a 250 KB blob that is no certificate.
          const body = encodeCertificateMessage([...s.chain, new Uint8Array(250_000).fill(0x30)]);
          const msg = frameHandshake(HandshakeType.certificate, body);
          const wire = new Uint8Array(msg.length * 6);
          for (let i = 0; i < msg.length; i++) wire.set(rawRecord(CT.handshake, msg.subarray(i, i + 1)), i * 6);
          s.conn.write(wire);
        },
        { alert: 'bad_certificate', message: /server certificate #2 does not parse/ },
      );
    } finally {
      await hs.close();
    }
  });

  // A peer chooses the keys we verify with. RSA with e ≈ n makes one signature check a full-size
  // modular exponentiation: seconds for a 16384-bit key, and chain building may try dozens.
  it('server certificate chain with an RSA key of 16384-bit public exponent → unsupported_certificate, fast', async () => {
    const hs = await HostileServer.listen();
    try {
      const t0 = Date.now();
      await clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.conn.hold();
          s.sendServerHello();
          s.sendCertificate(hugeExponentChain(16384));
          s.conn.flush();
        },
        { alert: 'unsupported_certificate', message: /RSA public exponent of 16384 bits/ },
      );
      expect(Date.now() - t0, 'time to the verdict').to.be.below(2500);
    } finally {
      await hs.close();
    }
  });

  it('client certificate chain with an RSA key of 16384-bit public exponent → unsupported_certificate, fast', async () => {
    const mtls = await startQtlsServer({ options: { requestCert: true, ca: CA() } });
    try {
      const t0 = Date.now();
      await serverCase(
        mtls,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          expect(c.certificateRequested).to.equal(true);
          c.conn.sendHandshake(HandshakeType.certificate, encodeCertificateMessage(hugeExponentChain(16384)));
        },
        { alert: 'unsupported_certificate', message: /RSA public exponent of 16384 bits/ },
        { goodClient: { cert: pem('client-chain.pem'), key: pem('client-key.pem') } },
      );
      expect(Date.now() - t0, 'time to the verdict').to.be.below(2500);
    } finally {
      await mtls.close();
    }
  });

  // Nothing of a failed or finished connection may stay reachable from the server once the peer is
  // gone: not the socket, its keys and tables (~0.5 MB with 8-bit GHASH tables), nor its error.
  it('400 hostile connections (mixed failures and completed handshakes) leave the heap where it was', async function () {
    this.timeout(30_000);
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setImmediate(r));
        gc();
      }
    };
    const server = createServer({ cert: pem('ecdsa-p256-chain.pem'), key: pem('ecdsa-p256-key.pem') }, (s) => s.on('error', () => {}));
    let failures = 0;
    server.on('tlsClientError', () => failures++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const one = async (i: number) => {
      const c = await HostileClient.connect(port);
      try {
        if (i % 4 === 0) c.conn.write(rawRecord(CT.handshake, new Uint8Array([1, 0, 0, 1, 9]), 0x0301));
        else if (i % 4 === 1) {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: new Uint8Array(32) });
        } else {
          await c.handshake();
          if (i % 4 === 2) {
            const r = c.conn.encodeRecord(CT.application_data, new Uint8Array(10));
            r[r.length - 1]! ^= 1;
            c.conn.write(r);
          } else c.conn.end();
        }
        await c.conn.waitClosed().catch(() => {});
      } finally {
        c.conn.destroy();
      }
    };
    try {
      for (let i = 0; i < 40; i++) await one(i); // warm-up: caches, JIT
      await settle();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 400; i++) await one(i);
      await within(
        (async () => {
          for (;;) {
            const n = await new Promise<number>((r) => server.getConnections((_e, k) => r(k)));
            if (n === 0) return;
            await new Promise((r) => setImmediate(r));
          }
        })(),
        5000,
        'every connection to close',
      );
      await settle();
      const growth = process.memoryUsage().heapUsed - before;
      expect(failures, 'handshake failures seen by the server').to.equal(220);
      expect(growth, `heap growth ${(growth / MiB).toFixed(2)} MiB`).to.be.below(3 * MiB);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  // Each refused renegotiation costs us a warning alert (31 bytes for a 4-byte HelloRequest) that is
  // queued whether or not the peer reads: a flood must end the connection, not fill our write buffer.
  it('HelloRequest flood after the handshake (8 MB, 2M requests) → unexpected_message after a few refusals', async () => {
    const hs = await HostileServer.listen();
    try {
      await clientCase(
        hs,
        async (s) => {
          await s.handshake();
          const record = new Uint8Array(16384); // 4096 HelloRequests
          for (let i = 0; i < 500; i++) s.conn.sendRecord(CT.handshake, record);
        },
        { alert: 'unexpected_message', message: /too many renegotiation requests/, encrypted: true },
      ).then(({ script }) => {
        const alerts = script.conn.rawRecordHeaders().filter((h) => h.type === CT.alert).length;
        expect(alerts, 'alerts the client sent').to.be.below(20);
      });
    } finally {
      await hs.close();
    }
  });

  it('renegotiation ClientHello flood after the handshake → unexpected_message', () =>
    serverCase(
      srv,
      async (c) => {
        await c.handshake();
        const hello = frameHandshake(HandshakeType.client_hello, clientHelloBody());
        const batch = new Uint8Array(hello.length * 50);
        for (let i = 0; i < 50; i++) batch.set(hello, i * hello.length);
        c.conn.sendRecord(CT.handshake, batch);
      },
      { alert: 'unexpected_message', message: /too many renegotiation requests/, encrypted: true },
    ));

  it('renegotiation requests spaced by application data are each refused, the connection lives on', async () => {
    const c = await HostileClient.connect(srv.port);
    try {
      await c.handshake();
      for (let i = 0; i < 20; i++) {
        c.conn.sendHandshake(HandshakeType.client_hello, clientHelloBody(), { transcript: false });
        expectWireAlert(await c.conn.expectAlert(), { alert: 'no_renegotiation', level: 'warning', message: /./ });
        c.sendApplicationData(`ping ${i}`);
        expect(Buffer.from(await c.conn.readApplicationData(`ping ${i}`.length)).toString()).to.equal(`ping ${i}`);
      }
    } finally {
      c.conn.destroy();
    }
  });
});
