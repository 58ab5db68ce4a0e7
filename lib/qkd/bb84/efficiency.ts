// The running reconciliation efficiency of a link: f = Σ disclosed / Σ n_i·h(e_i/n_i) over every confirmed
// frame so far, starting from the Cascade variant's nominal value. Both sides keep one and feed it the same
// public numbers, so their abort thresholds agree.
import { binaryEntropy } from './entropy.js';

export class EfficiencyTracker {
  private disclosed = 0;
  private ideal = 0;

  constructor(private readonly nominal: number) {}

  add(disclosedBits: number, frameBits: number, errors: number): void {
    const h = frameBits * binaryEntropy(errors / frameBits);
    if (h <= 0) return; // an error-free frame says nothing about efficiency
    this.disclosed += disclosedBits;
    this.ideal += h;
  }

  /** The running f (never below 1; the nominal value until enough data exist). */
  get value(): number {
    if (this.ideal < 1000) return this.nominal;
    return Math.max(1, this.disclosed / this.ideal);
  }
}

/** f of a set of frames: Σ disclosed / Σ n_i·h(e_i/n_i) (NaN when no frame had an error). */
export function efficiencyOf(frames: { disclosed: number; length: number; errors: number }[]): number {
  let d = 0;
  let h = 0;
  for (const f of frames) {
    const hf = f.length * binaryEntropy(f.errors / f.length);
    if (hf <= 0) continue;
    d += f.disclosed;
    h += hf;
  }
  return h > 0 ? d / h : NaN;
}
