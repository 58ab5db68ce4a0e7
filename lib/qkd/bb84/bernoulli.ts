// Exact Bernoulli(p) masks over n positions, as bit-packed words. Rare events (loss survivors at long
// distance, dark counts, a small intercepted fraction) are placed by geometric skipping: the gap to the next
// success of i.i.d. Bernoulli(p) trials is Geometric(p), sampled by inversion, so the mask has exactly the
// i.i.d. distribution while costing O(p·n) work. Frequent events use the complement; middling p compares one
// 32-bit uniform per position against p·2^32.
import type { RandomSource } from './prng.js';
import { maskTail, wordsFor } from './bits.js';

export function bernoulliMask(rng: RandomSource, p: number, n: number, out = new Uint32Array(wordsFor(n))): Uint32Array {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} outside [0, 1]`);
  out.fill(0);
  if (p === 0 || n === 0) return out;
  if (p === 1) {
    out.fill(0xffffffff);
    maskTail(out, n);
    return out;
  }
  if (p > 0.75) {
    sparse(rng, 1 - p, n, out);
    for (let w = 0; w < out.length; w++) out[w] = ~out[w];
    maskTail(out, n);
    return out;
  }
  if (p <= 0.25) {
    sparse(rng, p, n, out);
    return out;
  }
  const threshold = Math.round(p * 4294967296);
  for (let i = 0; i < n; i++) if (rng.nextU32() < threshold) out[i >>> 5] |= 1 << (i & 31);
  return out;
}

function sparse(rng: RandomSource, p: number, n: number, out: Uint32Array): void {
  const invLogQ = 1 / Math.log1p(-p);
  let i = -1;
  for (;;) {
    const u = 1 - rng.nextFloat(); // (0, 1]
    const gap = Math.floor(Math.log(u) * invLogQ);
    i += 1 + gap;
    if (i >= n || !Number.isFinite(i)) return;
    out[i >>> 5] |= 1 << (i & 31);
  }
}
