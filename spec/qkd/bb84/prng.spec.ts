import { expect } from 'chai';
import { bernoulliMask } from '../../../lib/qkd/bb84/bernoulli.js';
import { popcount32 } from '../../../lib/qkd/bb84/bits.js';
import { CryptoRandom, SeededRandom, randomStream } from '../../../lib/qkd/bb84/prng.js';

const count = (w: Uint32Array): number => w.reduce((s, x) => s + popcount32(x), 0);

describe('bb84 random sources', () => {
  it('xoshiro128** matches the reference output for state (1, 2, 3, 4)', () => {
    const r = SeededRandom.fromState(1, 2, 3, 4);
    const got = Array.from({ length: 6 }, () => r.nextU32());
    expect(got).to.deep.equal([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    const w = new Uint32Array(6);
    SeededRandom.fromState(1, 2, 3, 4).fillU32(w);
    expect([...w]).to.deep.equal(got);
  });

  it('is reproducible per (seed, stream) and independent across streams', () => {
    const a = new SeededRandom(42, 'alice').bytes(32);
    expect(new SeededRandom(42, 'alice').bytes(32)).to.deep.equal(a);
    expect(new SeededRandom(42, 'bob').bytes(32)).to.not.deep.equal(a);
    expect(new SeededRandom(43, 'alice').bytes(32)).to.not.deep.equal(a);
  });

  it('unseeded streams come from the OS CSPRNG and are flagged as not seeded', () => {
    const r = randomStream(undefined, 'alice');
    expect(r).to.be.instanceOf(CryptoRandom);
    expect(r.seeded).to.equal(false);
    expect(randomStream(1, 'alice').seeded).to.equal(true);
    expect(r.bytes(32)).to.not.deep.equal(r.bytes(32));
  });

  it('nextInt and nextFloat stay in range and are roughly uniform', () => {
    const r = new SeededRandom(7);
    const hist = new Array(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r.nextInt(10);
      if (!(v >= 0 && v <= 9 && Number.isInteger(v))) outOfRange++;
      else hist[v]++;
      const f = r.nextFloat();
      if (!(f >= 0 && f < 1)) outOfRange++;
    }
    expect(outOfRange).to.equal(0);
    // each bin: mean 10^4, sd ≈ 95; 6 sd
    for (const h of hist) expect(Math.abs(h - 10_000)).to.be.below(600);
    expect(() => r.nextInt(0)).to.throw(RangeError);
  });

  for (const p of [1e-4, 0.01, 0.3, 0.5, 0.9, 0.999]) {
    it(`bernoulliMask(p = ${p}) has the binomial mean within 6 sd`, () => {
      const n = 1 << 20;
      const m = bernoulliMask(new SeededRandom(p), p, n);
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(count(m) - n * p)).to.be.below(6 * sd + 1);
    });
  }

  it('bernoulliMask(p = 0.01) placed by geometric skipping has binomial dispersion (i.i.d. positions)', () => {
    const n = 1 << 20;
    const m = bernoulliMask(new SeededRandom('disp'), 0.01, n);
    // 1024 windows of 1024 positions: counts ~ Binomial(1024, 0.01), variance 10.14
    const counts: number[] = [];
    for (let w = 0; w < 1024; w++) counts.push(count(m.subarray(w * 32, w * 32 + 32)));
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    const variance = counts.reduce((a, b) => a + (b - mean) ** 2, 0) / (counts.length - 1);
    // the sample variance of 1024 windows has relative sd ≈ sqrt(2/1023) ≈ 4.4%: allow ±20%
    expect(variance / (1024 * 0.01 * 0.99)).to.be.within(0.8, 1.2);
  });

  it('bernoulliMask never sets bits past n, and handles p = 0 and 1 exactly', () => {
    const m = bernoulliMask(new SeededRandom(1), 1, 70);
    expect(count(m)).to.equal(70);
    expect(count(bernoulliMask(new SeededRandom(1), 0, 70))).to.equal(0);
    expect(count(bernoulliMask(new SeededRandom(1), 0.999, 70))).to.be.at.most(70);
    expect(m[2] >>> 6).to.equal(0);
  });
});
