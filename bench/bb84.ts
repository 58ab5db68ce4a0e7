// Benchmark and statistics of the simulated BB84 link:
//   node --import tsx bench/bb84.ts [--frames 1000] [--pulses 33554432] [--json]
// 1. quantum simulation speed (pulses/s), physics alone and with authenticated sifting;
// 2. Cascade over the authenticated wire with hash confirmation: f, frame error rates and corrected bits/s
//    per variant and QBER on 10^4-bit frames;
// 3. end-to-end blocks: key fraction against r(Q, f) with the finite-size terms, time per stage;
// 4. key fraction against block size (finite-size effects).
import { parseArgs } from 'node:util';
import { preparePulses } from '../lib/qkd/bb84/alice-source.js';
import { detect } from '../lib/qkd/bb84/bob-detector.js';
import { runCascadeTrial, type CascadeTrialResult } from '../lib/qkd/bb84/cascade-trial.js';
import type { CascadeVariantName } from '../lib/qkd/bb84/cascade-variants.js';
import { propagate } from '../lib/qkd/bb84/fibre.js';
import { Bb84Link } from '../lib/qkd/bb84/link.js';
import { resolveParams } from '../lib/qkd/bb84/params.js';
import { transmittance } from '../lib/qkd/bb84/physics.js';
import { SeededRandom } from '../lib/qkd/bb84/prng.js';
import { Bb84Protocol } from '../lib/qkd/bb84/protocol.js';

export interface Bb84BenchOptions {
  frames: number;
  pulses: number;
  log: (line: string) => void;
}

export async function runBb84Bench(o: Bb84BenchOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const log = o.log;

  // 1. Quantum simulation
  const p = resolveParams({});
  {
    const a = new SeededRandom(1, 'a'), b = new SeededRandom(1, 'b'), nat = new SeededRandom(1, 'n');
    const eta = transmittance(p);
    const chunk = 1 << 20;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let done = 0;
    while (done < o.pulses) {
      const { photons } = preparePulses(a, chunk);
      propagate(nat, eta, p.misalignment, photons);
      detect(b, nat, p.darkCountProb, photons);
      done += chunk;
    }
    const physics = done / ((performance.now() - t0) / 1000);
    const cpu0 = process.cpuUsage(c0);
    const physicsCpu = done / ((cpu0.user + cpu0.system) / 1e6);
    const proto = new Bb84Protocol(p, { seed: 2 });
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    proto.runPulses(o.pulses);
    const sifting = o.pulses / ((performance.now() - t1) / 1000);
    const cpu1 = process.cpuUsage(c1);
    const siftingCpu = o.pulses / ((cpu1.user + cpu1.system) / 1e6);
    out.simulation = { physicsPulsesPerSecond: physics, physicsPulsesPerCpuSecond: physicsCpu, withSiftingPulsesPerSecond: sifting, withSiftingPulsesPerCpuSecond: siftingCpu, ...proto.counters };
    log(`quantum simulation (25 km, 0.2 dB/km, η_det 0.2): physics only ${fmt(physics)} pulses/s (${fmt(physicsCpu)} per CPU s), ` +
      `with authenticated sifting ${fmt(sifting)} pulses/s (${fmt(siftingCpu)} per CPU s)`);
  }

  // 2. Cascade statistics
  const cascade: CascadeTrialResult[] = [];
  runCascadeTrial({ variant: 'yanetal', qber: 0.02, frames: 20, seed: 'warm-up' });
  log(`\nCascade on a BSC, 10^4-bit frames, authenticated messages, hash confirmation (retries: 4 more passes, ≤ 3 times)`);
  log(`variant   Q     frames   f       FER(first)  discarded  undetected  messages/frame  Mbit/s (wall)  Mbit/s (per CPU s)`);
  const points: [CascadeVariantName, number][] = [];
  for (const v of ['original', 'yanetal'] as const) for (const q of [0.01, 0.02, 0.05, 0.1]) points.push([v, q]);
  for (const v of ['option7', 'option8'] as const) for (const q of [0.02, 0.05]) points.push([v, q]);
  for (const [variant, qber] of points) {
    const frames = variant.startsWith('option') ? Math.max(50, Math.round(o.frames / 5)) : o.frames;
    const r = runCascadeTrial({ variant, qber, frames, seed: `bench-${variant}-${qber}` });
    cascade.push(r);
    log(`${variant.padEnd(9)} ${(qber * 100).toFixed(0).padStart(2)}%  ${String(frames).padStart(6)}   ${r.efficiency.toFixed(4)}  ` +
      `${(r.failedFirst / frames).toExponential(1).padStart(9)}   ${String(r.discarded).padStart(6)}     ${String(r.undetected).padStart(6)}     ` +
      `${(r.messages / frames).toFixed(1).padStart(10)}      ${(r.correctedBitsPerSecond / 1e6).toFixed(2).padStart(8)}      ${(r.correctedBitsPerCpuSecond / 1e6).toFixed(2).padStart(8)}`);
  }
  const totalFrames = cascade.reduce((s, r) => s + r.frames, 0);
  const discarded = cascade.reduce((s, r) => s + r.discarded, 0);
  log(`final frame error rate: ${discarded}/${totalFrames} discarded (95% upper bound ${(discarded === 0 ? 3 / totalFrames : NaN).toExponential(1)} when 0)`);
  out.cascade = cascade;

  // 3. End-to-end blocks
  log(`\nend-to-end blocks (default channel: 25 km, e_d 2%, yanetal, ε = 1e-10)`);
  const blocks: Record<string, unknown>[] = [];
  for (const blockSize of [1 << 18, 1 << 20]) {
    const link = new Bb84Link({ blockSize, seed: `e2e-${blockSize}` });
    const t0 = performance.now();
    const n = blockSize === 1 << 18 ? 3 : 1;
    for (let i = 0; i < n; i++) await link.nextBlock();
    const wall = (performance.now() - t0) / 1000;
    const r = link.lastReport!;
    const s = link.stats();
    const row = {
      blockSize, blocks: s.blocks, aborted: s.abortedBlocks, qber: r.qber, efficiency: r.efficiency,
      keyFraction: r.keyFraction, theoryKeyFraction: r.theoryKeyFraction, secret: r.secret,
      reconciliationBitsPerSecond: r.reconciledBits / r.seconds.reconciliation, seconds: r.seconds,
      wallSeconds: wall, deliveredBitsPerSecond: s.finalBits / wall, bitsPerPulse: s.secretKeyRateBitsPerPulse,
    };
    blocks.push(row);
    log(`block 2^${Math.log2(blockSize)}: Q ${(r.qber * 100).toFixed(2)}%, f ${r.efficiency.toFixed(3)}, key fraction ${r.keyFraction.toFixed(4)} ` +
      `vs r(Q,f) ${r.theoryKeyFraction.toFixed(4)} (${((1 - r.keyFraction / r.theoryKeyFraction) * 100).toFixed(1)}% below: sample ` +
      `${(r.sampleBits / r.siftedBits * 100).toFixed(1)}%, finite-size ${(r.secret!.finiteSizeBits / r.siftedBits * 100).toFixed(2)}%, tags ` +
      `${(r.tagBits / r.siftedBits * 100).toFixed(2)}%); Cascade ${fmt(row.reconciliationBitsPerSecond)} bit/s; ` +
      `estimation ${r.seconds.estimation.toFixed(3)} s, reconciliation ${r.seconds.reconciliation.toFixed(3)} s, PA ${r.seconds.amplification.toFixed(3)} s; ` +
      `${s.secretKeyRateBitsPerPulse.toExponential(3)} bit/pulse`);
  }
  out.blocks = blocks;

  // 4. Finite-size effects
  log(`\nkey fraction vs block size (lossless channel, e_d 2%, yanetal, ε = 1e-10)`);
  const sizes: Record<string, unknown>[] = [];
  for (const e of [15, 16, 17, 18, 19, 20, 21]) {
    const link = new Bb84Link({ distanceKm: 0, detectorEfficiency: 1, blockSize: 1 << e, seed: `fs-${e}` });
    await link.nextBlock();
    const r = link.lastReport!;
    sizes.push({ blockSize: 1 << e, keyFraction: r.keyFraction, theoryKeyFraction: r.theoryKeyFraction, gammaZ: r.secret?.gammaZ });
    log(`2^${e}: key fraction ${r.keyFraction.toFixed(4)}, r(Q,f) ${r.theoryKeyFraction.toFixed(4)}, ratio ${(r.keyFraction / r.theoryKeyFraction).toFixed(3)}, γ ${(r.secret!.gammaZ * 100).toFixed(2)} pp`);
  }
  out.finiteSize = sizes;
  return out;
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isMain) {
  const { values } = parseArgs({
    options: { frames: { type: 'string', default: '1000' }, pulses: { type: 'string', default: String(1 << 25) }, json: { type: 'boolean', default: false } },
  });
  const json = values.json === true;
  const result = await runBb84Bench({
    frames: Number(values.frames),
    pulses: Number(values.pulses),
    log: json ? () => undefined : (l) => console.log(l),
  });
  if (json) console.log(JSON.stringify(result, null, 2));
}
