// One simulated BB84 link end to end: Alice's and Bob's stations, the quantum channel between them (with an
// optional intercept-resend eavesdropper) and the authenticated classical wire. The orchestration below only
// moves photons and messages from one station to the other and decides whose turn it is; every decision
// about the key is taken by the stations from what they hold and what they received.
import { AliceReconciler } from './alice-reconcile.js';
import { AliceStation } from './alice-station.js';
import { packBitsMsb } from './bits.js';
import { accountBlock, gatherKey, type BlockAccounting } from './block-accounting.js';
import { BobReconciler } from './bob-reconcile.js';
import { BobStation } from './bob-station.js';
import { cascadeVariant, type CascadeVariant } from './cascade-variants.js';
import { ClassicalWire } from './classical-channel.js';
import { Bb84ProtocolError } from './codec.js';
import { keyFraction } from './entropy.js';
import { decide, type SampleDecision } from './estimation.js';
import { interceptResend, type EveStats } from './eve.js';
import { propagate } from './fibre.js';
import type { SecretLength } from './finite-size.js';
import { splitFrames, type FrameEntry } from './frames.js';
import { reconciliationSteps } from './reconcile-driver.js';
import type { BasisTally } from './messages.js';
import { sampleSize, type Bb84Params } from './params.js';
import { transmittance } from './physics.js';
import { randomStream, type RandomSource } from './prng.js';

export interface ProtocolOptions {
  /** Reproducible run (simulation/tests only — never for real keys). Omit for OS randomness. */
  seed?: number | bigint | string;
  /** Pre-shared key bootstrapping authentication (both sites hold a copy). Default: 4 KiB, random. */
  bootstrapKey?: Uint8Array;
}

export interface BlockReport {
  ok: boolean;
  abortReason?: string;
  /** Stage reached: estimation, reconciliation, amplification or done. */
  stage: 'estimation' | 'reconciliation' | 'amplification' | 'done';
  siftedBits: number;
  sampleBits: number;
  sampleErrors: number;
  decision: SampleDecision;
  /** Best QBER estimate: sample + corrected key, or the whole disclosed block after an abort. */
  qber: number;
  keyBits: number;
  frames: number;
  framesFailedFirst: number;
  framesDiscarded: number;
  confirmations: number;
  reconciledBits: number;
  errorsCorrected: number;
  disclosedBits: number;
  tagBits: number;
  /** f = disclosed parities / Σ n_i·h(e_i/n_i) over confirmed frames. */
  efficiency: number;
  cascadeMessages: number;
  cascadeBytes: number;
  secret?: SecretLength;
  /** Length m of the privacy-amplified key, and what is delivered after the authentication refill. */
  finalBits: number;
  deliveredBits: number;
  /** finalBits / siftedBits, and r(Q, f) = 1 − h(Q) − f·h(Q) at this block's Q and f. */
  keyFraction: number;
  theoryKeyFraction: number;
  alice?: Uint8Array;
  bob?: Uint8Array;
  seconds: { estimation: number; reconciliation: number; amplification: number };
}

export interface PulseCounters {
  pulses: number;
  detected: number;
  sifted: number;
  doubleClicks: number;
  intercepted: number;
}

const CHUNK = 1 << 20;

export class Bb84Protocol {
  readonly wire = new ClassicalWire();
  readonly alice: AliceStation;
  readonly bob: BobStation;
  readonly variant: CascadeVariant;
  readonly seeded: boolean;
  private readonly nature: RandomSource;
  private readonly eveRng: RandomSource;
  private readonly eve: EveStats = { intercepted: 0 };
  private readonly eta: number;
  private siftedTotal = 0;
  private pulsesTotal = 0;

  constructor(readonly params: Bb84Params, opts: ProtocolOptions = {}) {
    const seed = opts.seed;
    this.seeded = seed !== undefined;
    this.variant = cascadeVariant(params.cascade);
    const bootstrap = opts.bootstrapKey ?? randomStream(seed, 'bootstrap').bytes(4096);
    this.alice = new AliceStation(this.wire, bootstrap, randomStream(seed, 'alice'), this.variant.nominalEfficiency);
    this.bob = new BobStation(this.wire, bootstrap, randomStream(seed, 'bob'), this.variant.nominalEfficiency);
    this.nature = randomStream(seed, 'nature', true);
    this.eveRng = randomStream(seed, 'eve', true);
    this.eta = transmittance(params);
    this.alice.endpoint.rekey();
    this.bob.endpoint.rekey();
  }

  get counters(): PulseCounters {
    return {
      pulses: this.pulsesTotal,
      detected: this.bob.detected,
      sifted: this.siftedTotal,
      doubleClicks: this.bob.doubleClicks,
      intercepted: this.eve.intercepted,
    };
  }

  /** Sifted bits waiting to be distilled (the same on both sides). */
  get siftedAvailable(): number {
    return this.alice.siftedLength;
  }

  /** Sends `count` pulses through the quantum channel and sifts them, in batches of up to 2^20. */
  runPulses(count: number, onProgress?: (done: number) => void): void {
    let done = 0;
    while (done < count) {
      const n = Math.min(CHUNK, count - done);
      this.runBatch(n);
      done += n;
      onProgress?.(done);
    }
  }

  private runBatch(n: number): void {
    const p = this.params;
    const before = this.alice.siftedLength;
    const photons = this.alice.emit(n);
    interceptResend(this.eveRng, p.eveFraction, photons, this.eve);
    propagate(this.nature, this.eta, p.misalignment, photons);
    this.pulsesTotal += n;
    try {
      this.bob.measure(photons, this.nature, p.darkCountProb);
      this.alice.sift();
      this.bob.sift();
    } catch (e) {
      // A failed sifting exchange leaves the sifted buffers and the message counters out of step: drop
      // every sifted bit on both sides and start a fresh authenticated session.
      this.wire.flush();
      this.alice.clearSifted();
      this.bob.clearSifted();
      this.alice.endBlock(undefined);
      this.bob.endBlock(undefined);
      throw e;
    }
    if (this.alice.siftedLength !== this.bob.siftedLength) throw new Bb84ProtocolError('sifted keys differ in length');
    this.siftedTotal += this.alice.siftedLength - before;
  }

  /** Runs estimation, reconciliation and privacy amplification on the next `n` sifted bits. */
  distill(n: number): BlockReport {
    const steps = this.distillSteps(n);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /** The same, giving the event loop a turn between stages and Cascade batches (for servers). */
  async distillAsync(n: number): Promise<BlockReport> {
    const steps = this.distillSteps(n);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private *distillSteps(n: number): Generator<void, BlockReport> {
    if (n > this.siftedAvailable) throw new RangeError(`only ${this.siftedAvailable} sifted bits available, ${n} asked`);
    const { alice, bob, params: p } = this;
    alice.beginBlock(n);
    bob.beginBlock(n);
    const report = emptyReport(n);
    let refillA: Uint8Array | undefined;
    let refillB: Uint8Array | undefined;
    try {
      const t0 = performance.now();
      // 1. Parameter estimation on a random sample, which is then discarded.
      alice.sendSample(sampleSize(n, p));
      const tallyB = bob.answerSample();
      const tallyA = alice.receiveSampleReport();
      const decA = decide(tallyA, alice.efficiency.value);
      const decB = decide(tallyB, bob.efficiency.value);
      if (decA.abort !== decB.abort) throw new Bb84ProtocolError('Alice and Bob disagree on the abort decision');
      fillSample(report, tallyA, decA);
      report.seconds.estimation = (performance.now() - t0) / 1000;
      if (decA.abort) {
        alice.discloseRest();
        const rest = bob.measureDisclosure();
        alice.receiveDisclosureReport();
        report.qber = (tallyA[0] + tallyA[2] + rest[0] + rest[2]) / n;
        report.abortReason = `estimated QBER ${pct(decA.qber)} exceeds the ${pct(decA.threshold)} threshold for f = ${decA.efficiency.toFixed(3)}` +
          ` (whole block: ${pct(report.qber)})`;
        return report;
      }

      // 2. Error correction (Cascade) with hash confirmation.
      report.stage = 'reconciliation';
      const t1 = performance.now();
      const m0 = this.wire.messages;
      const b0 = this.wire.bytes;
      yield;
      const { accA, accB, corrected, frames } = yield* this.reconcile(decB.qForCascade, tallyA, tallyB);
      fillReconciliation(report, accA, frames);
      report.cascadeMessages = this.wire.messages - m0;
      report.cascadeBytes = this.wire.bytes - b0;
      for (const f of accA.okFrames) alice.efficiency.add(f.disclosed, f.length, f.errorsZ + f.errorsX);
      for (const f of accB.okFrames) bob.efficiency.add(f.disclosed, f.length, f.errorsZ + f.errorsX);
      report.seconds.reconciliation = (performance.now() - t1) / 1000;

      // 3. Privacy amplification.
      report.stage = 'amplification';
      const t2 = performance.now();
      const m = accA.secret.length;
      if (m !== accB.secret.length) throw new Bb84ProtocolError('Alice and Bob computed different final lengths');
      report.secret = accA.secret;
      const minBits = 8 * p.authRefillBytes + 8;
      if (m < minBits) {
        report.abortReason = `privacy amplification leaves ${m} bits (< ${minBits} needed to refill the authentication pool and deliver a byte)`;
        return report;
      }
      yield;
      const finalA = alice.amplify(gatherKey(alice.block!.key!, accA.okFrames), m);
      const finalB = bob.amplify(gatherKey(corrected, accB.okFrames), m);
      // Asserted on every block: the two final keys agree bit for bit.
      let diff = finalA.length ^ finalB.length;
      for (let i = 0; i < finalA.length; i++) diff |= finalA[i] ^ finalB[i];
      const bytesA = packBitsMsb(finalA).subarray(0, m >>> 3);
      const bytesB = packBitsMsb(finalB).subarray(0, m >>> 3);
      if (diff !== 0) {
        report.abortReason = 'final keys differ (undetected reconciliation error); block discarded';
        return report;
      }
      refillA = bytesA.slice(0, p.authRefillBytes);
      refillB = bytesB.slice(0, p.authRefillBytes);
      report.ok = true;
      report.stage = 'done';
      report.finalBits = m;
      report.deliveredBits = (bytesA.length - p.authRefillBytes) * 8;
      report.keyFraction = m / n;
      report.alice = bytesA.slice(p.authRefillBytes);
      report.bob = bytesB.slice(p.authRefillBytes);
      bytesA.fill(0);
      bytesB.fill(0);
      report.seconds.amplification = (performance.now() - t2) / 1000;
      return report;
    } catch (e) {
      this.wire.flush();
      report.ok = false;
      report.alice = report.bob = undefined;
      report.abortReason = `${(e as Error).name}: ${(e as Error).message}`;
      refillA = refillB = undefined;
      return report;
    } finally {
      if (!report.ok) report.finalBits = report.deliveredBits = report.keyFraction = 0;
      alice.endBlock(report.ok ? refillA : undefined);
      bob.endBlock(report.ok ? refillB : undefined);
    }
  }

  private *reconcile(q: number, tallyA: BasisTally, tallyB: BasisTally):
  Generator<void, { accA: BlockAccounting; accB: BlockAccounting; corrected: Uint8Array; frames: FrameEntry[] }> {
    const { alice, bob, params: p } = this;
    const a = alice.block!;
    const b = bob.block!;
    const framesA = splitFrames(a.key!.length, p.frameSize);
    const framesB = splitFrames(b.key!.length, p.frameSize);
    const ar = new AliceReconciler(alice.endpoint, alice.randomSource, a.key!, framesA, p.maxRetries);
    const br = new BobReconciler(bob.endpoint, b.key!, b.keyBases!, framesB, this.variant, q, p.maxRetries);
    yield* reconciliationSteps(ar, br, framesA.length, p.parallelFrames);
    return {
      accA: accountBlock(framesA, a.keyBases!, tallyA, p.epsilon),
      accB: accountBlock(framesB, b.keyBases!, tallyB, p.epsilon),
      corrected: br.corrected,
      frames: framesA,
    };
  }
}

function emptyReport(n: number): BlockReport {
  return {
    ok: false, stage: 'estimation', siftedBits: n, sampleBits: 0, sampleErrors: 0,
    decision: { qber: NaN, threshold: NaN, efficiency: NaN, abort: true, qForCascade: NaN },
    qber: NaN, keyBits: 0, frames: 0, framesFailedFirst: 0, framesDiscarded: 0, confirmations: 0, reconciledBits: 0,
    errorsCorrected: 0, disclosedBits: 0, tagBits: 0, efficiency: NaN, cascadeMessages: 0, cascadeBytes: 0,
    finalBits: 0, deliveredBits: 0, keyFraction: 0, theoryKeyFraction: NaN,
    seconds: { estimation: 0, reconciliation: 0, amplification: 0 },
  };
}

function fillSample(r: BlockReport, t: BasisTally, d: SampleDecision): void {
  r.sampleBits = t[1] + t[3];
  r.sampleErrors = t[0] + t[2];
  r.decision = d;
  r.qber = d.qber;
  r.keyBits = r.siftedBits - r.sampleBits;
}

function fillReconciliation(r: BlockReport, acc: BlockAccounting, frames: FrameEntry[]): void {
  r.frames = frames.length;
  r.framesFailedFirst = frames.filter((f) => f.failedFirst).length;
  r.framesDiscarded = frames.filter((f) => f.status === 'discarded').length;
  r.confirmations = frames.reduce((s, f) => s + f.confirmations, 0);
  r.reconciledBits = acc.keyBits;
  r.errorsCorrected = acc.errors;
  r.disclosedBits = acc.disclosedBits;
  r.tagBits = acc.tagBits;
  r.efficiency = acc.efficiency;
  r.qber = acc.qber;
  r.theoryKeyFraction = keyFraction(acc.qber, acc.efficiency);
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
