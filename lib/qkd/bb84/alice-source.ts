// Alice's transmitter: a random bit in a random basis per pulse. She keeps her record; what she emits is a
// copy (the physical states), so nothing downstream can reach into her memory.
import { maskTail, wordsFor } from './bits.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';

export interface AliceRecord {
  readonly count: number;
  readonly bits: Uint32Array;
  readonly bases: Uint32Array;
}

export function preparePulses(rng: RandomSource, count: number): { record: AliceRecord; photons: PhotonBatch } {
  const w = wordsFor(count);
  const bits = new Uint32Array(w);
  const bases = new Uint32Array(w);
  rng.fillU32(bits);
  rng.fillU32(bases);
  maskTail(bits, count);
  maskTail(bases, count);
  const present = new Uint32Array(w).fill(0xffffffff);
  maskTail(present, count);
  return {
    record: { count, bits, bases },
    photons: { count, basis: bases.slice(), value: bits.slice(), present },
  };
}
