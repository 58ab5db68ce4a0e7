// Turn-taking of error correction between Alice's and Bob's reconcilers: for each batch of frames, Cascade
// round trips until Bob is done, then hash confirmation; reopened frames go round again.
import type { AliceReconciler } from './alice-reconcile.js';
import type { BobReconciler } from './bob-reconcile.js';
import { Bb84ProtocolError } from './codec.js';

export function runReconciliation(ar: AliceReconciler, br: BobReconciler, frameCount: number, parallelFrames: number): void {
  const steps = reconciliationSteps(ar, br, frameCount, parallelFrames);
  while (!steps.next().done);
}

/** The same, pausing (yield) after each batch so that an async caller can let other work run. */
export function* reconciliationSteps(ar: AliceReconciler, br: BobReconciler, frameCount: number, parallelFrames: number): Generator<void, void> {
  for (let first = 0; first < frameCount; first += parallelFrames) {
    if (first > 0) yield;
    const idx: number[] = [];
    for (let i = first; i < Math.min(frameCount, first + parallelFrames); i++) idx.push(i);
    ar.startBatch(idx);
    br.receiveStart(idx);
    for (;;) {
      br.sendQuery();
      if (ar.answerQuery()) {
        br.receiveAnswer();
        continue;
      }
      ar.sendTags();
      const reopenedB = br.checkTags();
      const reopenedA = ar.receiveResults();
      if (reopenedA !== reopenedB) throw new Bb84ProtocolError('Alice and Bob disagree on which frames to retry');
      if (!reopenedA) break;
    }
  }
}
