import { expect } from 'chai';
import { binaryEntropy, keyFraction, qberThreshold } from '../../../lib/qkd/bb84/entropy.js';
import { gamma, secretLength } from '../../../lib/qkd/bb84/finite-size.js';

describe('bb84 entropy, thresholds and finite-size secret length', () => {
  it('binary entropy: h(0) = 0, h(1/2) = 1, h(0.11) ≈ 0.4999, symmetric', () => {
    expect(binaryEntropy(0)).to.equal(0);
    expect(binaryEntropy(0.5)).to.be.closeTo(1, 1e-12);
    expect(binaryEntropy(0.11)).to.be.closeTo(0.49992, 1e-4);
    expect(binaryEntropy(0.02)).to.be.closeTo(binaryEntropy(0.98), 1e-12);
  });

  it('abort thresholds follow r(Q, f) = 0: 11.00% at f = 1, 10.23% at 1.10, 9.81% at 1.16, 9.55% at 1.20', () => {
    expect(qberThreshold(1)).to.be.closeTo(0.1100, 5e-5);
    expect(qberThreshold(1.1)).to.be.closeTo(0.1023, 5e-5);
    expect(qberThreshold(1.16)).to.be.closeTo(0.0981, 5e-5);
    expect(qberThreshold(1.2)).to.be.closeTo(0.0955, 5e-5);
    for (const f of [1, 1.1, 1.2]) expect(keyFraction(qberThreshold(f), f)).to.be.closeTo(0, 1e-9);
    expect(() => qberThreshold(0.9)).to.throw(RangeError);
  });

  it('γ (Lim et al. 2014) shrinks like 1/sqrt(n) and grows with log(1/ε)', () => {
    const g1 = gamma(1e-10, 0.02, 5e4, 5e4);
    const g2 = gamma(1e-10, 0.02, 5e6, 5e6);
    expect(g1).to.be.within(0.006, 0.012);
    expect(g1 / g2).to.be.within(8, 12); // ≈ sqrt(100), log term moves it a little
    expect(gamma(1e-20, 0.02, 5e4, 5e4)).to.be.greaterThan(g1);
    expect(gamma(1e-10, 0.02, 0, 5e4)).to.equal(0.5);
  });

  it('secret length = n − n_Z·h(φ_Z) − n_X·h(φ_X) − leak − 2·log2(1/ε), with the finite-size cost shown', () => {
    const c = { keyZ: 100_000, keyX: 100_000, observedZ: 101_000, observedX: 101_000, errorsZ: 2020, errorsX: 2020 };
    const s = secretLength(c, 30_000, 1e-10);
    const expected = 200_000 - 100_000 * binaryEntropy(s.phaseZ) - 100_000 * binaryEntropy(s.phaseX) - 30_000 - 2 * Math.log2(1e10);
    expect(s.length).to.equal(Math.floor(expected));
    expect(s.phaseZ).to.be.closeTo(0.02 + s.gammaZ, 1e-12);
    expect(s.gammaZ).to.be.greaterThan(0);
    expect(s.finiteSizeBits).to.be.closeTo(200_000 * (binaryEntropy(s.phaseZ) - binaryEntropy(0.02)), 1e-6);
    expect(s.marginBits).to.be.closeTo(66.44, 0.01);
    // more leakage than entropy left: zero, never negative
    expect(secretLength(c, 10_000_000, 1e-10).length).to.equal(0);
  });
});
