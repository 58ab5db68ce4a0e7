// Iterative radix-2 complex FFT on split Float64Arrays, and an exact 0/1 convolution built on it. Products
// of 0/1 sequences of length ≤ 2^22 sum to integers < 2^22, far inside double precision; every output is
// checked to lie within 0.25 of an integer before it is rounded.

interface Twiddles {
  cos: Float64Array;
  sin: Float64Array;
}

let cached: { n: number; tw: Twiddles } | undefined;

/** Per-stage twiddles laid out contiguously: stage with half-length h uses entries [h − 1, 2h − 1). */
function twiddles(n: number): Twiddles {
  if (cached?.n === n) return cached.tw;
  const cos = new Float64Array(Math.max(1, n - 1));
  const sin = new Float64Array(Math.max(1, n - 1));
  for (let h = 1; h < n; h <<= 1) {
    for (let k = 0; k < h; k++) {
      const a = (Math.PI * k) / h;
      cos[h - 1 + k] = Math.cos(a);
      sin[h - 1 + k] = Math.sin(a);
    }
  }
  const tw = { cos, sin };
  cached = { n, tw };
  return tw;
}

function fftInPlace(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const { cos, sin } = twiddles(n);
  const sign = inverse ? 1 : -1;
  for (let h = 1; h < n; h <<= 1) {
    const off = h - 1;
    for (let i = 0; i < n; i += h << 1) {
      for (let k = 0; k < h; k++) {
        const a = i + k;
        const b = a + h;
        const wr = cos[off + k];
        const wi = sign * sin[off + k];
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

let cachedHalf: { n: number; cos: Float64Array; sin: Float64Array } | undefined;

/** e^{−2πik/N} for k < N/2 (the twiddles joining the two half-length transforms of a real sequence). */
function halfTwiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  if (cachedHalf?.n === n) return cachedHalf;
  const m = n >> 1;
  const cos = new Float64Array(m);
  const sin = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const a = (2 * Math.PI * k) / n;
    cos[k] = Math.cos(a);
    sin[k] = -Math.sin(a);
  }
  cachedHalf = { n, cos, sin };
  return cachedHalf;
}

/**
 * Spectrum X[0..N/2] of a real sequence x (zero-padded to N), from one complex FFT of length N/2 over
 * z[j] = x[2j] + i·x[2j+1]: with E, O the spectra of the even and odd samples,
 * E[k] = (Z[k] + conj Z[M−k])/2, O[k] = (Z[k] − conj Z[M−k])/2i, X[k] = E[k] + W^k·O[k], X[M] = E[0] − O[0].
 */
function realSpectrum(x: ArrayLike<number>, n: number): { re: Float64Array; im: Float64Array } {
  const m = n >> 1;
  const zr = new Float64Array(m);
  const zi = new Float64Array(m);
  const len = Math.min(x.length, n);
  for (let i = 0; i < len; i++) {
    if (i & 1) zi[i >> 1] = x[i];
    else zr[i >> 1] = x[i];
  }
  fftInPlace(zr, zi, false);
  const { cos, sin } = halfTwiddles(n);
  const re = new Float64Array(m + 1);
  const im = new Float64Array(m + 1);
  for (let k = 0; k < m; k++) {
    const j = (m - k) & (m - 1);
    const ar = zr[k], ai = zi[k], br = zr[j], bi = -zi[j]; // b = conj Z[M−k]
    const er = (ar + br) / 2, ei = (ai + bi) / 2;
    const or = (ai - bi) / 2, oi = -(ar - br) / 2; // (Z − conj Z')/(2i)
    const wr = cos[k], wi = sin[k];
    re[k] = er + (or * wr - oi * wi);
    im[k] = ei + (or * wi + oi * wr);
    if (k === 0) {
      re[m] = er - or;
      im[m] = ei - oi;
    }
  }
  return { re, im };
}

/**
 * Cyclic convolution c = a ⊛ b of two real sequences (zero-padded to the power of two `size`), returned as
 * rounded integers: two half-length FFTs for the spectra, their product, and one half-length inverse FFT.
 */
export function convolveReal(a: ArrayLike<number>, b: ArrayLike<number>, size: number): Float64Array {
  if (size < 2 || size & (size - 1)) throw new RangeError(`FFT size ${size} is not a power of two >= 2`);
  const m = size >> 1;
  const A = realSpectrum(a, size);
  const B = realSpectrum(b, size);
  const cr = new Float64Array(m + 1);
  const ci = new Float64Array(m + 1);
  for (let k = 0; k <= m; k++) {
    cr[k] = A.re[k] * B.re[k] - A.im[k] * B.im[k];
    ci[k] = A.re[k] * B.im[k] + A.im[k] * B.re[k];
  }
  // Back to z_c = c_even + i·c_odd: E = (C[k] + conj C[M−k])/2, O = (C[k] − conj C[M−k])·W^−k/2, Z = E + i·O.
  const { cos, sin } = halfTwiddles(size);
  const zr = new Float64Array(m);
  const zi = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const ar = cr[k], ai = ci[k], br = cr[m - k], bi = -ci[m - k];
    const er = (ar + br) / 2, ei = (ai + bi) / 2;
    const dr = (ar - br) / 2, di = (ai - bi) / 2;
    const wr = cos[k], wi = -sin[k]; // W^−k
    const or = dr * wr - di * wi, oi = dr * wi + di * wr;
    zr[k] = er - oi;
    zi[k] = ei + or;
  }
  fftInPlace(zr, zi, true);
  const out = new Float64Array(size);
  for (let k = 0; k < m; k++) {
    for (let h = 0; h < 2; h++) {
      const v = (h === 0 ? zr[k] : zi[k]) / m;
      const r = Math.round(v);
      if (Math.abs(v - r) > 0.25) throw new Error(`FFT convolution lost precision at ${2 * k + h} (${v})`);
      out[2 * k + h] = r + 0; // never −0
    }
  }
  return out;
}
