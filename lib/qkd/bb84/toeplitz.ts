// Privacy amplification by Toeplitz hashing. The m×n Toeplitz matrix T[i][j] = s[i − j + n − 1] is given by
// an (n + m − 1)-bit public seed s chosen at random for every block; the final key is y = T·x over GF(2).
// Two implementations: word-level (64 key bits per popcount-free XOR pass is not available in JS, so 32-bit
// words: y_i = parity(window_i(s) AND reverse(x)), O(m·n/32)) for small blocks and tests, and an FFT
// convolution (O((n+m) log(n+m))) for large blocks; `toeplitzHash` picks one.
import { packWords, wordsFor } from './bits.js';
import { convolveReal } from './fft.js';

function seedBit(seed: Uint8Array, i: number): number {
  return (seed[i >>> 3] >>> (i & 7)) & 1;
}

function checkSizes(seed: Uint8Array, n: number, m: number): void {
  if (m < 0 || m > n) throw new RangeError(`output length ${m} outside 0..${n}`);
  if (seed.length * 8 < n + m - 1) throw new RangeError(`Toeplitz seed of ${seed.length * 8} bits < n + m − 1 = ${n + m - 1}`);
}

/** y = T·x with 32-bit word operations. `x` is 0/1 per element; returns 0/1 per element. */
export function toeplitzDirect(seed: Uint8Array, x: Uint8Array, m: number): Uint8Array {
  const n = x.length;
  checkSizes(seed, n, m);
  const out = new Uint8Array(m);
  if (m === 0) return out;
  // reverse(x) packed: xr_t = x_{n−1−t}
  const rev = new Uint8Array(n);
  for (let t = 0; t < n; t++) rev[t] = x[n - 1 - t];
  const xr = packWords(rev);
  const L = n + m - 1;
  const s = new Uint32Array(wordsFor(L) + 1);
  for (let i = 0; i < L; i++) if (seedBit(seed, i)) s[i >>> 5] |= 1 << (i & 31);
  const nw = xr.length;
  for (let i = 0; i < m; i++) {
    const w0 = i >>> 5;
    const sh = i & 31;
    let acc = 0;
    if (sh === 0) {
      for (let w = 0; w < nw; w++) acc ^= s[w0 + w] & xr[w];
    } else {
      const inv = 32 - sh;
      for (let w = 0; w < nw; w++) acc ^= ((s[w0 + w] >>> sh) | (s[w0 + w + 1] << inv)) & xr[w];
    }
    // parity of acc (xr is zero beyond n, so bits past the window never count)
    acc ^= acc >>> 16;
    acc ^= acc >>> 8;
    acc ^= acc >>> 4;
    acc ^= acc >>> 2;
    acc ^= acc >>> 1;
    out[i] = acc & 1;
  }
  return out;
}

/** y = T·x by FFT convolution: y_i = (Σ_j s[i + n − 1 − j]·x_j) mod 2. */
export function toeplitzFft(seed: Uint8Array, x: Uint8Array, m: number): Uint8Array {
  const n = x.length;
  checkSizes(seed, n, m);
  const out = new Uint8Array(m);
  if (m === 0) return out;
  const L = n + m - 1;
  const s = new Uint8Array(L);
  for (let i = 0; i < L; i++) s[i] = seedBit(seed, i);
  let size = 2;
  while (size < L) size <<= 1;
  const c = convolveReal(s, x, size);
  for (let i = 0; i < m; i++) out[i] = c[i + n - 1] & 1;
  return out;
}

/** Picks the word-level product for small blocks and the FFT for large ones. */
export function toeplitzHash(seed: Uint8Array, x: Uint8Array, m: number): Uint8Array {
  return (x.length / 32) * m <= 4_000_000 ? toeplitzDirect(seed, x, m) : toeplitzFft(seed, x, m);
}
