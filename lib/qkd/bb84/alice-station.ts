// Alice's site: her transmitter, her sifted key, her authentication pool and her side of every classical
// exchange. She shares nothing with Bob but the photons she emits and the messages on the wire.
import { preparePulses, type AliceRecord } from './alice-source.js';
import { AuthKeyPool } from './auth-pool.js';
import { getBit, BitBuffer } from './bits.js';
import { AuthenticatedEndpoint, type ClassicalWire } from './classical-channel.js';
import { Bb84ProtocolError, Msg } from './codec.js';
import { choosePositions, pick, withoutPositions } from './estimation.js';
import { decodeDetections, decodeTally, encodeDisclosure, encodeMatch, encodePrivacySeed, encodeSample, type BasisTally } from './messages.js';
import type { PhotonBatch } from './photons.js';
import type { RandomSource } from './prng.js';
import { EfficiencyTracker } from './efficiency.js';
import { toeplitzHash } from './toeplitz.js';

export interface StationBlock {
  bits: Uint8Array;
  bases: Uint8Array;
  positions?: Uint32Array;
  key?: Uint8Array;
  keyBases?: Uint8Array;
}

export class AliceStation {
  readonly endpoint: AuthenticatedEndpoint;
  readonly pool: AuthKeyPool;
  private readonly sifted = new BitBuffer();
  private readonly siftedBases = new BitBuffer();
  private record: AliceRecord | undefined;
  block: StationBlock | undefined;

  /** This side's running reconciliation efficiency (for the abort threshold). */
  readonly efficiency: EfficiencyTracker;

  constructor(wire: ClassicalWire, bootstrap: Uint8Array, private readonly rng: RandomSource, nominalEfficiency: number) {
    this.efficiency = new EfficiencyTracker(nominalEfficiency);
    this.pool = new AuthKeyPool(bootstrap);
    this.endpoint = new AuthenticatedEndpoint('alice', wire, this.pool);
  }

  get siftedLength(): number {
    return this.sifted.length;
  }

  /** Prepares `count` pulses; keeps her record until they are sifted. */
  emit(count: number): PhotonBatch {
    const { record, photons } = preparePulses(this.rng, count);
    this.record = record;
    return photons;
  }

  /** Receives Bob's detections; answers with the basis-match mask and keeps the matching bits. */
  sift(): void {
    const rec = this.record;
    if (!rec) throw new Bb84ProtocolError('detections for pulses Alice did not send');
    const { pulses, detected, bases } = decodeDetections(this.endpoint.receive());
    if (pulses !== rec.count) throw new Bb84ProtocolError(`detections for ${pulses} pulses, Alice sent ${rec.count}`);
    const match = new Uint8Array(detected.length);
    for (let k = 0; k < detected.length; k++) {
      const i = detected[k];
      const basis = getBit(rec.bases, i);
      if (basis === bases[k]) {
        match[k] = 1;
        this.sifted.push(getBit(rec.bits, i));
        this.siftedBases.push(basis);
      }
    }
    this.record = undefined;
    this.endpoint.send(encodeMatch(match));
  }

  beginBlock(n: number): void {
    this.block = { bits: this.sifted.shift(n), bases: this.siftedBases.shift(n) };
  }

  /** Sends a random sample of the block (positions and her values) and drops it from her key. */
  sendSample(size: number): void {
    const b = this.block!;
    const positions = choosePositions(this.rng, b.bits.length, size);
    b.positions = positions;
    b.key = withoutPositions(b.bits, positions);
    b.keyBases = withoutPositions(b.bases, positions);
    this.endpoint.send(encodeSample(b.bits.length, positions, pick(b.bits, positions)));
  }

  receiveSampleReport(): BasisTally {
    return decodeTally(Msg.SampleReport, this.endpoint.receive());
  }

  /** After an abort: reveals the rest of the (discarded) block so the QBER can be measured on all of it. */
  discloseRest(): void {
    this.endpoint.send(encodeDisclosure(this.block!.key!));
  }

  receiveDisclosureReport(): BasisTally {
    return decodeTally(Msg.AbortReport, this.endpoint.receive());
  }

  /** Picks a fresh Toeplitz seed, sends it with m, returns T·x. */
  amplify(reconciled: Uint8Array, m: number): Uint8Array {
    const seed = this.rng.bytes(Math.ceil((reconciled.length + m - 1) / 8));
    this.endpoint.send(encodePrivacySeed(m, seed));
    return toeplitzHash(seed, reconciled, m);
  }

  /** Drops all sifted bits (after a sifting exchange failed, the two buffers can no longer be trusted). */
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

  get randomSource(): RandomSource {
    return this.rng;
  }
}
