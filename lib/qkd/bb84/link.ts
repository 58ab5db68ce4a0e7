// Bb84Link: the QkdLink a KME pair uses to obtain identical key blocks from the simulated BB84 link
// (replacing the CSPRNG stand-in). Each nextBlock() sends pulses until one block of sifted bits is ready,
// then runs estimation, Cascade and privacy amplification on it, and returns the same bytes for both sites —
// or { ok: false, reason } with no key material at all when the block is aborted.
//
// stats().simulated is true: the key material does not come from a physical quantum process — it is a
// faithful simulation of one (`model: 'bb84-simulated'`). A seeded link is reproducible and therefore
// predictable: use it for tests only, never for keys that protect anything.
import type { LinkBlock, LinkStats, QkdLink } from '../link.js';
import { AuthPoolExhaustedError } from './auth-pool.js';
import type { ClassicalWire } from './classical-channel.js';
import { resolveParams, Bb84ParamError, type Bb84Params } from './params.js';
import { siftedPerPulse } from './physics.js';
import { Bb84Protocol, type BlockReport } from './protocol.js';

export interface Bb84LinkOptions extends Partial<Bb84Params> {
  /** Reproducible simulation (tests only — a seeded link's keys are predictable). Default: OS randomness. */
  seed?: number | bigint | string;
  /** Pre-shared authentication bootstrap key, ≥ 32 bytes (default: 4 KiB of fresh randomness). */
  bootstrapKey?: Uint8Array;
  /** Source repetition rate used to express the key rate in bits per (physical) second. Default 1 GHz. */
  pulseRateHz?: number;
  /** Give up on a block (abort it) after this many pulses. Default 2·10^9. */
  maxPulsesPerBlock?: number;
}

export interface Bb84LinkStats extends LinkStats {
  kind: 'bb84';
  model: 'bb84-simulated';
  seeded: boolean;
  pulses: number;
  detected: number;
  sifted: number;
  /** QBER of the last block (best estimate), and over every block so far. */
  qber: number;
  qberAverage: number;
  /** Running reconciliation efficiency f (Cascade parities / Shannon limit). */
  efficiency: number;
  cascadeVariant: string;
  framesReconciled: number;
  /** Frames whose first hash confirmation failed / frames, and frames discarded after all retries. */
  frameErrorRate: number;
  framesDiscarded: number;
  /** Privacy-amplified bits (before the authentication refill) and delivered key bits (finalBits). */
  distilledBits: number;
  secretKeyRateBitsPerPulse: number;
  secretKeyRateBitsPerSecond: number;
  pulseRateHz: number;
  /** Delivered bits per second of wall-clock simulation time. */
  simulationBitsPerSecond: number;
  classicalMessages: number;
  classicalBytes: number;
  authPoolBytes: number;
}

export class Bb84Link implements QkdLink {
  readonly kind = 'bb84';
  readonly params: Bb84Params;
  private readonly protocol: Bb84Protocol;
  private readonly pulseRateHz: number;
  private readonly maxPulsesPerBlock: number;
  private queue: Promise<unknown> = Promise.resolve();
  private dead: string | undefined;
  private last: BlockReport | undefined;
  private totals = {
    blocks: 0, aborted: 0, finalBits: 0, distilled: 0, frames: 0, failedFirst: 0, discarded: 0,
    qberErrors: 0, qberBits: 0, seconds: 0, lastReason: undefined as string | undefined,
  };

  /** Throws Bb84ParamError for invalid options (before any work). */
  constructor(opts: Bb84LinkOptions = {}) {
    const { seed, bootstrapKey, pulseRateHz, maxPulsesPerBlock, ...params } = opts;
    this.params = resolveParams(params);
    this.pulseRateHz = pulseRateHz ?? 1e9;
    this.maxPulsesPerBlock = maxPulsesPerBlock ?? 2e9;
    if (!(this.pulseRateHz > 0 && Number.isFinite(this.pulseRateHz))) throw new Bb84ParamError(`pulse rate must be > 0 Hz (got ${pulseRateHz})`);
    const expected = this.params.blockSize / siftedPerPulse(this.params);
    if (!(expected <= this.maxPulsesPerBlock / 2)) {
      throw new Bb84ParamError(`link too lossy: ~${expected.toExponential(2)} pulses per ${this.params.blockSize}-bit block ` +
        `(limit ${this.maxPulsesPerBlock.toExponential(2)}); shorten the distance or the block`);
    }
    this.protocol = new Bb84Protocol(this.params, { seed, bootstrapKey });
  }

  /** The classical wire (to observe traffic, or to attach an interceptor in tests). */
  get classicalWire(): ClassicalWire {
    return this.protocol.wire;
  }

  /** The full report of the last block (estimation, Cascade and finite-size figures). */
  get lastReport(): Omit<BlockReport, 'alice' | 'bob'> | undefined {
    if (!this.last) return undefined;
    const { alice: _a, bob: _b, ...rest } = this.last;
    return rest;
  }

  nextBlock(): Promise<LinkBlock> {
    const run = this.queue.then(() => this.runBlock());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runBlock(): Promise<LinkBlock> {
    if (this.dead) return this.abort(this.dead);
    const t0 = performance.now();
    const proto = this.protocol;
    const perPulse = siftedPerPulse(this.params);
    let pulses = 0;
    try {
      while (proto.siftedAvailable < this.params.blockSize) {
        if (pulses >= this.maxPulsesPerBlock) {
          return this.abort(`pulse budget of ${this.maxPulsesPerBlock} pulses exhausted before the block filled`);
        }
        const need = this.params.blockSize - proto.siftedAvailable;
        const batch = Math.min(1 << 22, Math.max(1 << 16, Math.ceil((need / perPulse) * 1.02) + 4096));
        proto.runPulses(batch);
        pulses += batch;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const report = await proto.distillAsync(proto.siftedAvailable);
      this.account(report, performance.now() - t0);
      if (!report.ok || !report.alice || !report.bob) return this.abort(report.abortReason ?? 'block aborted');
      return { ok: true, alice: report.alice, bob: report.bob };
    } catch (e) {
      if (e instanceof AuthPoolExhaustedError) this.dead = e.message;
      return this.abort(`${(e as Error).name}: ${(e as Error).message}`);
    }
  }

  private account(r: BlockReport, ms: number): void {
    this.last = r;
    const t = this.totals;
    t.seconds += ms / 1000;
    t.frames += r.frames;
    t.failedFirst += r.framesFailedFirst;
    t.discarded += r.framesDiscarded;
    if (Number.isFinite(r.qber)) {
      const bits = r.stage === 'estimation' ? r.siftedBits : r.sampleBits + r.reconciledBits;
      t.qberErrors += r.qber * bits;
      t.qberBits += bits;
    }
    if (r.ok) {
      t.blocks++;
      t.finalBits += r.deliveredBits;
      t.distilled += r.finalBits;
    }
  }

  private abort(reason: string): LinkBlock {
    this.totals.aborted++;
    this.totals.lastReason = reason;
    return { ok: false, reason };
  }

  stats(): Bb84LinkStats {
    const t = this.totals;
    const c = this.protocol.counters;
    const perPulse = c.pulses > 0 ? t.finalBits / c.pulses : 0;
    return {
      kind: 'bb84',
      simulated: true,
      model: 'bb84-simulated',
      seeded: this.protocol.seeded,
      blocks: t.blocks,
      abortedBlocks: t.aborted,
      finalBits: t.finalBits,
      ...(t.lastReason !== undefined ? { lastAbortReason: t.lastReason } : {}),
      pulses: c.pulses,
      detected: c.detected,
      sifted: c.sifted,
      qber: this.last?.qber ?? NaN,
      qberAverage: t.qberBits > 0 ? t.qberErrors / t.qberBits : NaN,
      efficiency: this.protocol.alice.efficiency.value,
      cascadeVariant: this.params.cascade,
      framesReconciled: t.frames,
      frameErrorRate: t.frames > 0 ? t.failedFirst / t.frames : 0,
      framesDiscarded: t.discarded,
      distilledBits: t.distilled,
      secretKeyRateBitsPerPulse: perPulse,
      secretKeyRateBitsPerSecond: perPulse * this.pulseRateHz,
      pulseRateHz: this.pulseRateHz,
      simulationBitsPerSecond: t.seconds > 0 ? t.finalBits / t.seconds : 0,
      classicalMessages: this.protocol.wire.messages,
      classicalBytes: this.protocol.wire.bytes,
      authPoolBytes: this.protocol.alice.pool.available,
    };
  }
}
