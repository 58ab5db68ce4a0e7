// Turn-taking of error correction between Alice's and Bob's reconcilers: for each batch of frames, Cascade
// round trips until Bob is done, then hash confirmation; reopened frames go round again.
import type { AliceReconciler } from './alice-reconcile.js';
import type { BobReconciler } from './bob-reconcile.js';
import { Bb84ProtocolError } from './codec.js';

export function runReconciliation(ar: AliceReconciler, br: BobReconciler, frameCount: number, parallelFrames: number): void {
  for (let first = 0; first < frameCount; first += parallelFrames) {
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
