// Intercept-resend eavesdropper at Alice's output: for each pulse she attacks (independently with
// probability `fraction`), she measures in a random basis — the correct value if her basis matches the
// state's, a fair coin otherwise — and resends a fresh photon prepared in her basis with her outcome.
import { bernoulliMask } from './bernoulli.js';
import { popcount32 as popcount, wordsFor } from './bits.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';

export interface EveStats {
  intercepted: number;
}

export function interceptResend(rng: RandomSource, fraction: number, photons: PhotonBatch, stats: EveStats): void {
  if (fraction <= 0) return;
  const n = photons.count;
  const w = wordsFor(n);
  const attack = bernoulliMask(rng, fraction, n);
  const eveBasis = new Uint32Array(w);
  const coin = new Uint32Array(w);
  rng.fillU32(eveBasis);
  rng.fillU32(coin);
  let count = 0;
  for (let i = 0; i < w; i++) {
    const a = attack[i] & photons.present[i];
    if (a === 0) continue;
    const same = ~(eveBasis[i] ^ photons.basis[i]);
    const outcome = (photons.value[i] & same) | (coin[i] & ~same);
    photons.basis[i] = (photons.basis[i] & ~a) | (eveBasis[i] & a);
    photons.value[i] = (photons.value[i] & ~a) | (outcome & a);
    count += popcount(a);
  }
  stats.intercepted += count;
}

