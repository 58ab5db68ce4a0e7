// What travels on the quantum channel: one qubit state per pulse, bit-packed. A single-photon source is
// modelled, so a pulse carries one BB84 state |value⟩ in basis Z (0) or X (1), or nothing once it is lost.
import { wordsFor } from './bits.js';

export interface PhotonBatch {
  readonly count: number;
  /** Preparation basis of the state in each pulse (0 = Z, 1 = X). */
  readonly basis: Uint32Array;
  /** Bit value of the state in that basis. */
  readonly value: Uint32Array;
  /** Pulses still carrying a photon (all ones at the source; thinned by loss). */
  readonly present: Uint32Array;
}

export function emptyBatch(count: number): PhotonBatch {
  const w = wordsFor(count);
  return { count, basis: new Uint32Array(w), value: new Uint32Array(w), present: new Uint32Array(w) };
}
