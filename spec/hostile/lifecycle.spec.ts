// Peers that go silent or hang up mid-handshake, and the promise that application data already
// accepted survives a fatal error that follows it.
import { expect } from 'chai';
import { AlertDescription, TLSError } from '../../lib/alert.js';
import { verifyData } from '../../lib/handshake/key-schedule.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { utf8 } from '../../lib/wire/bytes.js';
import type { TLSSocket } from '../../lib/index.js';
import { HostileClient } from './helpers/hostile-client.js';
import { HostileServer } from './helpers/hostile-server.js';
import { deferred, useProcessGuard, within } from './helpers/guard.js';
import { expectApiError, expectClientStillWorks, expectServerStillServes, expectWireAlert, startQtlsClient, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

const CT = ContentType;

/** Everything readable on `s` until 'error' (or 'end'), in paused mode; resolves with the data and the error. */
function drainUntilError(s: TLSSocket): Promise<{ data: string; error: Error | undefined }> {
  return new Promise((resolve) => {
    let data = '';
    const take = () => {
      for (let chunk = s.read(); chunk !== null; chunk = s.read()) data += chunk.toString();
    };
    s.on('readable', take);
    s.once('error', (error) => {
      take();
      resolve({ data, error });
    });
    s.once('end', () => resolve({ data, error: undefined }));
  });
}

describe('hostile/lifecycle: silent peers, vanishing peers, data before a fatal error', function () {
  useProcessGuard();

  describe('a silent peer (handshakeTimeout)', () => {
    let srv: QtlsServer;
    // Long enough for a well-behaved handshake on a loaded 2-core machine (the server's next client
    // must still get through), short enough to keep the suite fast.
    const TIMEOUT = 500;
    before(async () => {
      srv = await startQtlsServer({ options: { handshakeTimeout: TIMEOUT } });
      await expectServerStillServes(srv.port); // warm up: the first handshake in a process is the slowest
    });
    after(() => srv.close());

    const timeoutCase = async (act: (c: HostileClient) => Promise<void> | void) => {
      const errP = srv.nextError(3000);
      const c = await HostileClient.connect(srv.port);
      try {
        const t0 = Date.now();
        await act(c);
        const err = await errP;
        expect(err.message).to.match(new RegExp(`TLS handshake timeout after ${TIMEOUT} ms`));
        expect((err as { code?: string }).code).to.equal('ERR_TLS_HANDSHAKE_TIMEOUT');
        expect(Date.now() - t0).to.be.below(2000);
        // On the wire: a fatal alert (internal_error), then the server hangs up.
        expectWireAlert(await c.conn.expectAlert(), { alert: 'internal_error', message: /./, encrypted: false });
        await c.conn.waitClosed();
      } finally {
        c.conn.destroy();
      }
      await expectServerStillServes(srv.port);
    };

    it('server: a client that connects and says nothing → timeout error, connection closed', () => timeoutCase(() => {}));

    it('server: a client that goes silent after ClientHello → timeout error, connection closed', () =>
      timeoutCase(async (c) => {
        c.sendClientHello();
        await c.readServerFlight();
      }));

    it('server: a client that goes silent after ChangeCipherSpec (the server paused for it) → timeout', () =>
      timeoutCase(async (c) => {
        c.sendClientHello();
        await c.readServerFlight();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
      }));

    it('server: a client that sends half a record and stops → timeout', () =>
      timeoutCase((c) => {
        c.conn.write(new Uint8Array([CT.handshake, 3, 1, 0, 200, 1, 0]));
      }));

    it('client: a server that reads the ClientHello and goes silent → timeout error, no hang', async () => {
      const hs = await HostileServer.listen();
      try {
        const client = startQtlsClient({ port: hs.port, handshakeTimeout: 250 });
        const s = await hs.next();
        await s.readClientHello();
        const err = await within(client.error, 3000, 'the client timeout');
        expect((err as { code?: string }).code).to.equal('ERR_TLS_HANDSHAKE_TIMEOUT');
        await s.conn.waitClosed();
        expect(client.socket.destroyed).to.equal(true);
        await expectClientStillWorks(hs);
      } finally {
        await hs.close();
      }
    });

    it('client: a server that goes silent after its first flight → timeout error', async () => {
      const hs = await HostileServer.listen();
      try {
        const client = startQtlsClient({ port: hs.port, handshakeTimeout: 250 });
        const s = await hs.next();
        await s.firstFlight();
        await s.conn.readHandshake(); // ClientKeyExchange; then nothing
        const err = await within(client.error, 3000, 'the client timeout');
        expect((err as { code?: string }).code).to.equal('ERR_TLS_HANDSHAKE_TIMEOUT');
        await s.conn.waitClosed();
      } finally {
        await hs.close();
      }
    });
  });

  describe('a peer that closes mid-handshake', () => {
    let srv: QtlsServer;
    before(async () => (srv = await startQtlsServer()));
    after(() => srv.close());

    const closeCase = async (act: (c: HostileClient) => Promise<void> | void, how: 'end' | 'destroy') => {
      const errP = srv.nextError(3000);
      const c = await HostileClient.connect(srv.port);
      try {
        await act(c);
        if (how === 'end') c.conn.end();
        else c.conn.destroy();
        const err = await errP;
        expect(err.message).to.match(/disconnected before secure TLS connection was established|ECONNRESET|socket hang up/);
      } finally {
        c.conn.destroy();
      }
      await expectServerStillServes(srv.port);
    };

    it('server: FIN right after connecting → error, not a hang', () => closeCase(() => {}, 'end'));
    it('server: FIN after ClientHello → error, not a hang', () => closeCase((c) => void c.sendClientHello(), 'end'));
    it('server: RST after ClientHello → error, not a hang', () =>
      closeCase(async (c) => {
        c.sendClientHello();
        await c.readServerFlight();
      }, 'destroy'));
    it('server: FIN after ChangeCipherSpec → error, not a hang', () =>
      closeCase(async (c) => {
        c.sendClientHello();
        await c.readServerFlight();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
      }, 'end'));
    it('server: FIN in the middle of a record → error, not a hang', () => closeCase((c) => c.conn.write(new Uint8Array([CT.handshake, 3, 1, 0, 50, 1])), 'end'));

    it('server: close_notify during the handshake → error (origin remote), not a hang', async () => {
      const errP = srv.nextError(3000);
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello();
        await c.readServerFlight();
        c.conn.sendAlert(1, AlertDescription.close_notify);
        const err = await errP;
        expect(err).to.be.instanceOf(TLSError);
        expect((err as TLSError).alert).to.equal('close_notify');
        expect((err as TLSError).origin).to.equal('remote');
        await c.conn.waitClosed();
      } finally {
        c.conn.destroy();
      }
      await expectServerStillServes(srv.port);
    });

    for (const when of ['after reading the ClientHello', 'after its first flight', 'after reading the client Finished'] as const) {
      it(`client: the server closes ${when} → error, not a hang`, async () => {
        const hs = await HostileServer.listen();
        try {
          const client = startQtlsClient({ port: hs.port });
          const s = await hs.next();
          if (when === 'after reading the ClientHello') await s.readClientHello();
          else if (when === 'after its first flight') await s.firstFlight();
          else {
            await s.firstFlight();
            await s.readClientFlight();
          }
          s.conn.end();
          const err = await within(client.error, 3000, 'the client error');
          expect(err.message).to.match(/disconnected before secure TLS connection was established/);
          await expectClientStillWorks(hs);
        } finally {
          await hs.close();
        }
      });
    }
  });

  describe('application data already accepted is not lost', () => {
    let hs: HostileServer;
    before(async () => (hs = await HostileServer.listen()));
    after(() => hs.close());

    /** A qtls client with a completed handshake against the hostile server. */
    async function established() {
      const client = startQtlsClient({ port: hs.port });
      const s = await hs.next();
      await s.handshake();
      await within(client.secure, 3000, 'secureConnect');
      return { client, s };
    }

    it('client, paused reader: data then a fatal alert in one segment → the data is readable, then the error', async () => {
      const { client, s } = await established();
      try {
        // Not reading yet: the data must wait in the socket, the error must wait for it.
        s.conn.hold();
        s.sendApplicationData('accepted before the alert');
        s.conn.sendAlert(2, AlertDescription.internal_error);
        s.conn.flush();
        await s.conn.waitClosed(); // the client processed both and hung up
        const { data, error } = await within(drainUntilError(client.socket), 3000, 'data then error');
        expect(data).to.equal('accepted before the alert');
        expectApiError(error!, { alert: 'internal_error', message: /received fatal alert internal_error/ }, 'remote');
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('client, flowing reader: data then a tampered record → every byte of data, then bad_record_mac on the wire and the API', async () => {
      const { client, s } = await established();
      try {
        const chunks: string[] = [];
        client.socket.on('data', (d: Buffer) => chunks.push(d.toString()));
        s.conn.hold();
        s.sendApplicationData('one,');
        s.sendApplicationData('two');
        const bad = s.conn.encodeRecord(CT.application_data, utf8('three'));
        bad[bad.length - 1]! ^= 1;
        s.conn.write(bad);
        s.conn.flush();
        expectWireAlert(await s.conn.expectAlert(), { alert: 'bad_record_mac', message: /./, encrypted: true });
        const err = await within(client.error, 3000, 'the client error');
        expectApiError(err, { alert: 'bad_record_mac', message: /record authentication failed/ });
        expect(chunks.join('')).to.equal('one,two');
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('client, paused reader: 64 KiB of data then a tampered record → all 64 KiB readable, then the error', async () => {
      const { client, s } = await established();
      try {
        const big = new Uint8Array(64 * 1024).map((_, i) => 0x61 + (i % 26));
        s.conn.hold();
        s.sendApplicationData(big);
        const bad = s.conn.encodeRecord(CT.application_data, utf8('x'));
        bad[6]! ^= 1;
        s.conn.write(bad);
        s.conn.flush();
        // More than the socket's highWaterMark: the client applies backpressure, so read while it arrives.
        const { data, error } = await within(drainUntilError(client.socket), 3000, 'data then error');
        expect(data).to.equal(Buffer.from(big).toString());
        expect((error as TLSError).alert).to.equal('bad_record_mac');
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('client: data then close_notify then garbage → the data, a clean end, no error', async () => {
      const { client, s } = await established();
      try {
        s.conn.hold();
        s.sendApplicationData('bye');
        s.conn.sendAlert(1, AlertDescription.close_notify);
        s.conn.write(utf8('garbage after close_notify'));
        s.conn.flush();
        const { data, error } = await within(drainUntilError(client.socket), 3000, 'data then end');
        expect(data).to.equal('bye');
        expect(error).to.equal(undefined);
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('client: the server sends application data in the same segment as its Finished → secureConnect, then the data', async () => {
      const client = startQtlsClient({ port: hs.port });
      const s = await hs.next();
      try {
        const order: string[] = [];
        client.socket.once('secureConnect', () => order.push('secureConnect'));
        const got = deferred<string>();
        client.socket.on('data', (d: Buffer) => {
          order.push('data');
          got.resolve(d.toString());
        });
        await s.firstFlight();
        await s.readClientFlight();
        s.conn.hold();
        s.sendChangeCipherSpec();
        s.sendFinished();
        s.sendApplicationData('220 banner');
        s.conn.flush();
        expect(await within(got.promise, 3000, 'the banner')).to.equal('220 banner');
        expect(order).to.deep.equal(['secureConnect', 'data']);
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('server: data then a tampered record in one segment → the application gets the data, then bad_record_mac', async () => {
      const got: string[] = [];
      const done = deferred<Error>();
      const srv = await startQtlsServer({
        onSecure: (sock) => {
          sock.on('data', (d: Buffer) => {
            got.push(d.toString());
            sock.write(d); // echo, for the well-behaved client that follows
          });
          sock.on('error', (e) => done.resolve(e));
        },
      });
      const c = await HostileClient.connect(srv.port);
      try {
        await c.handshake();
        c.conn.hold();
        c.sendApplicationData('GET / HTTP/1.1\r\n');
        c.sendApplicationData('Host: x\r\n\r\n');
        const bad = c.conn.encodeRecord(CT.application_data, utf8('more'));
        bad[bad.length - 2]! ^= 0x20;
        c.conn.write(bad);
        c.conn.flush();
        expectWireAlert(await c.conn.expectAlert(), { alert: 'bad_record_mac', message: /./, encrypted: true });
        const err = await within(done.promise, 3000, 'the server-side error');
        expectApiError(err, { alert: 'bad_record_mac', message: /record authentication failed/ });
        expect(got.join('')).to.equal('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        await expectServerStillServes(srv.port);
      } finally {
        c.conn.destroy();
        await srv.close();
      }
    });

    it('server: client Finished and application data in one segment (False Start) → accepted after the handshake', async () => {
      const srv = await startQtlsServer();
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello();
        await c.readServerFlight();
        c.conn.hold();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
        c.sendFinished();
        c.sendApplicationData('early');
        c.conn.flush();
        await c.readServerFinished();
        expect(Buffer.from(await c.conn.readApplicationData(5)).toString()).to.equal('early');
      } finally {
        c.conn.destroy();
        await srv.close();
      }
    });

    it('server: application data inside the same record as the client Finished → unexpected_message', async () => {
      const srv = await startQtlsServer();
      const errP = srv.nextError();
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello();
        await c.readServerFlight();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
        // Finished followed by the start of another handshake message in the same record.
        const fin = frameHandshake(20, verifyData(c.suite, c.master, 'client', c.conn.transcript.hash()));
        c.conn.sendRecord(CT.handshake, new Uint8Array([...fin, 0, 0]));
        const want = { alert: 'unexpected_message' as const, message: /data after Finished in the same record/ };
        expectWireAlert(await c.conn.expectAlert(), want);
        expectApiError(await errP, want);
        await expectServerStillServes(srv.port);
      } finally {
        c.conn.destroy();
        await srv.close();
      }
    });
  });
});
