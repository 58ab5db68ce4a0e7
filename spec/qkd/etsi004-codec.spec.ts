import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  decodeFrame,
  DEFAULT_MAX_PAYLOAD,
  encodeMessage,
  Etsi004DecodeError,
  FrameReader,
  HEADER_BYTES,
  NULL_KSID,
  QOS_BYTES,
  type Message004,
  type Qos,
} from '../../lib/qkd/etsi004/codec.js';
import { statusError, statusName } from '../../lib/qkd/etsi004/status.js';

const qos: Qos = {
  keyChunkSize: 32,
  maxBps: 40000,
  minBps: 5000,
  jitter: 10,
  priority: 1,
  timeout: 5000,
  ttl: 3600,
  metadataMimetype: 'application/json',
};
const KSID = '4eb81a5c-031f-4d1f-881d-309bee44fc20';

const samples: Message004[] = [
  { type: 'open-connect-request', source: 'sae:sae-a', destination: 'sae:sae-b', qos, ksid: NULL_KSID },
  { type: 'open-connect-response', status: 1, qos, ksid: KSID },
  { type: 'get-key-request', ksid: KSID, index: 7, metadataSize: 1024 },
  { type: 'get-key-response', status: 0, index: 7, key: Uint8Array.from(randomBytes(32)), metadataSize: 2, metadata: Uint8Array.from([0x7b, 0x7d]) },
  { type: 'get-key-response', status: 8, index: 7, key: new Uint8Array(0), metadataSize: 90, metadata: new Uint8Array(0) },
  { type: 'close-request', ksid: KSID },
  { type: 'close-response', status: 0 },
];

function expectDecodeError(f: () => unknown, re?: RegExp): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'an Etsi004DecodeError').to.be.instanceOf(Etsi004DecodeError);
  if (re) expect((thrown as Error).message).to.match(re);
}

describe('ETSI GS QKD 004 framing (codec)', function () {
  describe('header', function () {
    it('is version 1.0.1, the service type, and a big-endian payload length', function () {
      const f = encodeMessage({ type: 'close-request', ksid: KSID });
      expect([...f.subarray(0, 8)]).to.deep.equal([1, 0, 1, 0x08, 0, 0, 0, 16]);
      expect(Buffer.from(f.subarray(8)).toString('hex')).to.equal(KSID.replace(/-/g, ''));
    });

    it('service types 0x02/0x03, 0x04/0x05, 0x08/0x09', function () {
      expect(samples.map((m) => encodeMessage(m)[3])).to.deep.equal([0x02, 0x03, 0x04, 0x05, 0x05, 0x08, 0x09]);
    });
  });

  describe('layouts', function () {
    it('OPEN_CONNECT request: source NUL, destination NUL, QoS (7 x uint32 + 256-byte MIME type), KSID', function () {
      const f = encodeMessage(samples[0]!);
      const p = f.subarray(HEADER_BYTES);
      expect(p.length).to.equal('sae:sae-a'.length + 1 + 'sae:sae-b'.length + 1 + QOS_BYTES + 16);
      expect(p[9]).to.equal(0);
      const q = p.subarray(20);
      const dv = new DataView(q.buffer, q.byteOffset);
      expect([0, 4, 8, 12, 16, 20, 24].map((o) => dv.getUint32(o))).to.deep.equal([32, 40000, 5000, 10, 1, 5000, 3600]);
      expect(Buffer.from(q.subarray(28, 44)).toString()).to.equal('application/json');
      expect([...q.subarray(44, 284)].every((b) => b === 0)).to.equal(true);
      expect([...p.subarray(p.length - 16)].every((b) => b === 0)).to.equal(true);
    });

    it('GET_KEY response: status, index, chunk size, key, metadata size, metadata', function () {
      const m = samples[3] as Extract<Message004, { type: 'get-key-response' }>;
      const p = encodeMessage(m).subarray(HEADER_BYTES);
      const dv = new DataView(p.buffer, p.byteOffset);
      expect([dv.getUint32(0), dv.getUint32(4), dv.getUint32(8)]).to.deep.equal([0, 7, 32]);
      expect(Buffer.from(p.subarray(12, 44)).equals(Buffer.from(m.key))).to.equal(true);
      expect(dv.getUint32(44)).to.equal(2);
      expect(p.length).to.equal(50);
    });
  });

  describe('round trips', function () {
    for (const m of samples) {
      it(`${m.type}${'status' in m ? ` (status ${m.status})` : ''}`, function () {
        expect(decodeFrame(encodeMessage(m))).to.deep.equal(m);
      });
    }

    it('FrameReader reassembles frames split at every byte and coalesced', function () {
      const all = Buffer.concat(samples.map((m) => Buffer.from(encodeMessage(m))));
      const r = new FrameReader();
      const out: Message004[] = [];
      for (const b of all) out.push(...r.push(Uint8Array.of(b)));
      r.end();
      expect(out).to.deep.equal(samples);
      expect(new FrameReader().push(all)).to.deep.equal(samples);
    });

    it('accepts a status-only GET_KEY failure (as some servers send)', function () {
      const f = Uint8Array.from([1, 0, 1, 0x05, 0, 0, 0, 4, 0, 0, 0, 2]);
      expect(decodeFrame(f)).to.include({ type: 'get-key-response', status: 2 });
    });
  });

  describe('hostile bytes', function () {
    it('a wrong major version is refused', function () {
      const f = encodeMessage(samples[5]!);
      f[0] = 2;
      expectDecodeError(() => decodeFrame(f), /version/);
      expectDecodeError(() => new FrameReader().push(f.subarray(0, 8)), /version/);
    });

    it('an unknown service type is refused', function () {
      for (const t of [0x00, 0x01, 0x06, 0x07, 0x0a, 0x7f, 0xff]) {
        const f = encodeMessage(samples[5]!);
        f[3] = t;
        expectDecodeError(() => decodeFrame(f), /service type/);
      }
    });

    it('an oversized payload length is refused from the header alone', function () {
      const h = Uint8Array.from([1, 0, 1, 0x04, 0xff, 0xff, 0xff, 0xff]);
      expectDecodeError(() => new FrameReader().push(h), /exceeds/);
      const just = Uint8Array.from([1, 0, 1, 0x04, 0, 0, 0, 0]);
      new DataView(just.buffer).setUint32(4, DEFAULT_MAX_PAYLOAD + 1);
      expectDecodeError(() => new FrameReader().push(just), /exceeds/);
    });

    it('truncated frames and payloads are refused', function () {
      for (const m of samples) {
        const f = encodeMessage(m);
        for (const cut of [1, 4, 7, 8, f.length - 1]) {
          if (cut >= f.length) continue;
          expectDecodeError(() => decodeFrame(f.subarray(0, cut)));
          const r = new FrameReader();
          expect(r.push(f.subarray(0, cut))).to.deep.equal([]);
          expectDecodeError(() => r.end(), /inside a frame/);
        }
      }
    });

    it('a payload length that disagrees with the message is refused', function () {
      // CLOSE request whose length claims 17 bytes (one extra)
      const f = Buffer.concat([Buffer.from([1, 0, 1, 0x08, 0, 0, 0, 17]), Buffer.alloc(17)]);
      expectDecodeError(() => decodeFrame(f), /after the message/);
      // GET_KEY response whose chunk size runs past the payload
      const g = Buffer.from(encodeMessage(samples[3]!));
      g.writeUInt32BE(0xffffff, HEADER_BYTES + 8);
      expectDecodeError(() => decodeFrame(g), /truncated/);
    });

    it('an unterminated URI, a MIME type with bytes after its NUL, bad UTF-8 are refused', function () {
      const noNul = Buffer.concat([Buffer.from([1, 0, 1, 0x02, 0, 0, 0, 5]), Buffer.from('abcde')]);
      expectDecodeError(() => decodeFrame(noNul), /URI/);
      const f = Buffer.from(encodeMessage(samples[0]!));
      const mime = HEADER_BYTES + 20 + 28;
      f[mime + 200] = 0x41;
      expectDecodeError(() => decodeFrame(f), /MIME/);
      const bad = Buffer.from(encodeMessage({ ...(samples[0] as Extract<Message004, { type: 'open-connect-request' }>), source: 'ab' }));
      bad[HEADER_BYTES] = 0xff;
      expectDecodeError(() => decodeFrame(bad), /UTF-8/);
    });

    it('once failed, a FrameReader stays failed', function () {
      const r = new FrameReader();
      expectDecodeError(() => r.push(Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9])));
      expectDecodeError(() => r.push(encodeMessage(samples[6]!)));
    });

    it('random bytes never throw anything but Etsi004DecodeError', function () {
      for (let i = 0; i < 2000; i++) {
        const n = i % 50 === 0 ? 600 : 1 + (i % 64);
        const b = Uint8Array.from(randomBytes(n));
        if (i % 2 === 0 && n >= 4) b.set([1, 0, 1, [2, 3, 4, 5, 8, 9][i % 6]!], 0);
        if (i % 4 === 0 && n >= 8) new DataView(b.buffer).setUint32(4, n - 8);
        try {
          new FrameReader().push(b);
        } catch (e) {
          expect(e).to.be.instanceOf(Etsi004DecodeError);
        }
        try {
          decodeFrame(b);
        } catch (e) {
          expect(e).to.be.instanceOf(Etsi004DecodeError);
        }
      }
    });
  });

  describe('status codes', function () {
    it('names 0-8 and maps failures to KeyDeliveryError kinds', function () {
      expect(statusName(1)).to.match(/peer not connected/);
      expect(statusError('tls://k:1', 'GET_KEY', 2)).to.include({ kind: 'empty', status: 2 });
      expect(statusError('tls://k:1', 'OPEN_CONNECT', 5)).to.include({ kind: 'refused', status: 5 });
      expect(statusError('tls://k:1', 'GET_KEY', 6).kind).to.equal('timeout');
      expect(statusError('tls://k:1', 'OPEN_CONNECT', 4).kind).to.equal('unreachable');
      expect(statusError('tls://k:1', 'GET_KEY', 42).kind).to.equal('bad-response');
    });
  });
});
