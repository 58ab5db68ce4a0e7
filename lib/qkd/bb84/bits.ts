// Bit-packed helpers. Pulse-level data live in Uint32Array words, bit i at (words[i >>> 5] >>> (i & 31)) & 1.
// Key material during post-processing lives in Uint8Array with one 0/1 per element (cheap random access for
// Cascade); keys leave the pipeline packed MSB-first into bytes.

export function wordsFor(nbits: number): number {
  return (nbits + 31) >>> 5;
}

export function getBit(words: Uint32Array, i: number): number {
  return (words[i >>> 5] >>> (i & 31)) & 1;
}

export function setBit(words: Uint32Array, i: number): void {
  words[i >>> 5] |= 1 << (i & 31);
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Clears the bits at positions >= nbits in the last word (so popcounts and masks stay exact). */
export function maskTail(words: Uint32Array, nbits: number): void {
  const rem = nbits & 31;
  if (rem !== 0) words[words.length - 1] &= (1 << rem) - 1 | 0;
  for (let w = wordsFor(nbits); w < words.length; w++) words[w] = 0;
}

/** Packs 0/1 bits into bytes, most significant bit first. The last byte is zero-padded. */
export function packBitsMsb(bits: Uint8Array, count = bits.length): Uint8Array {
  const out = new Uint8Array((count + 7) >>> 3);
  for (let i = 0; i < count; i++) if (bits[i]) out[i >>> 3] |= 0x80 >>> (i & 7);
  return out;
}

/** Inverse of packBitsMsb. */
export function unpackBitsMsb(bytes: Uint8Array, count: number): Uint8Array {
  if (count > bytes.length * 8) throw new RangeError(`cannot unpack ${count} bits from ${bytes.length} bytes`);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >>> 3] >>> (7 - (i & 7))) & 1;
  return out;
}

/** Packs 0/1 bits into 32-bit words, bit i at word i>>>5, position i&31. */
export function packWords(bits: Uint8Array, count = bits.length): Uint32Array {
  const out = new Uint32Array(wordsFor(count));
  for (let i = 0; i < count; i++) if (bits[i]) out[i >>> 5] |= 1 << (i & 31);
  return out;
}

/** Growable 0/1 byte array (the sifted key buffers). */
export class BitBuffer {
  private data: Uint8Array;
  private len = 0;

  constructor(initial = 1 << 16) {
    this.data = new Uint8Array(initial);
  }

  get length(): number {
    return this.len;
  }

  push(bit: number): void {
    if (this.len === this.data.length) this.grow(this.len + 1);
    this.data[this.len++] = bit;
  }

  private grow(min: number): void {
    let size = this.data.length * 2;
    while (size < min) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.data.subarray(0, this.len));
    this.data = next;
  }

  /** Copies out the first `n` bits and removes them from the buffer. */
  shift(n: number): Uint8Array {
    if (n > this.len) throw new RangeError(`shift ${n} > length ${this.len}`);
    const out = this.data.slice(0, n);
    this.data.copyWithin(0, n, this.len);
    this.len -= n;
    return out;
  }

  clear(): void {
    this.len = 0;
  }
}
