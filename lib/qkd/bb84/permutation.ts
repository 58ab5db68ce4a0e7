// Public pseudo-random permutations for the Cascade passes: Fisher–Yates driven by xoshiro128** seeded from
// the frame's public seed and the pass number, so both sides derive the same shuffle from one short message.
// (Shuffles are public and only spread errors; they carry no secrecy.)
import { SeededRandom } from './prng.js';

/**
 * perm[j] = index (in the frame) of the bit at position j of the shuffled order. The swap index is
 * ⌊u·(i+1)/2^32⌋ for a uniform 32-bit u (bias below (i+1)/2^32, immaterial for a public shuffle).
 */
export function passPermutation(seed: Uint8Array, pass: number, n: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rnd = new Uint32Array(n);
  SeededRandom.fromBytes(seed, `cascade-pass-${pass}`).fillU32(rnd);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd[i] * (i + 1) * 2.3283064365386963e-10);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

export function invert(perm: Uint32Array): Uint32Array {
  const inv = new Uint32Array(perm.length);
  for (let j = 0; j < perm.length; j++) inv[perm[j]] = j;
  return inv;
}
