// Alice's side of error correction for a block: Cascade batches (she answers parity questions) followed by a
// hash confirmation of each frame; a frame that fails is reopened for extra passes up to `maxRetries` times,
// then discarded.
import type { AuthenticatedEndpoint } from './classical-channel.js';
import { CascadeAliceBatch } from './cascade-roles.js';
import { CONFIRM_KEY_BYTES, confirmTag } from './confirm.js';
import type { FrameEntry } from './frames.js';
import { decodeResults, encodeTags } from './messages.js';
import type { RandomSource } from './prng.js';
import { Bb84ProtocolError } from './codec.js';

export class AliceReconciler {
  private batch: CascadeAliceBatch | undefined;
  private batchFrames: number[] = [];
  private awaiting: number[] = [];
  private attempts = new Map<number, number>();

  constructor(
    private readonly endpoint: AuthenticatedEndpoint,
    private readonly rng: RandomSource,
    private readonly key: Uint8Array,
    readonly frames: FrameEntry[],
    private readonly maxRetries: number,
  ) {}

  /** Sends CascadeStart for the given frames. */
  startBatch(frameIndexes: number[]): void {
    this.batchFrames = frameIndexes;
    this.awaiting = frameIndexes.slice();
    const bits = frameIndexes.map((i) => this.key.subarray(this.frames[i].start, this.frames[i].start + this.frames[i].length));
    this.batch = new CascadeAliceBatch(bits, this.rng);
    this.endpoint.send(this.batch.startMessage);
  }

  /** Receives a CascadeQuery; answers it and returns true, or returns false when Bob says he is done. */
  answerQuery(): boolean {
    if (!this.batch) throw new Bb84ProtocolError('no Cascade batch open');
    const reply = this.batch.answer(this.endpoint.receive());
    if (reply === null) return false;
    this.endpoint.send(reply);
    return true;
  }

  /** Sends the hash confirmation of every frame awaiting one. */
  sendTags(): void {
    const entries = this.awaiting.map((frame) => {
      const e = this.frames[frame];
      e.confirmations++;
      const key = this.rng.bytes(CONFIRM_KEY_BYTES);
      return { frame: this.batchFrames.indexOf(frame), key, tag: confirmTag(key, this.key.subarray(e.start, e.start + e.length)) };
    });
    this.endpoint.send(encodeTags(entries));
  }

  /** Receives Bob's verdicts; returns true when some frames were reopened (Cascade continues). */
  receiveResults(): boolean {
    const results = decodeResults(this.endpoint.receive());
    const batch = this.batch!;
    const reopened: number[] = [];
    for (const r of results) {
      const frame = this.batchFrames[r.frame];
      if (frame === undefined || !this.awaiting.includes(frame)) throw new Bb84ProtocolError(`verdict for frame ${r.frame} not awaiting one`);
      const e = this.frames[frame];
      e.disclosed = batch.frames[r.frame].disclosed;
      if (r.ok) {
        e.status = 'ok';
        e.errorsZ = r.errorsZ;
        e.errorsX = r.errorsX;
        continue;
      }
      const tries = (this.attempts.get(frame) ?? 0) + 1;
      this.attempts.set(frame, tries);
      if (e.confirmations === 1) e.failedFirst = true;
      if (tries > this.maxRetries) e.status = 'discarded';
      else reopened.push(frame);
    }
    this.awaiting = reopened;
    return reopened.length > 0;
  }
}
