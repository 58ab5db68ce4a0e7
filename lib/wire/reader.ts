import { decodeError } from '../alert.js';

/**
 * Reader for the TLS presentation language (RFC 5246 §4). Every read is bounds-checked; a short
 * buffer, an out-of-range vector length or a trailing byte is a decode_error.
 */
export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what = 'message') {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }
  get offset(): number {
    return this.pos;
  }
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  private need(n: number, field: string): void {
    if (this.buf.length - this.pos < n) decodeError(`${this.what}: truncated ${field} (need ${n} bytes, have ${this.remaining})`);
  }

  u8(field = 'uint8'): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field = 'uint16'): number {
    this.need(2, field);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u24(field = 'uint24'): number {
    this.need(3, field);
    const v = (this.buf[this.pos]! << 16) | (this.buf[this.pos + 1]! << 8) | this.buf[this.pos + 2]!;
    this.pos += 3;
    return v;
  }
  u32(field = 'uint32'): number {
    this.need(4, field);
    const v = ((this.buf[this.pos]! << 24) >>> 0) + ((this.buf[this.pos + 1]! << 16) | (this.buf[this.pos + 2]! << 8) | this.buf[this.pos + 3]!);
    this.pos += 4;
    return v;
  }
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** opaque field<min..max> with a length prefix of lenBytes (1, 2 or 3). */
  vector(lenBytes: 1 | 2 | 3, min: number, max: number, field = 'vector'): Uint8Array {
    const len = lenBytes === 1 ? this.u8(field) : lenBytes === 2 ? this.u16(field) : this.u24(field);
    if (len < min || len > max) decodeError(`${this.what}: ${field} length ${len} outside ${min}..${max}`);
    return this.bytes(len, field);
  }
  vec8(field?: string, min = 0, max = 0xff): Uint8Array {
    return this.vector(1, min, max, field);
  }
  vec16(field?: string, min = 0, max = 0xffff): Uint8Array {
    return this.vector(2, min, max, field);
  }
  vec24(field?: string, min = 0, max = 0xffffff): Uint8Array {
    return this.vector(3, min, max, field);
  }

  /** A sub-reader over a length-prefixed vector; the caller must consume it fully (see end()). */
  sub(lenBytes: 1 | 2 | 3, field: string, min = 0, max = (1 << (8 * lenBytes)) - 1): Reader {
    return new Reader(this.vector(lenBytes, min, max, field), `${this.what}.${field}`);
  }

  /** A list of uint16 values in a vector with a `lenBytes` prefix (length must be even). */
  u16List(lenBytes: 1 | 2, field: string, minItems = 0): number[] {
    const r = this.sub(lenBytes, field);
    if (r.remaining % 2 !== 0) decodeError(`${this.what}: ${field} has odd length`);
    if (r.remaining / 2 < minItems) decodeError(`${this.what}: ${field} needs at least ${minItems} entries`);
    const out: number[] = [];
    while (!r.atEnd()) out.push(r.u16(field));
    return out;
  }

  /** Assert that everything was consumed (RFC 5246 §7.4: no trailing data in a message). */
  end(): void {
    if (this.pos !== this.buf.length) decodeError(`${this.what}: ${this.remaining} trailing byte(s)`);
  }
}
