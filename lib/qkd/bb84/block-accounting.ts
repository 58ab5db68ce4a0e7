// What both sides compute, from public data only, once reconciliation of a block is over: which bits form
// the reconciled key, how much was leaked, the observed error rates, and the secret length.
import { CONFIRM_LEAK_BITS } from './confirm.js';
import { efficiencyOf } from './efficiency.js';
import { secretLength, type SecretLength } from './finite-size.js';
import type { FrameEntry } from './frames.js';
import type { BasisTally } from './messages.js';

export interface BlockAccounting {
  okFrames: FrameEntry[];
  keyBits: number;
  disclosedBits: number;
  tagBits: number;
  /** Errors corrected in confirmed frames, and the QBER over sample + confirmed key. */
  errors: number;
  qber: number;
  /** Reconciliation efficiency of this block's confirmed frames (Cascade parities only). */
  efficiency: number;
  secret: SecretLength;
}

export function accountBlock(frames: FrameEntry[], keyBases: Uint8Array, sample: BasisTally, epsilon: number): BlockAccounting {
  const okFrames = frames.filter((f) => f.status === 'ok');
  let keyZ = 0, keyX = 0, errZ = sample[0], errX = sample[2], disclosed = 0, tags = 0;
  for (const f of okFrames) {
    for (let i = f.start; i < f.start + f.length; i++) {
      if (keyBases[i]) keyX++;
      else keyZ++;
    }
    errZ += f.errorsZ;
    errX += f.errorsX;
    disclosed += f.disclosed;
    tags += f.confirmations * CONFIRM_LEAK_BITS;
  }
  const counts = { keyZ, keyX, observedZ: keyZ + sample[1], observedX: keyX + sample[3], errorsZ: errZ, errorsX: errX };
  const observed = counts.observedZ + counts.observedX;
  return {
    okFrames,
    keyBits: keyZ + keyX,
    disclosedBits: disclosed,
    tagBits: tags,
    errors: errZ + errX - sample[0] - sample[2],
    qber: observed > 0 ? (errZ + errX) / observed : 0,
    efficiency: efficiencyOf(okFrames.map((f) => ({ disclosed: f.disclosed, length: f.length, errors: f.errorsZ + f.errorsX }))),
    secret: secretLength(counts, disclosed + tags, epsilon),
  };
}

/** The reconciled key: the confirmed frames, concatenated. */
export function gatherKey(key: Uint8Array, okFrames: FrameEntry[]): Uint8Array {
  const out = new Uint8Array(okFrames.reduce((s, f) => s + f.length, 0));
  let o = 0;
  for (const f of okFrames) {
    out.set(key.subarray(f.start, f.start + f.length), o);
    o += f.length;
  }
  return out;
}
