import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runBb84Command } from '../../../lib/cli/bb84-command.js';

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  columns = 80;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[], tty = false) {
  const stdout = new Capture();
  const stderr = new Capture();
  if (tty) stderr.isTTY = true;
  const code = await runBb84Command(args, { stdout, stderr });
  return { code, out: stdout.text, err: stderr.text };
}

const lossless = ['--distance', '0', '--efficiency', '1', '--seed', '1'];

describe('bb84 CLI module (qtls bb84)', function () {
  this.timeout(60_000);

  it('--json prints one object with the pipeline figures', async () => {
    const { code, out, err } = await run([...lossless, '--pulses', '300000', '--json']);
    expect(code).to.equal(0);
    expect(err).to.equal('');
    const j = JSON.parse(out);
    expect(j.pulses).to.equal(300_000);
    expect(j.detected).to.be.at.most(j.pulses);
    expect(j.sifted).to.be.within(140_000, 160_000);
    expect(Math.abs(j.qber - 0.02)).to.be.below(0.005);
    expect(j.aborted).to.equal(false);
    expect(j.abortReason).to.equal(null);
    expect(j.cascade).to.include({ variant: 'yanetal' });
    expect(j.cascade.efficiency).to.be.within(1, 1.2);
    expect(j.cascade.frameErrorRate).to.be.within(0, 0.05);
    expect(j.cascade.messages).to.be.greaterThan(10);
    expect(j.finalBits).to.be.greaterThan(0);
    expect(j.keyFraction).to.be.closeTo(j.finalBits / j.sifted, 1e-9);
    expect(j.theoryKeyFraction).to.be.greaterThan(j.keyFraction);
    expect(j.finiteSize.secretLength).to.equal(j.finalBits);
    expect(j.pulsesPerSecond).to.be.greaterThan(0);
    expect(j.seeded).to.equal(true);
  });

  it('prints the pipeline pulses → detected → sifted → QBER → corrected → final, and says a seeded run is not for real keys', async () => {
    const { code, out } = await run([...lossless, '--pulses', '200000', '--cascade', 'original']);
    expect(code).to.equal(0);
    const order = ['pulses', 'detected', 'sifted', 'sample QBER', 'estimated QBER', 'corrected', 'final'].map((w) => out.indexOf(`\n${w} `));
    expect(order.every((i) => i > 0)).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
    expect(out).to.match(/never use seeded keys/);
    expect(out).to.match(/Cascade original: f = 1\.\d{3}/);
    expect(out).to.match(/finite-size γ/);
  });

  it('reports an abort under full intercept-resend: exit 3, no key, QBER ≈ 25%', async () => {
    const { code, out } = await run([...lossless, '--pulses', '300000', '--eve', '1', '--qber-intrinsic', '0', '--json']);
    expect(code).to.equal(3);
    const j = JSON.parse(out);
    expect(j.aborted).to.equal(true);
    expect(j.abortReason).to.match(/exceeds the .* threshold/);
    expect(j.finalBits).to.equal(0);
    expect(Math.abs(j.qber - 0.25)).to.be.below(0.01);
    expect(j.theoryKeyFraction).to.be.below(0);
  });

  const bad: [string[], RegExp][] = [
    [['--loss', '-0.2'], /fibre loss must be >= 0/],
    [['--qber-intrinsic', '0.6'], /--qber-intrinsic must be a fraction in \[0, 0.5\]/],
    [['--qber-intrinsic', '2'], /give 2% as 0.02/],
    [['--cascade', 'turbo'], /unknown Cascade variant 'turbo'/],
    [['--pulses', '1000'], /n too small to estimate/],
    [['--pulses', 'lots'], /--pulses expects a number/],
    [['--pulses', '1.5'], /--pulses expects an integer/],
    [['--distance', '300', '--pulses', '1000000'], /n too small to estimate/],
    [['--eve', '1.5'], /eavesdropper fraction/],
    [['--plot', 'out.png'], /ending in .svg/],
    [['--plot', '/nonexistent-dir/x.svg'], /does not exist/],
    [['--frobnicate'], /Unknown option/],
  ];
  for (const [args, msg] of bad) {
    it(`rejects ${args.join(' ')} with exit 2 before any work`, async () => {
      const t0 = performance.now();
      const { code, out, err } = await run(args);
      expect(code).to.equal(2);
      expect(out).to.equal('');
      expect(err).to.match(msg);
      expect(err).to.match(/usage: qtls bb84/);
      expect(performance.now() - t0).to.be.below(500); // no simulation ran
    });
  }

  it('--help prints the usage', async () => {
    const { code, out } = await run(['--help']);
    expect(code).to.equal(0);
    expect(out).to.match(/--qber-intrinsic P/);
  });

  it('draws a progress bar on a terminal only, and clears it', async () => {
    const args = ['--pulses', '10000000', '--seed', '2', '--json'];
    const tty = await run(args, true);
    expect(tty.err).to.match(/\[#+-*\]\s+\d+%/);
    expect(tty.err.endsWith('\r\x1b[2K')).to.equal(true);
    const pipe = await run(args, false);
    expect(pipe.err).to.equal('');
    expect(JSON.parse(pipe.out).finalBits).to.equal(JSON.parse(tty.out).finalBits); // same seed, same run
  });

  it('--plot writes FILE.svg (key fraction vs QBER) and FILE-distance.svg (key rate vs distance)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb84-plot-'));
    try {
      const file = join(dir, 'rate.svg');
      const { code, out } = await run([...lossless, '--pulses', '200000', '--plot', file, '--json']);
      expect(code).to.equal(0);
      const j = JSON.parse(out);
      expect(j.plot).to.deep.equal({ keyFractionVsQber: file, keyRateVsDistance: join(dir, 'rate-distance.svg') });
      for (const f of [file, join(dir, 'rate-distance.svg')]) {
        expect(existsSync(f)).to.equal(true);
        const svg = readFileSync(f, 'utf8');
        expect(svg.startsWith('<svg')).to.equal(true);
        expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
        expect((svg.match(/<circle /g) ?? []).length).to.be.at.least(3); // simulated points (and legend)
        expect(svg).to.match(/<path d="M/); // the theoretical curve
      }
      expect(readFileSync(file, 'utf8')).to.match(/QBER/);
      expect(readFileSync(join(dir, 'rate-distance.svg'), 'utf8')).to.match(/distance \(km\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
