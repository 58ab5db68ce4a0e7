// QKD handshakes on loopback under tshark, as the original project checked its hackathon handshake on
// the wire: tshark (not qtls) dissects the capture and must see the whole TLS 1.2 ladder with the
// key_ID in the ServerKeyExchange, while the QKD keys themselves appear nowhere in the captured bytes,
// neither on the TLS connection nor on the (mutual-TLS) connections to the KMEs.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { DeliveredKey } from '../../lib/qkd/key-delivery.js';
import { startQtlsServer, type QtlsServer } from '../hostile/helpers/qtls.js';
import { expectEcho, recordingDelivery, requireTool, runClient, startQkdNet, type ClientRun, type QkdTestNet } from '../helpers/qkd-tls.js';
import { readTlsFrames, startCapture, type TlsFrame } from '../helpers/tshark.js';

const HS = { client_hello: 1, server_hello: 2, certificate: 11, server_key_exchange: 12, server_hello_done: 14, client_key_exchange: 16, new_session_ticket: 4 } as const;
const CT = { change_cipher_spec: 20, alert: 21, handshake: 22, application_data: 23 } as const;

interface Seen {
  name: string;
  run: ClientRun;
  suiteId: number;
  c2s: TlsFrame[];
  s2c: TlsFrame[];
}

describe('QKD in TLS: a capture with tshark', function () {
  this.timeout(60_000);
  let q: QkdTestNet;
  let srv: QtlsServer;
  let file: string;
  let raw: Buffer;
  let frames: TlsFrame[];
  const delivered: DeliveredKey[] = [];
  const seen: Seen[] = [];

  before(async function () {
    requireTool(this, 'tshark');
    q = await startQkdNet({ minKeys: 8 });
    const srvDelivery = recordingDelivery(q.delivery('sae-a', '014'));
    const cliDelivery = recordingDelivery(q.delivery('sae-b', '014'));
    srv = await startQtlsServer({ identity: 'ecdsa', options: { qkd: { saeId: 'sae-a', delivery: srvDelivery } } });
    file = join(tmpdir(), `qtls-qkd-${process.pid}-${Date.now()}.pcapng`);
    // The TLS port and both KMEs' ETSI 014 ports.
    const filter = `tcp port ${srv.port} or tcp port ${q.net.A.port} or tcp port ${q.net.B.port}`;
    const cap = await startCapture(file, filter, srv.port);
    const runs: Array<{ name: string; suiteId: number; run: ClientRun }> = [];
    try {
      for (const [name, ciphers, suiteId] of [
        ['hybrid', 'ECDHE-QKD-ECDSA-AES256-GCM-SHA384', 0xff11],
        ['first-class', 'QKD-ECDSA-AES256-GCM-SHA384', 0xff01],
      ] as const) {
        const run = await runClient(srv.port, { ciphers, qkd: { saeId: 'sae-b', delivery: cliDelivery } }, `application data over ${name} QKD`);
        expectEcho(run, `application data over ${name} QKD`);
        runs.push({ name, suiteId, run });
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await cap.stop();
    }
    delivered.push(...srvDelivery.delivered, ...cliDelivery.delivered);
    raw = readFileSync(file);
    frames = await readTlsFrames(file, [srv.port, q.net.A.port, q.net.B.port]);
    // The handshakes' TCP streams: those carrying a ServerKeyExchange with the run's key_ID.
    for (const r of runs) {
      const keyId = Buffer.from(String(r.run.info.qkdKeyId));
      const ske = frames.find((f) => f.srcPort === srv.port && f.handshakeTypes.includes(HS.server_key_exchange) && f.payload.includes(keyId));
      expect(ske, `a ServerKeyExchange with key_ID ${keyId} in the capture\n${cap.log}`).to.not.equal(undefined);
      const stream = frames.filter((f) => f.stream === ske!.stream);
      seen.push({ ...r, c2s: stream.filter((f) => f.dstPort === srv.port), s2c: stream.filter((f) => f.srcPort === srv.port) });
    }
  });

  after(async function () {
    await srv?.close();
    await q?.close();
    if (file) rmSync(file, { force: true });
  });

  for (const name of ['hybrid', 'first-class']) {
    describe(`${name} QKD handshake`, function () {
      const get = () => seen.find((s) => s.name === name)!;

      it('tshark sees ClientHello, ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, ClientKeyExchange, then ChangeCipherSpec + Finished both ways and application data', function () {
        const s = get();
        const hs = (frames: TlsFrame[]) => frames.flatMap((f) => f.handshakeTypes);
        const cts = (frames: TlsFrame[]) => frames.flatMap((f) => f.contentTypes);
        expect(hs(s.c2s), 'client → server handshake messages').to.deep.equal([HS.client_hello, HS.client_key_exchange]);
        expect(hs(s.s2c).filter((t) => t !== HS.new_session_ticket), 'server → client handshake messages').to.deep.equal([
          HS.server_hello, HS.certificate, HS.server_key_exchange, HS.server_hello_done,
        ]);
        for (const [dir, frames] of [['client → server', s.c2s], ['server → client', s.s2c]] as const) {
          const types = cts(frames);
          const ccs = types.indexOf(CT.change_cipher_spec);
          expect(ccs, `${dir}: ChangeCipherSpec`).to.be.greaterThan(0);
          expect(types.filter((t) => t === CT.change_cipher_spec), `${dir}: one ChangeCipherSpec`).to.have.length(1);
          // The record right after ChangeCipherSpec is the (encrypted) Finished: a handshake record
          // tshark cannot read a type from.
          expect(types[ccs + 1], `${dir}: Finished after ChangeCipherSpec`).to.equal(CT.handshake);
          expect(types.slice(ccs + 2), `${dir}: application data, then the close_notify alert`).to.include.members([CT.application_data, CT.alert]);
          expect(types.slice(0, ccs), `${dir}: no application data before the handshake is done`).to.not.include(CT.application_data);
        }
      });

      it('the ServerHello picks the QKD suite and the ServerKeyExchange carries the master SAE ID and the key_ID, in clear', function () {
        const s = get();
        const msgs = handshakeMessages(s.s2c);
        const sh = msgs.find((m) => m.type === HS.server_hello)!.body;
        expect(sh.readUInt16BE(35 + sh[34]!), 'cipher_suite').to.equal(s.suiteId);
        const ske = msgs.find((m) => m.type === HS.server_key_exchange)!.body;
        // QKDParams: uint8 api (1 = ETSI 014); opaque master_sae_id<1..255>; opaque key_id<1..2^16-1>
        const keyId = String(s.run.info.qkdKeyId);
        const expected = Buffer.concat([Buffer.from([1, 5]), Buffer.from('sae-a'), Buffer.from([0, keyId.length]), Buffer.from(keyId)]);
        expect(ske.subarray(0, expected.length).equals(expected), `QKDParams at the head of ServerKeyExchange: ${ske.toString('hex')}`).to.equal(true);
        const cke = handshakeMessages(s.c2s).find((m) => m.type === HS.client_key_exchange)!.body;
        if (name === 'first-class') expect(cke, 'first-class ClientKeyExchange is empty').to.have.length(0);
        else expect(cke.length, 'hybrid ClientKeyExchange: the x25519 share only').to.equal(1 + 32);
      });
    });
  }

  it('the QKD keys appear nowhere in the captured bytes (TLS connection and KME connections)', function () {
    // Each key was delivered to the master and to the slave: 2 handshakes × 2 SAEs.
    expect(delivered).to.have.length(4);
    for (const k of delivered) {
      const key = Buffer.from(k.key);
      expect(key).to.have.length(32);
      for (const form of [key, Buffer.from(key.toString('hex')), Buffer.from(key.toString('base64')), Buffer.from(key.toString('base64url'))]) {
        expect(raw.indexOf(form), `key ${k.keyId} found in the capture as ${form.toString('latin1').slice(0, 16)}…`).to.equal(-1);
      }
    }
    // The search does find what is in clear: the key_IDs (ServerKeyExchange).
    for (const s of seen) expect(raw.indexOf(Buffer.from(String(s.run.info.qkdKeyId)))).to.be.greaterThan(0);
  });

  it('the KME connections are in the capture too, and carry only TLS (mutual TLS to both ETSI 014 ports)', function () {
    for (const port of [q.net.A.port, q.net.B.port]) {
      const kme = frames.filter((f) => f.srcPort === port || f.dstPort === port);
      expect(kme.length, `frames with data to/from KME port ${port}`).to.be.greaterThan(0);
      expect(kme.filter((f) => f.contentTypes.length === 0).map((f) => f.frame), `KME port ${port}: frames that are not TLS`).to.deep.equal([]);
      expect(kme.some((f) => f.contentTypes.includes(CT.application_data)), 'encrypted requests and answers').to.equal(true);
    }
  });
});

/** Handshake messages sent in clear in these frames (one direction of one stream, in order). */
function handshakeMessages(frames: TlsFrame[]): Array<{ type: number; body: Buffer }> {
  const buf = Buffer.concat(frames.map((f) => f.payload));
  const parts: Buffer[] = [];
  for (let off = 0; off + 5 <= buf.length; ) {
    const len = buf.readUInt16BE(off + 3);
    if (buf[off] === CT.change_cipher_spec) break;
    if (buf[off] === CT.handshake) parts.push(buf.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  const hs = Buffer.concat(parts);
  const out: Array<{ type: number; body: Buffer }> = [];
  for (let o = 0; o + 4 <= hs.length; o += 4 + hs.readUIntBE(o + 1, 3)) out.push({ type: hs[o]!, body: hs.subarray(o + 4, o + 4 + hs.readUIntBE(o + 1, 3)) });
  return out;
}
