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

/**
 * Cyclic convolution c = a ⊛ b of two real sequences (zero-padded to the power of two `size`), returned as
 * rounded integers. Uses one complex FFT for both inputs (z = a + i·b) and one inverse FFT.
 */
export function convolveReal(a: ArrayLike<number>, b: ArrayLike<number>, size: number): Float64Array {
  if (size & (size - 1)) throw new RangeError(`FFT size ${size} is not a power of two`);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < a.length; i++) re[i] = a[i];
  for (let i = 0; i < b.length; i++) im[i] = b[i];
  fftInPlace(re, im, false);
  // A_k = (Z_k + conj Z_{-k}) / 2, B_k = (Z_k − conj Z_{-k}) / 2i, C_k = A_k·B_k.
  const cr = new Float64Array(size);
  const ci = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const m = (size - k) & (size - 1);
    const zr = re[k], zi = im[k], wr = re[m], wi = -im[m];
    const ar = (zr + wr) / 2, ai = (zi + wi) / 2;
    const br = (zi - wi) / 2, bi = -(zr - wr) / 2;
    cr[k] = ar * br - ai * bi;
    ci[k] = ar * bi + ai * br;
  }
  fftInPlace(cr, ci, true);
  for (let k = 0; k < size; k++) {
    const v = cr[k] / size;
    const r = Math.round(v);
    if (Math.abs(v - r) > 0.25) throw new Error(`FFT convolution lost precision at ${k} (${v})`);
    cr[k] = r;
  }
  return cr;
}
