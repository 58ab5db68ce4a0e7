// The fibre and Bob's optics: each photon survives with probability η = 10^(−αL/10)·η_det (detector
// efficiency folded in — an independent thinning, so exact), and an arriving state is flipped with the
// misalignment/depolarisation probability e_d.
import { bernoulliMask } from './bernoulli.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';

export function propagate(rng: RandomSource, eta: number, misalignment: number, photons: PhotonBatch): void {
  const n = photons.count;
  const survive = bernoulliMask(rng, eta, n);
  const flip = bernoulliMask(rng, misalignment, n);
  for (let i = 0; i < survive.length; i++) {
    const present = photons.present[i] & survive[i];
    photons.present[i] = present;
    photons.value[i] ^= flip[i] & present;
  }
}
