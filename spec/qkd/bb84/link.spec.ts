// Bb84Link end to end (seeded): identical keys, the figures the issue asks for, and the fault paths.
import { expect } from 'chai';
import { Bb84Link, type Bb84LinkOptions } from '../../../lib/qkd/bb84/link.js';
import { Bb84ParamError } from '../../../lib/qkd/bb84/params.js';
import { expectedQber } from '../../../lib/qkd/bb84/physics.js';
import { DEFAULT_CHANNEL } from '../../../lib/qkd/bb84/params.js';
import { Msg } from '../../../lib/qkd/bb84/codec.js';
import type { LinkBlock } from '../../../lib/qkd/link.js';

// Lossless link: every pulse clicks, so 2^17 sifted bits take ~2.7·10^5 pulses.
const fast: Bb84LinkOptions = { distanceKm: 0, detectorEfficiency: 1, blockSize: 1 << 17 };

function okBlock(b: LinkBlock): { alice: Uint8Array; bob: Uint8Array } {
  if (!b.ok) throw new Error(`block aborted: ${b.reason}`);
  return b;
}

describe('bb84 Bb84Link', function () {
  this.timeout(60_000);

  it('delivers identical bytes at both sites, sized by the finite-size secret length', async () => {
    const link = new Bb84Link({ ...fast, seed: 1 });
    const b = okBlock(await link.nextBlock());
    expect(b.alice).to.deep.equal(b.bob);
    expect(b.alice).to.not.equal(b.bob); // two copies, not one shared buffer
    const r = link.lastReport!;
    expect(r.ok).to.equal(true);
    expect(r.finalBits).to.equal(r.secret!.length);
    expect(b.alice.length).to.equal((r.finalBits >>> 3) - 32); // 32 bytes refill the authentication pool
    expect(r.deliveredBits).to.equal(b.alice.length * 8);
    expect(r).to.not.have.property('alice');
    const s = link.stats();
    expect(s).to.include({ kind: 'bb84', simulated: true, model: 'bb84-simulated', seeded: true, blocks: 1, abortedBlocks: 0 });
    expect(s.finalBits).to.equal(r.deliveredBits);
    expect(s.secretKeyRateBitsPerPulse).to.be.closeTo(s.finalBits / s.pulses, 1e-12);
    expect(s.secretKeyRateBitsPerSecond).to.be.closeTo(s.secretKeyRateBitsPerPulse * 1e9, 1e-3);
    expect(s.sifted).to.be.at.least(1 << 17);
    expect(s.authPoolBytes).to.equal(4096 - 64 + 32); // two MAC keys used, one refill
  });

  for (const ed of [0.01, 0.03]) {
    it(`estimates the QBER within ±0.5 pp of the intrinsic ${ed * 100}% over 2^17 sifted bits`, async () => {
      const link = new Bb84Link({ ...fast, misalignment: ed, seed: `q${ed}` });
      okBlock(await link.nextBlock());
      const r = link.lastReport!;
      expect(r.siftedBits).to.be.at.least(100_000);
      expect(Math.abs(r.qber - ed)).to.be.below(0.005);
      expect(Math.abs(r.decision.qber - ed)).to.be.below(0.015); // the 2000-bit sample alone: sd ≈ 0.4 pp at 3%
    });
  }

  it('reaches a key fraction within 5% of r = 1 − h(Q) − f·h(Q) on a 2^20-bit block, the gap fully accounted', async () => {
    const link = new Bb84Link({ ...fast, blockSize: 1 << 20, seed: 'fraction' });
    okBlock(await link.nextBlock());
    const r = link.lastReport!;
    const s = r.secret!;
    expect(r.keyFraction).to.equal(r.finalBits / r.siftedBits);
    expect(r.keyFraction).to.be.below(r.theoryKeyFraction);
    expect((r.theoryKeyFraction - r.keyFraction) / r.theoryKeyFraction).to.be.below(0.05);
    // the whole gap is explained: sample + finite-size phase-error correction + confirmation tags + margin
    expect(s.length).to.equal(Math.floor(s.keyBits - s.privacyBits - s.leakBits - s.marginBits));
    expect(s.leakBits).to.equal(r.disclosedBits + r.tagBits);
    expect(s.finiteSizeBits).to.be.greaterThan(0);
    expect(s.phaseZ).to.be.greaterThan(s.qberX);
  });

  it('is reproducible with a seed and different without one', async () => {
    const a = okBlock(await new Bb84Link({ ...fast, seed: 9 }).nextBlock());
    const b = okBlock(await new Bb84Link({ ...fast, seed: 9 }).nextBlock());
    const c = okBlock(await new Bb84Link({ ...fast, seed: 10 }).nextBlock());
    expect(a.alice).to.deep.equal(b.alice);
    expect(a.alice).to.not.deep.equal(c.alice);
    const live = new Bb84Link(fast);
    const d = okBlock(await live.nextBlock());
    expect(d.alice).to.deep.equal(d.bob);
    expect(live.stats().seeded).to.equal(false);
  });

  it('aborts under full intercept-resend: QBER 25 ± 1%, no key material, counted as aborted', async () => {
    const link = new Bb84Link({ ...fast, misalignment: 0, eveFraction: 1, seed: 'eve' });
    const b = await link.nextBlock();
    expect(b.ok).to.equal(false);
    if (b.ok) return;
    expect(b.reason).to.match(/QBER .* exceeds the 10\.2\d% threshold/);
    expect(b).to.not.have.property('alice');
    const r = link.lastReport!;
    expect(Math.abs(r.qber - 0.25)).to.be.below(0.01);
    expect(r.finalBits).to.equal(0);
    const s = link.stats();
    expect(s).to.include({ blocks: 0, abortedBlocks: 1, finalBits: 0 });
    expect(s.lastAbortReason).to.equal(b.reason);
  });

  it('tolerates a partial eavesdropper below the threshold, whose QBER shows up as ≈ p/4 + e_d', async () => {
    const over = { ...fast, misalignment: 0.01, eveFraction: 0.2 };
    const link = new Bb84Link({ ...over, seed: 'eve-partial' });
    okBlock(await link.nextBlock());
    const q = expectedQber({ ...DEFAULT_CHANNEL, ...over });
    expect(q).to.be.closeTo(0.05 + 0.01 * 0.9, 1e-4);
    expect(Math.abs(link.lastReport!.qber - q)).to.be.below(0.005);
  });

  it('aborts on channel noise above the threshold', async () => {
    const link = new Bb84Link({ ...fast, misalignment: 0.12, seed: 'noise' });
    const b = await link.nextBlock();
    expect(b.ok).to.equal(false);
    expect(Math.abs(link.lastReport!.qber - 0.12)).to.be.below(0.005);
  });

  for (const [stage, type] of [['sifting', Msg.SiftMatch], ['Cascade', Msg.CascadeAnswer], ['privacy amplification', Msg.PrivacySeed]] as const) {
    it(`detects a tampered ${stage} message, aborts the block with no output, and recovers`, async () => {
      const link = new Bb84Link({ ...fast, seed: `tamper-${type}` });
      let hits = 0;
      link.classicalWire.interceptor = (frame) => {
        if (frame[4] === type && hits++ === 0) frame[frame.length - 20] ^= 0x40; // one payload bit
        return frame;
      };
      const b = await link.nextBlock();
      expect(hits).to.be.greaterThan(0);
      expect(b.ok).to.equal(false);
      if (!b.ok) expect(b.reason).to.match(/AuthenticationError: .*tampered/);
      expect(b).to.not.have.property('alice');
      link.classicalWire.interceptor = undefined;
      const again = okBlock(await link.nextBlock());
      expect(again.alice).to.deep.equal(again.bob);
      expect(link.stats()).to.include({ blocks: 1, abortedBlocks: 1 });
    });
  }

  it('stops for good when the authentication pool runs dry (aborted blocks refill nothing)', async () => {
    const link = new Bb84Link({ ...fast, eveFraction: 1, seed: 'dry', bootstrapKey: new Uint8Array(64).fill(1) });
    const first = await link.nextBlock(); // aborts; uses the second (last) MAC key for the next session
    expect(first.ok).to.equal(false);
    const second = await link.nextBlock(); // aborts; no key left to start another session
    expect(second.ok).to.equal(false);
    if (!second.ok) expect(second.reason).to.match(/exhausted/);
    const third = await link.nextBlock();
    expect(third.ok).to.equal(false);
    if (!third.ok) expect(third.reason).to.match(/exhausted/);
  });

  it('successful blocks keep a small pool alive by refilling it from their own key', async () => {
    const link = new Bb84Link({ ...fast, seed: 'refill', bootstrapKey: new Uint8Array(64).fill(2) });
    for (let i = 0; i < 3; i++) okBlock(await link.nextBlock());
    expect(link.stats().authPoolBytes).to.equal(32);
  });

  it('serialises concurrent nextBlock() calls', async () => {
    const link = new Bb84Link({ ...fast, seed: 'concurrent' });
    const [a, b] = await Promise.all([link.nextBlock(), link.nextBlock()]);
    const x = okBlock(a), y = okBlock(b);
    expect(x.alice).to.not.deep.equal(y.alice);
    expect(link.stats().blocks).to.equal(2);
  });

  it('rejects invalid parameters before doing any work', () => {
    const bad: [Bb84LinkOptions, RegExp][] = [
      [{ lossDbPerKm: -0.1 }, /fibre loss/],
      [{ misalignment: 0.6 }, /intrinsic QBER/],
      [{ eveFraction: 2 }, /eavesdropper/],
      [{ detectorEfficiency: 0 }, /detector efficiency/],
      [{ cascade: 'turbo' as never }, /unknown Cascade variant 'turbo'/],
      [{ cascade: 'constructor' as never }, /unknown Cascade variant 'constructor'/], // not Object.prototype's
      [{ blockSize: 1000 }, /block size/],
      [{ blockSize: 5000, minSample: 3000 }, /too small to estimate/],
      [{ epsilon: 0 }, /epsilon/],
      [{ distanceKm: 400 }, /too lossy/],
      [{ bootstrapKey: new Uint8Array(8) }, /bootstrap/],
    ];
    for (const [opts, msg] of bad) expect(() => new Bb84Link(opts), JSON.stringify(opts)).to.throw(msg);
    expect(() => new Bb84Link({ lossDbPerKm: -1 })).to.throw(Bb84ParamError);
  });
});
