// Compact binary encoding of the classical post-processing messages: a type byte, LEB128 varints, raw bytes
// and bit strings (LSB-first within bytes). Readers throw Bb84ProtocolError on anything malformed.
import { Writer } from '../../wire/writer.js';

export const Msg = {
  SiftDetections: 1,
  SiftMatch: 2,
  SampleRequest: 3,
  SampleReport: 4,
  AbortDisclosure: 5,
  AbortReport: 6,
  CascadeStart: 7,
  CascadeQuery: 8,
  CascadeAnswer: 9,
  ConfirmTags: 10,
  ConfirmResult: 11,
  PrivacySeed: 12,
} as const;
export type Msg = (typeof Msg)[keyof typeof Msg];

export class Bb84ProtocolError extends Error {
  override name = 'Bb84ProtocolError';
}

/** A message: type byte, then the wire Writer's encodings plus varints and bit strings. */
export class MessageWriter extends Writer {
  constructor(type: Msg, capacity = 64) {
    super(capacity);
    this.u8(type);
  }

  /** Unsigned LEB128, up to 2^53 − 1. */
  varint(v: number): this {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`varint ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  /** A bit string of `count` 0/1 values, taken from `bits[offset..offset+count)`. */
  bits(bits: ArrayLike<number>, count = bits.length, offset = 0): this {
    const nbytes = (count + 7) >>> 3;
    this.ensure(nbytes);
    const base = this.len;
    this.buf.fill(0, base, base + nbytes);
    for (let i = 0; i < count; i++) if (bits[offset + i]) this.buf[base + (i >>> 3)] |= 1 << (i & 7);
    this.len += nbytes;
    return this;
  }
}

export class MessageReader {
  private pos = 1;

  constructor(private readonly buf: Uint8Array, expected: Msg) {
    if (buf.length === 0 || buf[0] !== expected) {
      throw new Bb84ProtocolError(`expected message type ${expected}, got ${buf.length ? buf[0] : 'empty message'}`);
    }
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Bb84ProtocolError('truncated message');
    return this.buf[this.pos++];
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 0x80;
    }
    throw new Bb84ProtocolError('varint too long');
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Bb84ProtocolError('truncated message');
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** `count` bits as 0/1 bytes. */
  bits(count: number): Uint8Array {
    const nbytes = (count + 7) >>> 3;
    if (this.pos + nbytes > this.buf.length) throw new Bb84ProtocolError('truncated bit string');
    const out = new Uint8Array(count);
    const base = this.pos;
    for (let i = 0; i < count; i++) out[i] = (this.buf[base + (i >>> 3)] >>> (i & 7)) & 1;
    this.pos += nbytes;
    return out;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new Bb84ProtocolError(`${this.buf.length - this.pos} trailing bytes`);
  }
}
