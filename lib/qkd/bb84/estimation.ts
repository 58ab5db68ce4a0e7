// Parameter estimation: a random sample of the sifted block is disclosed and compared, then discarded.
// The decision compares the sample QBER with the threshold where r(Q, f) = 1 − h(Q) − f·h(Q) reaches zero,
// f being the reconciliation efficiency the link is actually achieving.
import { qberThreshold } from './entropy.js';
import type { BasisTally } from './messages.js';
import type { RandomSource } from './prng.js';

/** `s` distinct positions of [0, n), ascending (Floyd's algorithm, uniform over all s-subsets). */
export function choosePositions(rng: RandomSource, n: number, s: number): Uint32Array {
  if (s > n) throw new RangeError(`sample ${s} > block ${n}`);
  const chosen = new Uint8Array(n);
  for (let j = n - s; j < n; j++) {
    const t = rng.nextInt(j + 1);
    if (chosen[t]) chosen[j] = 1;
    else chosen[t] = 1;
  }
  const out = new Uint32Array(s);
  for (let i = 0, k = 0; i < n; i++) if (chosen[i]) out[k++] = i;
  return out;
}

/** Errors and bit counts per basis (bases: 0 = Z, 1 = X) at the given positions. */
export function tallyErrors(mine: Uint8Array, theirs: Uint8Array, bases: Uint8Array, positions?: Uint32Array): BasisTally {
  const t: BasisTally = [0, 0, 0, 0];
  const n = positions ? positions.length : mine.length;
  for (let k = 0; k < n; k++) {
    const i = positions ? positions[k] : k;
    const e = mine[i] ^ theirs[k];
    if (bases[i]) {
      t[2] += e;
      t[3]++;
    } else {
      t[0] += e;
      t[1]++;
    }
  }
  return t;
}

/** Removes the sampled positions from a block. */
export function withoutPositions(bits: Uint8Array, positions: Uint32Array): Uint8Array {
  const out = new Uint8Array(bits.length - positions.length);
  let k = 0;
  let o = 0;
  for (let i = 0; i < bits.length; i++) {
    if (k < positions.length && positions[k] === i) {
      k++;
      continue;
    }
    out[o++] = bits[i];
  }
  return out;
}

export function pick(bits: Uint8Array, positions: Uint32Array): Uint8Array {
  const out = new Uint8Array(positions.length);
  for (let k = 0; k < positions.length; k++) out[k] = bits[positions[k]];
  return out;
}

export interface SampleDecision {
  qber: number;
  threshold: number;
  efficiency: number;
  abort: boolean;
  /** QBER handed to Cascade for its block sizes (floored at half an error in the sample). */
  qForCascade: number;
}

export function decide(t: BasisTally, efficiency: number): SampleDecision {
  const s = t[1] + t[3];
  const qber = s > 0 ? (t[0] + t[2]) / s : 0.5;
  const threshold = qberThreshold(efficiency);
  return { qber, threshold, efficiency, abort: !(qber < threshold), qForCascade: Math.max(qber, 0.5 / Math.max(1, s)) };
}
