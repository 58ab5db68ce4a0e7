// The quantum channel model on its own: statistics of simulated detections against closed-form physics.
// All runs are seeded; every bound is several standard deviations wide and stated.
import { expect } from 'chai';
import { preparePulses } from '../../../lib/qkd/bb84/alice-source.js';
import { getBit } from '../../../lib/qkd/bb84/bits.js';
import { detect } from '../../../lib/qkd/bb84/bob-detector.js';
import { interceptResend } from '../../../lib/qkd/bb84/eve.js';
import { propagate } from '../../../lib/qkd/bb84/fibre.js';
import { DEFAULT_CHANNEL, type ChannelParams } from '../../../lib/qkd/bb84/params.js';
import { clickProbability, expectedQber, transmittance } from '../../../lib/qkd/bb84/physics.js';
import { SeededRandom } from '../../../lib/qkd/bb84/prng.js';

function simulate(over: Partial<ChannelParams>, pulses: number, seed: string) {
  const p = { ...DEFAULT_CHANNEL, ...over };
  const alice = new SeededRandom(seed, 'alice');
  const bob = new SeededRandom(seed, 'bob');
  const nature = new SeededRandom(seed, 'nature');
  const eve = new SeededRandom(seed, 'eve');
  let detected = 0, sifted = 0, errors = 0, doubles = 0, intercepted = 0;
  for (let done = 0; done < pulses; done += 1 << 18) {
    const n = Math.min(1 << 18, pulses - done);
    const { record, photons } = preparePulses(alice, n);
    const st = { intercepted: 0 };
    interceptResend(eve, p.eveFraction, photons, st);
    propagate(nature, transmittance(p), p.misalignment, photons);
    const rec = detect(bob, nature, p.darkCountProb, photons);
    intercepted += st.intercepted;
    detected += rec.detected.length;
    doubles += rec.doubleClicks;
    for (let k = 0; k < rec.detected.length; k++) {
      const i = rec.detected[k];
      if (getBit(record.bases, i) !== rec.bases[k]) continue;
      sifted++;
      errors += getBit(record.bits, i) ^ rec.bits[k];
    }
  }
  return { p, detected, sifted, errors, qber: errors / sifted, doubles, intercepted };
}

const lossless = { distanceKm: 0, detectorEfficiency: 1, darkCountProb: 1e-6 };

describe('bb84 quantum channel simulation', () => {
  for (const ed of [0.01, 0.03, 0.05]) {
    it(`QBER from misalignment e_d = ${ed * 100}% is within ±0.5 pp over ≥ 10^5 sifted bits`, () => {
      const r = simulate({ ...lossless, misalignment: ed }, 400_000, `ed${ed}`);
      expect(r.sifted).to.be.greaterThan(100_000);
      // sd of the estimate: sqrt(0.05·0.95/2e5) ≈ 0.05 pp, so ±0.5 pp is ~10 sd
      expect(Math.abs(r.qber - ed)).to.be.below(0.005);
    });
  }

  it('full intercept-resend (eve = 1) gives QBER 25 ± 1% with no intrinsic error', () => {
    const r = simulate({ ...lossless, misalignment: 0, eveFraction: 1 }, 400_000, 'eve1');
    expect(r.intercepted).to.equal(400_000);
    expect(Math.abs(r.qber - 0.25)).to.be.below(0.01);
  });

  for (const frac of [0.2, 0.4]) {
    it(`intercepting a fraction ${frac} gives QBER ≈ ${frac}/4 (±0.5 pp)`, () => {
      const r = simulate({ ...lossless, misalignment: 0, eveFraction: frac }, 400_000, `eve${frac}`);
      expect(r.intercepted / 400_000).to.be.closeTo(frac, 0.01);
      expect(Math.abs(r.qber - frac / 4)).to.be.below(0.005);
    });
  }

  it('Eve and misalignment together match the closed form 0.25p + e_d(1 − p/2)', () => {
    const over = { ...lossless, misalignment: 0.03, eveFraction: 0.3 };
    const r = simulate(over, 400_000, 'mix');
    expect(Math.abs(r.qber - expectedQber(r.p))).to.be.below(0.005);
    expect(expectedQber(r.p)).to.be.closeTo(0.25 * 0.3 + 0.03 * (1 - 0.15), 1e-4);
  });

  it('fibre loss and detector efficiency thin the clicks to P(click) = 1 − (1 − η)(1 − d)²', () => {
    const over = { distanceKm: 50, lossDbPerKm: 0.2, detectorEfficiency: 0.2, darkCountProb: 1e-5 };
    const r = simulate(over, 2_000_000, 'loss');
    const p = clickProbability(r.p);
    const sd = Math.sqrt(2e6 * p * (1 - p));
    expect(transmittance(r.p)).to.be.closeTo(0.02, 1e-12);
    expect(Math.abs(r.detected - 2e6 * p)).to.be.below(5 * sd);
    // basis sifting keeps half the clicks: sd = sqrt(D/4)
    expect(Math.abs(r.sifted - r.detected / 2)).to.be.below(5 * Math.sqrt(r.detected / 4));
  });

  it('dark counts give random clicks: at 250 km the QBER is mostly dark-count noise, as predicted', () => {
    const over = { distanceKm: 250, lossDbPerKm: 0.2, detectorEfficiency: 0.2, darkCountProb: 1e-4, misalignment: 0.01 };
    const r = simulate(over, 4_000_000, 'dark');
    const q = expectedQber(r.p);
    expect(q).to.be.greaterThan(0.3); // the model says dark counts dominate here
    // ~400 sifted bits: sd ≈ sqrt(0.25/400) = 2.5 pp; allow 4 sd
    expect(r.sifted).to.be.greaterThan(300);
    expect(Math.abs(r.qber - q)).to.be.below(0.1);
  });

  it('double clicks are resolved by a fair coin (QBER 1/2 when only dark counts fire)', () => {
    // no photon ever arrives (η → 0); both detectors fire often, so many clicks are double
    const over = { distanceKm: 1000, lossDbPerKm: 1, detectorEfficiency: 1e-9, darkCountProb: 0.3, misalignment: 0 };
    const r = simulate(over, 400_000, 'double');
    expect(r.doubles / 400_000).to.be.closeTo(0.09, 0.005); // d² = 0.09
    expect(Math.abs(r.qber - 0.5)).to.be.below(0.01); // ~1e5 sifted: sd 0.16 pp
  });
});
