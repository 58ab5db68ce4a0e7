// Cascade on a binary symmetric channel, for measurements (tests and the benchmark): random frames for
// Alice, Bob's copies with each bit flipped independently with probability Q, then the real protocol —
// the two reconcilers over an authenticated classical wire, hash confirmation and retries. Reports f
// against each frame's actual error count, the frame error rates and throughput.
import { AliceReconciler } from './alice-reconcile.js';
import { BobReconciler } from './bob-reconcile.js';
import { AuthKeyPool } from './auth-pool.js';
import { cascadeVariant, type CascadeVariantName } from './cascade-variants.js';
import { AuthenticatedEndpoint, ClassicalWire } from './classical-channel.js';
import { bernoulliMask } from './bernoulli.js';
import { efficiencyOf } from './efficiency.js';
import { splitFrames } from './frames.js';
import { SeededRandom } from './prng.js';
import { runReconciliation } from './reconcile-driver.js';

export interface CascadeTrialOptions {
  variant: CascadeVariantName;
  qber: number;
  frames: number;
  frameSize?: number;
  seed?: number | string;
  parallelFrames?: number;
  maxRetries?: number;
}

export interface CascadeTrialResult {
  variant: CascadeVariantName;
  qber: number;
  frames: number;
  frameSize: number;
  /** Σ disclosed / Σ n·h(e_i/n) over confirmed frames (including any retry passes). */
  efficiency: number;
  /** Frames whose first confirmation failed, and frames given up after all retries. */
  failedFirst: number;
  discarded: number;
  /** Confirmed frames whose bits still differ from Alice's (undetected by the hash): must be 0. */
  undetected: number;
  messages: number;
  bytes: number;
  /** Wall-clock seconds of the reconciliation itself (frame generation excluded). */
  seconds: number;
  correctedBitsPerSecond: number;
  /** CPU seconds of this process during the reconciliation (independent of other load on the machine). */
  cpuSeconds: number;
  correctedBitsPerCpuSecond: number;
}

export function runCascadeTrial(o: CascadeTrialOptions): CascadeTrialResult {
  const n = o.frameSize ?? 10_000;
  const rng = new SeededRandom(o.seed ?? 1, 'cascade-trial');
  const total = o.frames * n;
  const alice = new Uint8Array(total);
  const bob = new Uint8Array(total);
  const bases = new Uint8Array(total);
  const words = new Uint32Array(Math.ceil(total / 32));
  rng.fillU32(words);
  const noise = bernoulliMask(rng, o.qber, total);
  for (let i = 0; i < total; i++) {
    const a = (words[i >>> 5] >>> (i & 31)) & 1;
    alice[i] = a;
    bob[i] = a ^ ((noise[i >>> 5] >>> (i & 31)) & 1);
  }
  rng.fillU32(words);
  for (let i = 0; i < total; i++) bases[i] = (words[i >>> 5] >>> (i & 31)) & 1;

  const wire = new ClassicalWire();
  const bootstrap = rng.bytes(64);
  const ea = new AuthenticatedEndpoint('alice', wire, new AuthKeyPool(bootstrap));
  const eb = new AuthenticatedEndpoint('bob', wire, new AuthKeyPool(bootstrap));
  ea.rekey();
  eb.rekey();
  const framesA = splitFrames(total, n);
  const framesB = splitFrames(total, n);
  const ar = new AliceReconciler(ea, rng, alice, framesA, o.maxRetries ?? 3);
  const br = new BobReconciler(eb, bob, bases, framesB, cascadeVariant(o.variant), o.qber, o.maxRetries ?? 3);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  runReconciliation(ar, br, framesA.length, o.parallelFrames ?? 16);
  const cpu = process.cpuUsage(c0);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  let undetected = 0;
  for (const f of framesB) {
    if (f.status !== 'ok') continue;
    for (let i = f.start; i < f.start + f.length; i++) {
      if (br.corrected[i] !== alice[i]) {
        undetected++;
        break;
      }
    }
  }
  const ok = framesA.filter((f) => f.status === 'ok');
  return {
    variant: o.variant,
    qber: o.qber,
    frames: o.frames,
    frameSize: n,
    efficiency: efficiencyOf(ok.map((f) => ({ disclosed: f.disclosed, length: f.length, errors: f.errorsZ + f.errorsX }))),
    failedFirst: framesA.filter((f) => f.failedFirst).length,
    discarded: framesA.filter((f) => f.status === 'discarded').length,
    undetected,
    messages: wire.messages,
    bytes: wire.bytes,
    seconds,
    correctedBitsPerSecond: total / seconds,
    cpuSeconds,
    correctedBitsPerCpuSecond: total / cpuSeconds,
  };
}
