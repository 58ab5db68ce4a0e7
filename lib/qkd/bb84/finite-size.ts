// Secret key length of one block with finite-size statistics.
//
// The phase errors of the key bits measured in Z are bounded by the bit errors observed in X (and vice
// versa): the basis of each sifted bit is a uniformly random label, so the Z-key positions and the observed
// X positions are a random partition. With Lim, Curty, Walenta, Xu, Zbinden, "Concise security bounds for
// practical decoy-state QKD", PRA 89, 022307 (2014), eq. (2):
//   φ_Z ≤ e_X + γ(ε, e_X, n_Z, n_X),
//   γ(ε, b, c, d) = sqrt( (c+d)(1−b)b / (c·d·ln 2) · log2( (c+d) / (c·d·(1−b)·b·ε²) ) ).
// Observed errors come from the parameter-estimation sample and from reconciliation (the number of bits
// Cascade flipped in every confirmed frame is known exactly to both sides after the hash check).
// Final length (leftover hash lemma):
//   m = ⌊ n − n_Z·h(φ_Z) − n_X·h(φ_X) − leak_EC − 2·log2(1/ε) ⌋,
// where leak_EC counts every disclosed Cascade parity and every confirmation tag bit.
import { binaryEntropy } from './entropy.js';

export function gamma(eps: number, b: number, c: number, d: number): number {
  if (c <= 0 || d <= 0) return 0.5;
  const bb = Math.min(0.5, Math.max(b, 1 / d)); // floor the observed rate at one error
  const v = ((c + d) * (1 - bb) * bb) / (c * d * Math.LN2);
  const lg = Math.log2((c + d) / (c * d * (1 - bb) * bb * eps * eps));
  return Math.sqrt(Math.max(0, v * lg));
}

export interface BasisCounts {
  /** Key bits (after sampling and after discarded frames) per basis. */
  keyZ: number;
  keyX: number;
  /** Bits whose error status is known (sample + reconciled key) per basis, and their errors. */
  observedZ: number;
  observedX: number;
  errorsZ: number;
  errorsX: number;
}

export interface SecretLength {
  length: number;
  keyBits: number;
  /** Observed error rates per basis. */
  qberZ: number;
  qberX: number;
  /** Upper bounds on the phase-error rates of the Z-key and X-key bits. */
  phaseZ: number;
  phaseX: number;
  gammaZ: number;
  gammaX: number;
  /** n_Z·h(φ_Z) + n_X·h(φ_X). */
  privacyBits: number;
  /** What the finite-size correction costs: privacyBits − (n_Z·h(e_X) + n_X·h(e_Z)). */
  finiteSizeBits: number;
  leakBits: number;
  marginBits: number;
}

export function secretLength(c: BasisCounts, leakBits: number, epsilon: number): SecretLength {
  const qZ = c.observedZ > 0 ? c.errorsZ / c.observedZ : 0.5;
  const qX = c.observedX > 0 ? c.errorsX / c.observedX : 0.5;
  const gZ = gamma(epsilon, qX, c.keyZ, c.observedX);
  const gX = gamma(epsilon, qZ, c.keyX, c.observedZ);
  const phaseZ = Math.min(0.5, qX + gZ);
  const phaseX = Math.min(0.5, qZ + gX);
  const privacyBits = c.keyZ * binaryEntropy(phaseZ) + c.keyX * binaryEntropy(phaseX);
  const asymptotic = c.keyZ * binaryEntropy(qX) + c.keyX * binaryEntropy(qZ);
  const marginBits = 2 * Math.log2(1 / epsilon);
  const keyBits = c.keyZ + c.keyX;
  const length = Math.max(0, Math.floor(keyBits - privacyBits - leakBits - marginBits));
  return {
    length, keyBits, qberZ: qZ, qberX: qX, phaseZ, phaseX, gammaZ: gZ, gammaX: gX,
    privacyBits, finiteSizeBits: privacyBits - asymptotic, leakBits, marginBits,
  };
}
