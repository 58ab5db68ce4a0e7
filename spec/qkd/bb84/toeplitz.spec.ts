import { expect } from 'chai';
import { convolveReal } from '../../../lib/qkd/bb84/fft.js';
import { SeededRandom } from '../../../lib/qkd/bb84/prng.js';
import { toeplitzDirect, toeplitzFft, toeplitzHash } from '../../../lib/qkd/bb84/toeplitz.js';

function randomBits(rng: SeededRandom, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 1;
  return out;
}

/** The definition, one bit at a time: y_i = ⊕_j T[i][j]·x_j with T[i][j] = s[i − j + n − 1]. */
function naive(seed: Uint8Array, x: Uint8Array, m: number): Uint8Array {
  const n = x.length;
  const s = (i: number): number => (seed[i >>> 3] >>> (i & 7)) & 1;
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc ^= s(i - j + n - 1) & x[j];
    y[i] = acc;
  }
  return y;
}

describe('bb84 Toeplitz privacy amplification', () => {
  const rng = new SeededRandom('toeplitz');

  for (const [n, m] of [[1, 1], [31, 7], [32, 32], [33, 1], [100, 64], [257, 100], [1000, 333]] as const) {
    it(`word-level and FFT products equal the bit-by-bit definition (n = ${n}, m = ${m})`, () => {
      const x = randomBits(rng, n);
      const seed = rng.bytes(Math.ceil((n + m - 1) / 8));
      const ref = naive(seed, x, m);
      expect(toeplitzDirect(seed, x, m)).to.deep.equal(ref);
      expect(toeplitzFft(seed, x, m)).to.deep.equal(ref);
    });
  }

  it('the FFT product agrees with the word-level one on a 10^4 → 7000 block', () => {
    const x = randomBits(rng, 10_000);
    const seed = rng.bytes(Math.ceil(16_999 / 8));
    expect(toeplitzFft(seed, x, 7000)).to.deep.equal(toeplitzDirect(seed, x, 7000));
  });

  it('is linear over GF(2): T(x ⊕ x\') = Tx ⊕ Tx\' (and so different keys give unrelated outputs)', () => {
    const n = 5000, m = 3000;
    const seed = rng.bytes(Math.ceil((n + m - 1) / 8));
    const x1 = randomBits(rng, n), x2 = randomBits(rng, n);
    const x3 = x1.map((b, i) => b ^ x2[i]);
    const y1 = toeplitzHash(seed, x1, m), y2 = toeplitzHash(seed, x2, m), y3 = toeplitzHash(seed, x3, m);
    expect(y3).to.deep.equal(y1.map((b, i) => b ^ y2[i]));
    // a one-bit change of the input flips about half of the output
    const flipped = x1.slice();
    flipped[1234] ^= 1;
    const d = toeplitzHash(seed, flipped, m).reduce((s, b, i) => s + (b ^ y1[i]), 0);
    expect(d).to.be.within(1300, 1700);
  });

  it('rejects a seed shorter than n + m − 1 bits and m > n', () => {
    expect(() => toeplitzDirect(new Uint8Array(1), new Uint8Array(10), 5)).to.throw(RangeError);
    expect(() => toeplitzFft(new Uint8Array(10), new Uint8Array(10), 11)).to.throw(RangeError);
  });

  it('convolveReal is exact on integer sequences', () => {
    const c = convolveReal([1, 2, 3], [4, 5], 8);
    expect([...c.subarray(0, 5)]).to.deep.equal([4, 13, 22, 15, 0]);
    expect(() => convolveReal([1], [1], 6)).to.throw(RangeError);
  });
});
