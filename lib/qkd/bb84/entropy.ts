// Binary entropy and the one-way BB84 key fraction (Shor–Preskill with imperfect reconciliation).

/** h(p) = −p·log2 p − (1−p)·log2(1−p); h(0) = h(1) = 0. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
}

/** Asymptotic secret key fraction r(Q, f) = 1 − h(Q) − f·h(Q) (per sifted bit; may be negative). */
export function keyFraction(q: number, f: number): number {
  const h = binaryEntropy(Math.min(q, 0.5));
  return 1 - h - f * h;
}

/**
 * The QBER at which r(Q, f) = 0, i.e. h(Q) = 1/(1+f): 11.00% at f = 1, 10.23% at f = 1.10, 9.55% at f = 1.20.
 * Bisection on [0, 0.5] where r is decreasing.
 */
export function qberThreshold(f: number): number {
  if (!(f >= 1)) throw new RangeError(`reconciliation efficiency ${f} below the Shannon limit 1`);
  const target = 1 / (1 + f);
  let lo = 0;
  let hi = 0.5;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binaryEntropy(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
