// Bob's side of error correction for a block: he drives Cascade (asks, corrects), checks Alice's hash of
// each frame against his corrected frame, and reports per frame ok/failed plus the number of errors he
// corrected in each basis (public anyway: Cascade's searches reveal where the errors were).
import type { AuthenticatedEndpoint } from './classical-channel.js';
import { CascadeBobBatch } from './cascade-roles.js';
import type { CascadeVariant } from './cascade-variants.js';
import { Bb84ProtocolError } from './codec.js';
import { confirmTag, tagsEqual } from './confirm.js';
import type { FrameEntry } from './frames.js';
import { decodeTags, encodeResults, type ConfirmOutcome } from './messages.js';

export class BobReconciler {
  private batch: CascadeBobBatch | undefined;
  private batchFrames: number[] = [];
  private awaiting: number[] = [];
  private attempts = new Map<number, number>();
  /** Bob's key after correction (frames that end up discarded are left as they are). */
  readonly corrected: Uint8Array;

  constructor(
    private readonly endpoint: AuthenticatedEndpoint,
    key: Uint8Array,
    private readonly bases: Uint8Array,
    readonly frames: FrameEntry[],
    private readonly variant: CascadeVariant,
    private readonly qEstimate: number,
    private readonly maxRetries: number,
  ) {
    this.corrected = key.slice();
  }

  receiveStart(frameIndexes: number[]): void {
    this.batchFrames = frameIndexes;
    this.awaiting = frameIndexes.slice();
    const bits = frameIndexes.map((i) => this.corrected.subarray(this.frames[i].start, this.frames[i].start + this.frames[i].length));
    this.batch = new CascadeBobBatch(this.endpoint.receive(), bits, this.variant, this.qEstimate);
  }

  /** Sends the next CascadeQuery; returns true when it was the empty "finished" query. */
  sendQuery(): boolean {
    const { message, done } = this.batch!.query();
    this.endpoint.send(message);
    return done;
  }

  receiveAnswer(): void {
    this.batch!.absorb(this.endpoint.receive());
  }

  /** Checks Alice's tags, sends the verdicts; returns true when frames were reopened. */
  checkTags(): boolean {
    const tags = decodeTags(this.endpoint.receive());
    const batch = this.batch!;
    const results: ConfirmOutcome[] = [];
    const reopened: number[] = [];
    for (const t of tags) {
      const frame = this.batchFrames[t.frame];
      if (frame === undefined || !this.awaiting.includes(frame)) throw new Bb84ProtocolError(`tag for frame ${t.frame} not awaiting one`);
      const e = this.frames[frame];
      const cf = batch.frames[t.frame];
      e.confirmations++;
      e.disclosed = cf.disclosed;
      const ok = tagsEqual(confirmTag(t.key, cf.corrected), t.tag);
      if (ok) {
        let ez = 0;
        let ex = 0;
        const flips = cf.flips;
        for (let j = 0; j < flips.length; j++) {
          if (flips[j]) {
            if (this.bases[e.start + j]) ex++;
            else ez++;
          }
        }
        e.status = 'ok';
        e.errorsZ = ez;
        e.errorsX = ex;
        this.corrected.set(cf.corrected, e.start);
      } else {
        const tries = (this.attempts.get(frame) ?? 0) + 1;
        this.attempts.set(frame, tries);
        if (e.confirmations === 1) e.failedFirst = true;
        if (tries > this.maxRetries) e.status = 'discarded';
        else reopened.push(t.frame);
      }
      results.push({ frame: t.frame, ok, errorsZ: e.errorsZ, errorsX: e.errorsX });
    }
    this.endpoint.send(encodeResults(results));
    if (reopened.length > 0) batch.retry(reopened);
    this.awaiting = reopened.map((i) => this.batchFrames[i]);
    return reopened.length > 0;
  }
}
