// Authentication key pool. Starts from a pre-shared bootstrap key; each block's classical session takes a
// fresh MAC key from it, and each successful block pays back part of its final key. Alice and Bob each hold
// their own pool; they stay in step because both consume and refill the same amounts at the same points.

export class AuthPoolExhaustedError extends Error {
  override name = 'AuthPoolExhaustedError';
}

export class AuthKeyPool {
  private buf: Uint8Array;
  private start = 0;
  private end: number;
  consumedBytes = 0;
  refilledBytes = 0;

  constructor(bootstrap: Uint8Array) {
    if (bootstrap.length < 32) throw new RangeError(`bootstrap key of ${bootstrap.length} bytes is shorter than one 32-byte MAC key`);
    this.buf = bootstrap.slice();
    this.end = this.buf.length;
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Removes and returns the next `n` bytes; the pool never hands out the same bytes twice. */
  take(n: number): Uint8Array {
    if (this.available < n) {
      throw new AuthPoolExhaustedError(`authentication key pool exhausted (${this.available} bytes left, ${n} needed)`);
    }
    const out = this.buf.slice(this.start, this.start + n);
    this.buf.fill(0, this.start, this.start + n);
    this.start += n;
    this.consumedBytes += n;
    return out;
  }

  refill(bytes: Uint8Array): void {
    const live = this.buf.subarray(this.start, this.end);
    const next = new Uint8Array(live.length + bytes.length);
    next.set(live);
    next.set(bytes, live.length);
    this.buf.fill(0);
    this.buf = next;
    this.start = 0;
    this.end = next.length;
    this.refilledBytes += bytes.length;
  }
}
