// Bob's site: his receiver, his sifted key, his authentication pool and his side of every classical
// exchange.
import { AuthKeyPool } from './auth-pool.js';
import { BitBuffer } from './bits.js';
import { detect, type BobRecord } from './bob-detector.js';
import { AuthenticatedEndpoint, type ClassicalWire } from './classical-channel.js';
import { Bb84ProtocolError, Msg } from './codec.js';
import { tallyErrors, withoutPositions } from './estimation.js';
import { decodeDisclosure, decodeMatch, decodePrivacySeed, decodeSample, encodeDetections, encodeTally } from './messages.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';
import { EfficiencyTracker } from './efficiency.js';
import type { StationBlock } from './alice-station.js';
import type { BasisTally } from './messages.js';
import { toeplitzHash } from './toeplitz.js';

export class BobStation {
  readonly endpoint: AuthenticatedEndpoint;
  readonly pool: AuthKeyPool;
  private readonly sifted = new BitBuffer();
  private readonly siftedBases = new BitBuffer();
  private record: BobRecord | undefined;
  block: StationBlock | undefined;
  detected = 0;
  doubleClicks = 0;

  /** This side's running reconciliation efficiency (for the abort threshold). */
  readonly efficiency: EfficiencyTracker;

  constructor(wire: ClassicalWire, bootstrap: Uint8Array, private readonly rng: RandomSource, nominalEfficiency: number) {
    this.efficiency = new EfficiencyTracker(nominalEfficiency);
    this.pool = new AuthKeyPool(bootstrap);
    this.endpoint = new AuthenticatedEndpoint('bob', wire, this.pool);
  }

  get siftedLength(): number {
    return this.sifted.length;
  }

  /** Measures a batch of pulses (quantum outcomes drawn from `nature`) and announces his detections. */
  measure(photons: PhotonBatch, nature: RandomSource, darkCount: number): void {
    const rec = detect(this.rng, nature, darkCount, photons);
    this.record = rec;
    this.detected += rec.detected.length;
    this.doubleClicks += rec.doubleClicks;
    this.endpoint.send(encodeDetections(rec.count, rec.detected, rec.bases));
  }

  /** Receives Alice's basis-match mask and keeps the matching bits. */
  sift(): void {
    const rec = this.record;
    if (!rec) throw new Bb84ProtocolError('basis match without detections');
    const match = decodeMatch(this.endpoint.receive(), rec.detected.length);
    for (let k = 0; k < match.length; k++) {
      if (match[k]) {
        this.sifted.push(rec.bits[k]);
        this.siftedBases.push(rec.bases[k]);
      }
    }
    this.record = undefined;
  }

  beginBlock(n: number): void {
    this.block = { bits: this.sifted.shift(n), bases: this.siftedBases.shift(n) };
  }

  /** Compares Alice's sample with his bits, reports the errors per basis, drops the sample. */
  answerSample(): BasisTally {
    const b = this.block!;
    const { positions, values } = decodeSample(this.endpoint.receive(), b.bits.length);
    const tally = tallyErrors(b.bits, values, b.bases, positions);
    b.positions = positions;
    b.key = withoutPositions(b.bits, positions);
    b.keyBases = withoutPositions(b.bases, positions);
    this.endpoint.send(encodeTally(Msg.SampleReport, tally));
    return tally;
  }

  /** After an abort: compares Alice's disclosed block with his and reports the errors. */
  measureDisclosure(): BasisTally {
    const b = this.block!;
    const alice = decodeDisclosure(this.endpoint.receive(), b.key!.length);
    const tally = tallyErrors(b.key!, alice, b.keyBases!);
    this.endpoint.send(encodeTally(Msg.AbortReport, tally));
    return tally;
  }

  /** Receives the Toeplitz seed; checks Alice's m against his own computation; returns T·x. */
  amplify(reconciled: Uint8Array, m: number): Uint8Array {
    const msg = decodePrivacySeed(this.endpoint.receive());
    if (msg.m !== m) throw new Bb84ProtocolError(`Alice's final length ${msg.m} differs from Bob's ${m}`);
    return toeplitzHash(msg.seed, reconciled, m);
  }

  clearSifted(): void {
    this.sifted.clear();
    this.siftedBases.clear();
    this.record = undefined;
  }

  endBlock(refill: Uint8Array | undefined): void {
    this.block = undefined;
    if (refill) this.pool.refill(refill);
    this.endpoint.rekey();
  }
}
