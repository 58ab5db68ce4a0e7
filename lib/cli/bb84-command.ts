// `qtls bb84`: run the simulated BB84 link for a number of pulses and show the pipeline
// pulses → detected → sifted → estimated QBER → corrected → final, as text or one JSON object, and
// optionally plot the key fraction against QBER (FILE.svg) and the key rate against distance
// (FILE-distance.svg). Exit codes: 0 key produced, 3 every block aborted (no key), 2 bad usage, 1 error.
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keyFraction } from '../qkd/bb84/entropy.js';
import { Bb84ParamError, MIN_BLOCK_BITS, resolveParams, sampleSize, type Bb84Params } from '../qkd/bb84/params.js';
import { clickProbability, siftedPerPulse, transmittance } from '../qkd/bb84/physics.js';
import { Bb84Protocol, type BlockReport } from '../qkd/bb84/protocol.js';
import { renderChart } from '../qkd/bb84/svg-plot.js';
import { cutoffDistance, distanceSweep, keyFractionSweep, theoryFractionCurve, theoryRateCurve } from '../qkd/bb84/sweeps.js';

export const BB84_USAGE = `usage: qtls bb84 [options]
  simulate a BB84 link (single-photon source, fibre, two threshold detectors) with Cascade and
  Toeplitz privacy amplification
  --pulses N            pulses to send (default 10000000)
  --distance KM         fibre length (default 25)
  --loss DB_PER_KM      fibre attenuation (default 0.2)
  --efficiency P        detector efficiency (default 0.2)
  --dark-count P        dark-count probability per detector per pulse (default 1e-6)
  --qber-intrinsic P    misalignment error probability, as a fraction (default 0.02)
  --eve FRACTION        fraction of pulses intercepted and resent (default 0)
  --cascade VARIANT     original | yanetal | option7 | option8 (default yanetal)
  --block-size N        sifted bits per privacy-amplification block (default: all, at most 2^20 each)
  --frame-size N        Cascade frame length (default 10000)
  --epsilon E           security parameter (default 1e-10)
  --seed N              reproducible run — for experiments only, never for real keys
  --json                print one JSON object instead of text
  --plot FILE.svg       also write key fraction vs QBER to FILE.svg and key rate vs distance to
                        FILE-distance.svg
`;

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

class Bb84UsageError extends Error {}

const MAX_PULSES = 1e10;
const DEFAULT_BLOCK = 1 << 20;

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new Bb84UsageError(`--${name} expects a number, got "${v}"`);
  return x;
}

function int(v: string | undefined, name: string): number | undefined {
  const x = num(v, name);
  if (x !== undefined && !Number.isInteger(x)) throw new Bb84UsageError(`--${name} expects an integer, got "${v}"`);
  return x;
}

interface Plan {
  params: Bb84Params;
  pulses: number;
  blockSize: number;
  seed: string | undefined;
  json: boolean;
  plot: string | undefined;
  expectedSifted: number;
}

/** `--loss -0.2` → `--loss=-0.2`, so that a negative number reaches validation instead of confusing parseArgs. */
function joinNegativeNumbers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

function plan(argv: string[]): Plan | 'help' {
  const { values } = parseArgs({
    args: joinNegativeNumbers(argv),
    strict: true,
    allowPositionals: false,
    options: {
      pulses: { type: 'string' }, distance: { type: 'string' }, loss: { type: 'string' }, efficiency: { type: 'string' },
      'dark-count': { type: 'string' }, 'qber-intrinsic': { type: 'string' }, eve: { type: 'string' },
      cascade: { type: 'string' }, 'block-size': { type: 'string' }, 'frame-size': { type: 'string' },
      epsilon: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, plot: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const pulses = int(values.pulses, 'pulses') ?? 10_000_000;
  if (pulses < 1 || pulses > MAX_PULSES) throw new Bb84UsageError(`--pulses must be in 1..${MAX_PULSES.toExponential(0)} (got ${pulses})`);
  const q = num(values['qber-intrinsic'], 'qber-intrinsic');
  if (q !== undefined && (q < 0 || q > 0.5)) {
    throw new Bb84UsageError(`--qber-intrinsic must be a fraction in [0, 0.5] (got ${q}${q > 0.5 && q <= 50 ? '; give 2% as 0.02' : ''})`);
  }
  const blockOpt = int(values['block-size'], 'block-size');
  const channel = {
    distanceKm: num(values.distance, 'distance'),
    lossDbPerKm: num(values.loss, 'loss'),
    detectorEfficiency: num(values.efficiency, 'efficiency'),
    darkCountProb: num(values['dark-count'], 'dark-count'),
    misalignment: q,
    eveFraction: num(values.eve, 'eve'),
    cascade: values.cascade as Bb84Params['cascade'] | undefined,
    frameSize: int(values['frame-size'], 'frame-size'),
    epsilon: num(values.epsilon, 'epsilon'),
  };
  // Validate everything but the block size first, then size the blocks from the expected sifted bits.
  const probe = resolveParams({ ...channel, blockSize: blockOpt ?? DEFAULT_BLOCK });
  const expectedSifted = pulses * siftedPerPulse(probe);
  const minimum = Math.max(MIN_BLOCK_BITS, 2 * sampleSize(MIN_BLOCK_BITS, probe));
  if (expectedSifted < minimum) {
    throw new Bb84UsageError(`n too small to estimate: ${pulses} pulses give ~${Math.floor(expectedSifted)} sifted bits at ` +
      `${probe.distanceKm} km (P(click) = ${clickProbability(probe).toExponential(2)}); at least ${minimum} are needed ` +
      `(a ${probe.minSample}-bit estimation sample plus a key to reconcile) — raise --pulses to ` +
      `${Math.ceil(minimum / siftedPerPulse(probe) * 1.1)} or more`);
  }
  const blockSize = blockOpt ?? Math.min(DEFAULT_BLOCK, Math.max(MIN_BLOCK_BITS, Math.floor(expectedSifted)));
  const params = resolveParams({ ...channel, blockSize });
  let plot = values.plot;
  if (plot !== undefined) {
    if (!/\.svg$/i.test(plot)) throw new Bb84UsageError(`--plot expects a file name ending in .svg (got "${plot}")`);
    plot = resolve(plot);
    const dir = dirname(plot);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Bb84UsageError(`--plot: directory ${dir} does not exist`);
  }
  return { params, pulses, blockSize, seed: values.seed, json: values.json === true, plot, expectedSifted };
}

export async function runBb84Command(argv: string[], io: Io): Promise<number> {
  let p: Plan | 'help';
  try {
    p = plan(argv);
  } catch (e) {
    if (e instanceof Bb84UsageError || e instanceof Bb84ParamError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`qtls bb84: ${(e as Error).message}\n\n${BB84_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (p === 'help') {
    io.stdout.write(BB84_USAGE);
    return 0;
  }
  try {
    return await run(p, io);
  } catch (e) {
    io.stderr.write(`qtls bb84: ${(e as Error).message}\n`);
    return 1;
  }
}

async function run(p: Plan, io: Io): Promise<number> {
  const proto = new Bb84Protocol(p.params, { seed: p.seed });
  const progress = progressBar(io.stderr, p.pulses);
  const reports: BlockReport[] = [];
  const t0 = performance.now();
  let simSeconds = 0;
  let done = 0;
  const chunk = 1 << 22;
  while (done < p.pulses) {
    const n = Math.min(chunk, p.pulses - done);
    const ts = performance.now();
    proto.runPulses(n);
    simSeconds += (performance.now() - ts) / 1000;
    done += n;
    progress(done);
    // keep at least one block in hand so that the remainder joins the last block instead of being wasted
    while (proto.siftedAvailable >= 2 * p.blockSize) reports.push(proto.distill(p.blockSize));
    await new Promise<void>((r) => setImmediate(r));
  }
  const rest = proto.siftedAvailable;
  let unused = rest;
  if (rest > 1.5 * p.blockSize) {
    reports.push(proto.distill(Math.floor(rest / 2)));
    reports.push(proto.distill(proto.siftedAvailable));
    unused = 0;
  } else if (rest >= MIN_BLOCK_BITS) {
    reports.push(proto.distill(rest));
    unused = 0;
  }
  progress(-1);
  const wall = (performance.now() - t0) / 1000;
  const summary = summarise(p, proto, reports, unused, simSeconds, wall);

  if (p.plot) {
    const files = writePlots(p, summary);
    summary.plot = files;
  }
  if (p.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else io.stdout.write(render(p, summary, reports));
  return summary.finalBits > 0 ? 0 : 3;
}

interface Summary {
  seeded: boolean;
  seed: string | null;
  parameters: Record<string, unknown>;
  pulses: number;
  detected: number;
  doubleClicks: number;
  sifted: number;
  unusedSiftedBits: number;
  blocks: number;
  abortedBlocks: number;
  qber: number;
  qberSample: number;
  qberThreshold: number;
  aborted: boolean;
  abortReason: string | null;
  cascade: { variant: string; efficiency: number; frameErrorRate: number; framesDiscarded: number; frames: number; messages: number; bytes: number };
  reconciledBits: number;
  errorsCorrected: number;
  finalBits: number;
  deliveredBits: number;
  keyFraction: number;
  theoryKeyFraction: number;
  finiteSize: Record<string, number> | null;
  pulsesPerSecond: number;
  correctedBitsPerSecond: number;
  secretBitsPerPulse: number;
  seconds: number;
  plot?: { keyFractionVsQber: string; keyRateVsDistance: string };
}

function summarise(p: Plan, proto: Bb84Protocol, reports: BlockReport[], unused: number, simSeconds: number, wall: number): Summary {
  const c = proto.counters;
  const sum = (f: (r: BlockReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  const reconciled = reports.filter((r) => r.stage !== 'estimation');
  const observed = (r: BlockReport): number => (r.stage === 'estimation' ? r.siftedBits : r.sampleBits + r.reconciledBits);
  const qberBits = sum(observed);
  const qber = qberBits > 0 ? sum((r) => (Number.isFinite(r.qber) ? r.qber * observed(r) : 0)) / qberBits : NaN;
  const sampleBits = sum((r) => r.sampleBits);
  // f over all blocks: Σ disclosed / Σ (disclosed / f_block)
  const ideal = reconciled.reduce((s, r) => s + (Number.isFinite(r.efficiency) && r.efficiency > 0 ? r.disclosedBits / r.efficiency : 0), 0);
  const disclosed = reconciled.reduce((s, r) => s + (Number.isFinite(r.efficiency) ? r.disclosedBits : 0), 0);
  const f = ideal > 0 ? disclosed / ideal : NaN;
  const frames = sum((r) => r.frames);
  const finalBits = sum((r) => r.finalBits);
  const processed = sum((r) => r.siftedBits);
  const aborted = reports.filter((r) => !r.ok);
  const first = reports.find((r) => r.secret) ?? reports[0];
  const s = first?.secret;
  const recSeconds = sum((r) => r.seconds.reconciliation);
  return {
    seeded: p.seed !== undefined,
    seed: p.seed ?? null,
    parameters: { ...p.params, blockSize: p.blockSize, transmittance: transmittance(p.params) },
    pulses: c.pulses,
    detected: c.detected,
    doubleClicks: c.doubleClicks,
    sifted: c.sifted,
    unusedSiftedBits: unused,
    blocks: reports.length,
    abortedBlocks: aborted.length,
    qber,
    qberSample: sampleBits > 0 ? sum((r) => r.sampleErrors) / sampleBits : NaN,
    qberThreshold: first?.decision.threshold ?? NaN,
    aborted: aborted.length > 0,
    abortReason: aborted.length > 0 ? aborted[aborted.length - 1].abortReason ?? 'aborted' : null,
    cascade: {
      variant: p.params.cascade,
      efficiency: f,
      frameErrorRate: frames > 0 ? sum((r) => r.framesFailedFirst) / frames : 0,
      framesDiscarded: sum((r) => r.framesDiscarded),
      frames,
      messages: sum((r) => r.cascadeMessages),
      bytes: sum((r) => r.cascadeBytes),
    },
    reconciledBits: sum((r) => r.reconciledBits),
    errorsCorrected: sum((r) => r.errorsCorrected),
    finalBits,
    deliveredBits: sum((r) => r.deliveredBits),
    keyFraction: processed > 0 ? finalBits / processed : 0,
    // at the achieved f, or (no frame reconciled) at the f the abort threshold used
    theoryKeyFraction: Number.isFinite(qber) ? keyFraction(qber, Number.isFinite(f) ? f : first?.decision.efficiency ?? NaN) : NaN,
    finiteSize: s
      ? {
          sampleBits: first!.sampleBits, phaseErrorZ: s.phaseZ, phaseErrorX: s.phaseX, gammaZ: s.gammaZ, gammaX: s.gammaX,
          finiteSizeBits: s.finiteSizeBits, privacyBits: s.privacyBits, leakBits: s.leakBits, tagBits: first!.tagBits,
          marginBits: s.marginBits, keyBits: s.keyBits, secretLength: s.length,
        }
      : null,
    pulsesPerSecond: simSeconds > 0 ? c.pulses / simSeconds : 0,
    correctedBitsPerSecond: recSeconds > 0 ? sum((r) => r.reconciledBits) / recSeconds : 0,
    secretBitsPerPulse: c.pulses > 0 ? finalBits / c.pulses : 0,
    seconds: wall,
  };
}

const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const pc = (x: number, d = 2): string => (Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : 'n/a');
const rate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);

function render(p: Plan, s: Summary, reports: BlockReport[]): string {
  const pr = p.params;
  const lines: string[] = [];
  lines.push(`qtls bb84 — simulated BB84 link${s.seeded ? ` (seed ${s.seed}: reproducible, for experiments only — never use seeded keys)` : ' (OS randomness)'}`);
  lines.push(`channel    ${pr.distanceKm} km × ${pr.lossDbPerKm} dB/km, detector efficiency ${pr.detectorEfficiency} → η = ${transmittance(pr).toExponential(3)}; ` +
    `dark counts ${pr.darkCountProb.toExponential(0)}; intrinsic error ${pc(pr.misalignment)}; Eve intercepts ${pc(pr.eveFraction, 0)}`);
  const w = 14;
  const row = (name: string, value: number | string, note: string): string =>
    `${name.padEnd(16)}${(typeof value === 'number' ? n0(value) : value).padStart(w)}   ${note}`;
  lines.push(row('pulses', s.pulses, ''));
  lines.push(row('detected', s.detected, `${pc(s.detected / s.pulses)} of pulses (double clicks: ${n0(s.doubleClicks)})`));
  lines.push(row('sifted', s.sifted, `${pc(s.sifted / Math.max(1, s.detected), 1)} of detections; ${s.blocks} block(s) of ≈ ${n0(p.blockSize)} bits` +
    (s.unusedSiftedBits > 0 ? `, ${n0(s.unusedSiftedBits)} left over` : '')));
  lines.push(row('sample QBER', pc(s.qberSample), `on ${n0(reports.reduce((a, r) => a + r.sampleBits, 0))} disclosed bits; abort threshold ${pc(s.qberThreshold)} (r(Q, f) = 0)`));
  lines.push(row('estimated QBER', pc(s.qber), s.abortedBlocks === s.blocks ? 'whole block (disclosed after the abort)' : 'sample + errors found by Cascade'));
  if (s.reconciledBits > 0) {
    lines.push(row('corrected', s.reconciledBits, `${n0(s.errorsCorrected)} errors; Cascade ${s.cascade.variant}: f = ${s.cascade.efficiency.toFixed(3)}, ` +
      `${n0(s.cascade.frames)} frames, frame errors ${pc(s.cascade.frameErrorRate)} (${s.cascade.framesDiscarded} discarded), ${n0(s.cascade.messages)} messages`));
  }
  lines.push(row('final', s.finalBits, s.finalBits > 0
    ? `key fraction ${s.keyFraction.toFixed(4)} vs r(Q, f) = 1 − h(Q) − f·h(Q) = ${s.theoryKeyFraction.toFixed(4)} (${pc(1 - s.keyFraction / s.theoryKeyFraction, 1)} below)`
    : 'no key'));
  if (s.finiteSize && s.finalBits > 0) {
    const f = s.finiteSize;
    lines.push(`  first block: ${n0(f.keyBits)} key bits − ${n0(f.privacyBits)} (phase errors ≤ ${pc(f.phaseErrorZ)} Z / ${pc(f.phaseErrorX)} X, ` +
      `finite-size γ = ${(f.gammaZ * 100).toFixed(2)}/${(f.gammaX * 100).toFixed(2)} pp costs ${n0(f.finiteSizeBits)} bits) − ${n0(f.leakBits)} leaked ` +
      `(${n0(f.leakBits - f.tagBits)} parities + ${n0(f.tagBits)} hash bits) − ${f.marginBits.toFixed(0)} margin = ${n0(f.secretLength)}; ` +
      `${n0(f.sampleBits)} sampled bits were discarded`);
  }
  if (s.aborted) lines.push(`aborted    ${s.abortedBlocks}/${s.blocks} block(s): ${s.abortReason}`);
  lines.push(`speed      ${rate(s.pulsesPerSecond)}pulses/s simulated and sifted; Cascade ${rate(s.correctedBitsPerSecond)}bit/s corrected; ` +
    `${s.secretBitsPerPulse.toExponential(3)} secret bits/pulse; ${s.seconds.toFixed(2)} s in all`);
  if (s.plot) lines.push(`plots      ${s.plot.keyFractionVsQber}\n           ${s.plot.keyRateVsDistance}`);
  return lines.join('\n') + '\n';
}

function writePlots(p: Plan, s: Summary): { keyFractionVsQber: string; keyRateVsDistance: string } {
  const f = Number.isFinite(s.cascade.efficiency) ? s.cascade.efficiency : 1.1;
  const block = Math.min(1 << 17, p.blockSize);
  const points = keyFractionSweep(p.params, p.seed, [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1], block);
  const fractionSvg = renderChart({
    title: `Secret key fraction vs QBER (Cascade ${p.params.cascade}, blocks of ${block} sifted bits)`,
    xLabel: 'QBER (%)',
    yLabel: 'final bits / sifted bits',
    x: [0, 12],
    y: [0, 1],
    series: [
      { name: 'r(Q, f=1): Shannon limit', points: theoryFractionCurve(1), style: 'dashed', color: '#888' },
      { name: `r(Q, f=${f.toFixed(3)}): achieved f`, points: theoryFractionCurve(f), style: 'line', color: '#1f77b4' },
      { name: `simulated ${block}-bit blocks (finite size)`, points: points.map((q) => [q.qber * 100, q.keyFraction]), style: 'points', color: '#d62728' },
    ],
  });
  const keyFile = p.plot!;
  const distFile = keyFile.replace(/\.svg$/i, '-distance.svg');
  writeFileSync(keyFile, fractionSvg);

  const cutoff = cutoffDistance(p.params, f);
  const maxKm = Math.min(400, Math.max(50, Math.ceil(cutoff * 1.1 / 10) * 10));
  const distances: number[] = [];
  for (let d = 0; d <= maxKm; d += maxKm / 10) distances.push(Math.round(d));
  const sim = distanceSweep(p.params, p.seed, distances, 1 << 15, 1.5e8);
  const theory = theoryRateCurve(p.params, f, maxKm);
  const positive = [...theory.map(([, y]) => y), ...sim.map((q) => q.bitsPerPulse)].filter((y) => y > 0);
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...positive, 1e-6)));
  const yMin = Math.max(1e-9, 10 ** Math.floor(Math.log10(Math.min(...positive, yMax / 10))));
  const distSvg = renderChart({
    title: `Secret key rate vs distance (${p.params.lossDbPerKm} dB/km, η_det ${p.params.detectorEfficiency}, dark counts ${p.params.darkCountProb.toExponential(0)})`,
    xLabel: 'distance (km)',
    yLabel: 'secret bits per pulse',
    x: [0, maxKm],
    y: [yMin, yMax],
    logY: true,
    series: [
      { name: `asymptotic ½·P(click)·r(Q, ${f.toFixed(2)})`, points: theory.filter(([, y]) => y > 0), style: 'line', color: '#1f77b4' },
      { name: 'simulated (2^15-bit blocks, finite size)', points: sim.filter((q) => q.bitsPerPulse > 0).map((q) => [q.distanceKm, q.bitsPerPulse]), style: 'points', color: '#d62728' },
    ],
  });
  writeFileSync(distFile, distSvg);
  return { keyFractionVsQber: keyFile, keyRateVsDistance: distFile };
}

interface TtyStream {
  isTTY?: boolean;
  columns?: number;
}

/** A one-line progress bar on stderr, only when stderr is a terminal and the run is long; −1 clears it. */
function progressBar(stream: NodeJS.WritableStream, total: number): (done: number) => void {
  const tty = stream as NodeJS.WritableStream & TtyStream;
  if (!tty.isTTY || total < 10_000_000) return () => undefined;
  let last = 0;
  return (done) => {
    if (done < 0) {
      stream.write('\r\x1b[2K');
      return;
    }
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = Math.max(10, Math.min(40, (tty.columns ?? 80) - 40));
    const filled = Math.round((done / total) * width);
    stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(100 * done / total).toFixed(0).padStart(3)}%  ${n0(done)} pulses`);
  };
}
