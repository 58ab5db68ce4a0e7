/** Writer for the TLS presentation language (RFC 5246 §4): grows as needed, length prefixes patched in. */
export class Writer {
  protected buf: Uint8Array;
  protected len = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(8, capacity));
  }

  /** Make room for n more bytes (subclasses adding encodings use it). */
  protected ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u24(v: number): this {
    this.ensure(3);
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Write a length-prefixed block: the body callback writes into this writer, the prefix is patched. */
  block(lenBytes: 1 | 2 | 3, body: (w: this) => void): this {
    this.ensure(lenBytes);
    const at = this.len;
    this.len += lenBytes;
    body(this);
    const n = this.len - at - lenBytes;
    const max = (1 << (8 * lenBytes)) - 1;
    if (n > max) throw new RangeError(`vector of ${n} bytes does not fit a ${lenBytes}-byte length`);
    for (let i = 0; i < lenBytes; i++) this.buf[at + i] = (n >>> (8 * (lenBytes - 1 - i))) & 0xff;
    return this;
  }
  vec8(b: Uint8Array): this {
    return this.block(1, (w) => w.bytes(b));
  }
  vec16(b: Uint8Array): this {
    return this.block(2, (w) => w.bytes(b));
  }
  vec24(b: Uint8Array): this {
    return this.block(3, (w) => w.bytes(b));
  }

  get length(): number {
    return this.len;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
