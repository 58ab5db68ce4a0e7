// Cascade schedules: block size per pass as a function of the estimated QBER Q and the frame length n.
// Sources: Brassard & Salvail 1993 (original); Yan et al. 2008; Martinez-Mateo, Pacher, Peev, Ciurana,
// Martin, "Demystifying the Information Reconciliation Protocol Cascade", arXiv:1407.3257 (options 7, 8),
// parameters as in the public reference implementation of that study (cascade-python).

export type CascadeVariantName = 'original' | 'yanetal' | 'option7' | 'option8';

export interface CascadeVariant {
  readonly name: CascadeVariantName;
  readonly passes: number;
  /** Search odd sub-blocks (not just top-level blocks) when cascading a correction back. */
  readonly subBlockReuse: boolean;
  /** Typical f at n = 10^4 (used as the starting point of the running efficiency for the abort threshold). */
  readonly nominalEfficiency: number;
  /** Top-level block size of pass `pass` (0-based) for estimated QBER `q` and frame length `n` (1..n). */
  blockSize(pass: number, q: number, n: number): number;
}

const MIN_Q = 1e-5;
const clampQ = (q: number): number => Math.max(q, MIN_Q);
const fit = (k: number, n: number): number => Math.max(1, Math.min(n, Math.round(k)));
const half = (n: number): number => Math.ceil(n / 2);

export const CASCADE_VARIANTS: Readonly<Record<CascadeVariantName, CascadeVariant>> = {
  original: {
    name: 'original',
    passes: 4,
    subBlockReuse: false,
    nominalEfficiency: 1.2,
    blockSize: (pass, q, n) => fit(Math.ceil(0.73 / clampQ(q)) * 2 ** pass, n),
  },
  yanetal: {
    name: 'yanetal',
    passes: 10,
    subBlockReuse: false,
    nominalEfficiency: 1.1,
    blockSize: (pass, q, n) => {
      const k1 = Math.ceil(0.8 / clampQ(q));
      if (pass === 0) return fit(k1, n);
      if (pass === 1) return fit(5 * k1, n);
      return fit(half(n), n);
    },
  },
  option7: {
    name: 'option7',
    passes: 14,
    subBlockReuse: true,
    nominalEfficiency: 1.08,
    blockSize: (pass, q, n) => {
      const k1 = 2 ** Math.ceil(Math.log2(1 / clampQ(q)));
      if (pass === 0) return fit(k1, n);
      if (pass === 1) return fit(4 * k1, n);
      return fit(half(n), n);
    },
  },
  option8: {
    name: 'option8',
    passes: 14,
    subBlockReuse: true,
    nominalEfficiency: 1.06,
    blockSize: (pass, q, n) => {
      const alpha = Math.log2(1 / clampQ(q)) - 0.5;
      if (pass === 0) return fit(2 ** Math.ceil(alpha), n);
      if (pass === 1) return fit(2 ** Math.ceil((alpha + 12) / 2), n);
      if (pass === 2) return fit(4096, n);
      return fit(half(n), n);
    },
  },
};

export function cascadeVariant(name: string): CascadeVariant {
  const v = Object.hasOwn(CASCADE_VARIANTS, name) ? (CASCADE_VARIANTS as Record<string, CascadeVariant>)[name] : undefined;
  if (!v) throw new RangeError(`unknown Cascade variant '${name}' (expected one of ${Object.keys(CASCADE_VARIANTS).join(', ')})`);
  return v;
}

/** Extra passes run on a frame whose hash confirmation failed (random halves, like the late passes). */
export const RETRY_PASSES = 4;
export const retryBlockSize = (n: number): number => fit(half(n), n);
