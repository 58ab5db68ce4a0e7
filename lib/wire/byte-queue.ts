/**
 * A FIFO of received bytes that avoids copying until a caller takes a contiguous slice.
 *
 * A peer decides how bytes arrive: a handshake message may come one byte per record. So every
 * operation is amortised O(bytes), never O(chunks²): consumed chunks are skipped with a head index
 * (Array.prototype.shift is O(n) on large arrays), and small chunks are copied into a shared tail
 * buffer so that a million 1-byte records cost about a megabyte, not a million objects.
 */
const SMALL_CHUNK = 256;
const TAIL_CAPACITY = 4096;

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk. */
  private head = 0;
  private total = 0;
  /** Buffer that small chunks are appended to; the last chunk may be a view of it. */
  private tail: Uint8Array | undefined;
  private tailUsed = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    if (chunk.length < SMALL_CHUNK) {
      const last = this.chunks.length > this.head ? this.chunks[this.chunks.length - 1]! : undefined;
      const t = this.tail;
      // Extend the last chunk in place when it is the live end of the tail buffer.
      if (last && t && last.buffer === t.buffer && last.byteOffset + last.length === t.byteOffset + this.tailUsed && this.tailUsed + chunk.length <= t.length) {
        t.set(chunk, this.tailUsed);
        this.tailUsed += chunk.length;
        this.chunks[this.chunks.length - 1] = new Uint8Array(t.buffer, last.byteOffset, last.length + chunk.length);
        return;
      }
      const fresh = new Uint8Array(TAIL_CAPACITY);
      fresh.set(chunk, 0);
      this.tail = fresh;
      this.tailUsed = chunk.length;
      this.chunks.push(fresh.subarray(0, chunk.length));
      return;
    }
    this.chunks.push(chunk);
  }

  /** Copy of the first n bytes without consuming them (n <= length). */
  peek(n: number): Uint8Array {
    const first = this.chunks[this.head];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = this.head; i < this.chunks.length && o < n; i++) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length, n - o);
      out.set(c.subarray(0, take), o);
      o += take;
    }
    return out;
  }

  /** Remove and return the first n bytes (n <= length). */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    let left = n;
    while (left > 0) {
      const c = this.chunks[this.head]!;
      if (c.length <= left) {
        this.head++;
        left -= c.length;
      } else {
        this.chunks[this.head] = c.subarray(left);
        left = 0;
      }
    }
    this.total -= n;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
    this.tail = undefined;
    this.tailUsed = 0;
  }
}
