// tlsSocket.setMaxSendFragment(size): the return values and argument errors of node's, and records on the
// wire (read through a recording relay) that carry at most `size` bytes of plaintext — compared with what
// a node:tls endpoint does after the same call.
import { expect } from 'chai';
import * as nodeTls from 'node:tls';
import { connect as qtlsConnect, createServer as qtlsCreateServer, type TLSSocket } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki } from '../helpers/fixtures.js';
import { listenLocal, LOCALHOST } from '../helpers/ports.js';
import { ContentType, parseFlight, startTap } from '../helpers/wire.js';

const CERT = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
/** AES-128-GCM: 8-byte explicit nonce + 16-byte tag per record (RFC 5288 §3). */
const SUITE = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const GCM_OVERHEAD = 24;

type AnyTlsSocket = nodeTls.TLSSocket | TLSSocket;

describe('interop: setMaxSendFragment()', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  /** A connected pair: a node:tls server and a client of each kind, both secure. */
  async function clients(): Promise<Record<'node' | 'qtls', AnyTlsSocket>> {
    const server = nodeTls.createServer({ ...CERT, maxVersion: 'TLSv1.2' }, (s) => s.resume());
    cleanup.defer(() => new Promise((r) => server.close(r)));
    const port = await listenLocal(server);
    const opts = { host: LOCALHOST, port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' as const };
    const node = nodeTls.connect(opts);
    const qtls = qtlsConnect(opts);
    for (const s of [node, qtls]) cleanup.defer(() => s.destroy());
    await Promise.all([node, qtls].map((s) => new Promise((r) => s.once('secureConnect', r))));
    return { node, qtls };
  }

  const outcome = (f: () => unknown) => {
    try {
      return { returned: f() };
    } catch (e) {
      return { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
    }
  };

  it('returns what node returns: true for 512..16384, false outside', async () => {
    const { node, qtls } = await clients();
    for (const size of [0, -1, 511, 512, 513, 1000, 4096, 16383, 16384, 16385, 65536, 2 ** 31 - 1]) {
      expect(outcome(() => qtls.setMaxSendFragment(size)), String(size)).to.deep.equal(outcome(() => node.setMaxSendFragment(size)));
    }
  });

  it('throws what node throws for a size that is not an int32', async () => {
    const { node, qtls } = await clients();
    for (const size of ['1000', 1.5, NaN, undefined, null, 2 ** 31, -(2 ** 31) - 1, { size: 1000 }, 'a string longer than twenty-eight characters']) {
      const ref = outcome(() => node.setMaxSendFragment(size as number));
      expect(ref, String(size)).to.have.property('code');
      expect(outcome(() => qtls.setMaxSendFragment(size as number)), String(size)).to.deep.equal(ref);
    }
  });

  /** Application data records (their payload lengths) a server wrote after setMaxSendFragment(limit), as seen on the wire. */
  async function serverRecords(impl: 'node' | 'qtls', sizes: number[], payload: number): Promise<number[]> {
    const results: boolean[] = [];
    const onSecure = (s: AnyTlsSocket) => {
      for (const size of sizes) results.push(s.setMaxSendFragment(size));
      s.end(Buffer.alloc(payload, 0x61));
      s.resume();
    };
    const server = impl === 'node' ? nodeTls.createServer({ ...CERT, maxVersion: 'TLSv1.2' }, onSecure) : qtlsCreateServer({ ...CERT }, onSecure as never);
    cleanup.defer(() => new Promise((r) => server.close(r)));
    const tap = await startTap(await listenLocal(server as never));
    cleanup.defer(() => tap.close());
    const client = nodeTls.connect({ host: LOCALHOST, port: tap.port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2', ciphers: SUITE });
    let received = 0;
    client.on('data', (d: Buffer) => (received += d.length));
    await new Promise((r) => client.once('end', r));
    client.destroy();
    await tap.connections[0]!.done;
    expect(received).to.equal(payload);
    expect(results.length).to.equal(sizes.length);
    const flight = parseFlight(tap.connections[0]!.s2c);
    return flight.records.filter((r) => r.encrypted && r.type === ContentType.application_data).map((r) => r.length - GCM_OVERHEAD);
  }

  for (const [label, sizes, payload] of [
    ['1000', [1000], 5500],
    ['512', [512], 2000],
    ['2048, then an out-of-range 100 that changes nothing', [2048, 100], 5000],
  ] as const) {
    it(`a server after setMaxSendFragment(${label}) sends records as node:tls does`, async () => {
      const limit = sizes[0]!;
      const node = await serverRecords('node', [...sizes], payload);
      const qtls = await serverRecords('qtls', [...sizes], payload);
      expect(Math.max(...node), 'node').to.equal(limit);
      expect(qtls, 'qtls record plaintext lengths').to.deep.equal(node);
      expect(qtls.reduce((a, b) => a + b, 0)).to.equal(payload);
    });
  }

  it('a client that calls it before the handshake sends its handshake records in pieces too', async () => {
    // requestCert: the client's Certificate message (two certificates, ~1.3 KB) must be split.
    const server = nodeTls.createServer({ ...CERT, maxVersion: 'TLSv1.2', requestCert: true, ca: ca() }, (s) => s.resume().end(Buffer.alloc(100)));
    cleanup.defer(() => new Promise((r) => server.close(r)));
    const tap = await startTap(await listenLocal(server));
    cleanup.defer(() => tap.close());
    const client = qtlsConnect({ host: LOCALHOST, port: tap.port, servername: 'localhost', ca: ca(), cert: pki('client-chain.pem'), key: pki('client-key.pem'), ciphers: SUITE });
    expect(client.setMaxSendFragment(512)).to.equal(true);
    client.on('data', () => {});
    await new Promise((r) => client.once('secureConnect', r));
    expect(client.authorized).to.equal(true);
    client.end(Buffer.alloc(3000, 0x62));
    await new Promise((r) => client.once('close', r));
    await tap.connections[0]!.done;
    const records = parseFlight(tap.connections[0]!.c2s).records;
    const clear = records.filter((r) => !r.encrypted && r.type === ContentType.handshake).map((r) => r.length);
    const appData = records.filter((r) => r.encrypted && r.type === ContentType.application_data).map((r) => r.length - GCM_OVERHEAD);
    expect(Math.max(...clear), `clear handshake records ${clear}`).to.equal(512);
    expect(appData).to.deep.equal([512, 512, 512, 512, 512, 440]);
  });
});
