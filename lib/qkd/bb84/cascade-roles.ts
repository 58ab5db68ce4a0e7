// The two roles of a batch of Cascade frames, each holding only its own side's data. They talk only through
// the encoded messages of cascade-messages.ts.
import { CascadeAliceFrame } from './cascade-alice.js';
import { CascadeBobFrame } from './cascade-bob.js';
import {
  SHUFFLE_SEED_BYTES, decodeAnswer, decodeQuery, decodeStart, encodeAnswer, encodeQuery, encodeStart, type QueryEntry,
} from './cascade-messages.js';
import { retryBlockSize, RETRY_PASSES, type CascadeVariant } from './cascade-variants.js';
import { Bb84ProtocolError } from './codec.js';
import type { RandomSource } from './prng.js';

export class CascadeAliceBatch {
  readonly frames: CascadeAliceFrame[];
  /** The CascadeStart message announcing the frames and their shuffle seeds. */
  readonly startMessage: Uint8Array;

  constructor(frames: Uint8Array[], rng: RandomSource) {
    const seeds = frames.map(() => rng.bytes(SHUFFLE_SEED_BYTES));
    this.frames = frames.map((bits, i) => new CascadeAliceFrame(bits, seeds[i]));
    this.startMessage = encodeStart(frames.map((f, i) => ({ length: f.length, seed: seeds[i] })));
  }

  /** Answers a CascadeQuery; returns null when the query says Cascade is finished. */
  answer(query: Uint8Array): Uint8Array | null {
    const entries = decodeQuery(query);
    if (entries.length === 0) return null;
    const bits: number[] = [];
    for (const e of entries) {
      const f = this.frames[e.frame];
      if (!f) throw new Bb84ProtocolError(`query for unknown frame ${e.frame}`);
      for (const it of e.items) f.answer(it, bits);
    }
    return encodeAnswer(bits);
  }
}

export class CascadeBobBatch {
  readonly frames: CascadeBobFrame[];
  private active: number[] = [];
  private asked: number[] = [];

  constructor(start: Uint8Array, bits: Uint8Array[], variant: CascadeVariant, qEstimate: number) {
    const announced = decodeStart(start);
    if (announced.length !== bits.length) throw new Bb84ProtocolError(`Alice announced ${announced.length} frames, Bob has ${bits.length}`);
    this.frames = bits.map((b, i) => {
      if (announced[i].length !== b.length) throw new Bb84ProtocolError(`frame ${i} length mismatch`);
      const sizes: number[] = [];
      for (let p = 0; p < variant.passes; p++) sizes.push(variant.blockSize(p, qEstimate, b.length));
      return new CascadeBobFrame(b, announced[i].seed, sizes, variant.subBlockReuse);
    });
    this.active = this.frames.map((_, i) => i);
  }

  /** Reopens frames whose confirmation failed, with RETRY_PASSES more passes on random halves. */
  retry(frameIndexes: number[]): void {
    for (const i of frameIndexes) {
      const f = this.frames[i];
      f.addPasses(RETRY_PASSES, retryBlockSize(f.length));
      if (!this.active.includes(i)) this.active.push(i);
    }
  }

  /** The next CascadeQuery; an empty query (no entries) tells Alice that Cascade is finished. */
  query(): { message: Uint8Array; done: boolean } {
    const entries: QueryEntry[] = [];
    const still: number[] = [];
    for (const i of this.active) {
      const items = this.frames[i].nextQuestions();
      if (items === null) continue;
      entries.push({ frame: i, items });
      still.push(i);
    }
    this.active = still;
    this.asked = still.slice();
    return { message: encodeQuery(entries), done: entries.length === 0 };
  }

  absorb(answer: Uint8Array): void {
    const bits = decodeAnswer(answer);
    let o = 0;
    for (const i of this.asked) o = this.frames[i].absorb(bits, o);
    if (o !== bits.length) throw new Bb84ProtocolError(`Cascade answer has ${bits.length} bits, expected ${o}`);
    this.asked = [];
  }
}
