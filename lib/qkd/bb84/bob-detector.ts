// Bob's receiver: a random basis per pulse, a passive measurement with two threshold detectors (one per
// outcome). An arriving photon measured in its own basis lights the detector of its value; in the other
// basis a fair coin decides. Each detector also fires on its own with the dark-count probability. A double
// click is resolved by a random bit (squashing), as the security proofs require. Bob's record holds only the
// pulses with at least one click.
import { bernoulliMask } from './bernoulli.js';
import { popcount32 as popcount, wordsFor } from './bits.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';

export interface BobRecord {
  readonly count: number;
  /** Pulse indices (within the batch) with a click, ascending. */
  readonly detected: Uint32Array;
  /** Bob's measurement basis and outcome for each detected pulse (one 0/1 per element). */
  readonly bases: Uint8Array;
  readonly bits: Uint8Array;
  readonly doubleClicks: number;
}

export function detect(rng: RandomSource, nature: RandomSource, darkCount: number, photons: PhotonBatch): BobRecord {
  const n = photons.count;
  const w = wordsFor(n);
  const bobBasis = new Uint32Array(w);
  const coin = new Uint32Array(w);
  const tie = new Uint32Array(w);
  rng.fillU32(bobBasis); // Bob's basis choice is his own randomness
  nature.fillU32(coin); // quantum measurement outcome in the conjugate basis
  nature.fillU32(tie); // double-click assignment
  const dark0 = bernoulliMask(nature, darkCount, n);
  const dark1 = bernoulliMask(nature, darkCount, n);

  const click0 = new Uint32Array(w);
  const click1 = new Uint32Array(w);
  let total = 0;
  for (let i = 0; i < w; i++) {
    const same = ~(bobBasis[i] ^ photons.basis[i]);
    const outcome = (photons.value[i] & same) | (coin[i] & ~same);
    const p = photons.present[i];
    const c0 = (p & ~outcome) | dark0[i];
    const c1 = (p & outcome) | dark1[i];
    click0[i] = c0;
    click1[i] = c1;
    total += popcount(c0 | c1);
  }
  const detected = new Uint32Array(total);
  const bases = new Uint8Array(total);
  const bits = new Uint8Array(total);
  let k = 0;
  let doubles = 0;
  for (let i = 0; i < w; i++) {
    let any = click0[i] | click1[i];
    if (any === 0) continue;
    const both = click0[i] & click1[i];
    const value = (click1[i] & ~both) | (tie[i] & both);
    if (both !== 0) doubles += popcount(both);
    while (any !== 0) {
      const low = any & -any;
      const b = 31 - Math.clz32(low);
      detected[k] = (i << 5) | b;
      bases[k] = (bobBasis[i] >>> b) & 1;
      bits[k] = (value >>> b) & 1;
      k++;
      any ^= low;
    }
  }
  return { count: n, detected, bases, bits, doubleClicks: doubles };
}

