// Resource bounds: a hostile peer must not make a qtls endpoint hold unbounded memory. The dangerous
// moment is while the handshake awaits something slow of its own (an SNICallback, a session store, a
// key manager over the network): whatever the peer sends meanwhile is buffered, not processed.
import { expect } from 'chai';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { HostileClient } from './helpers/hostile-client.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { expectApiError, expectServerStillServes, expectWireAlert, startQtlsServer, type QtlsServer } from './helpers/qtls.js';
import { rawRecord } from './helpers/raw-conn.js';

const CT = ContentType;
const MiB = 1 << 20;

describe('hostile/resources: input buffered while the handshake is busy is bounded', function () {
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
});
