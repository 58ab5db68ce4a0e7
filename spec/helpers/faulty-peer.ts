// A KME-to-KME peer link that fails on request, for the reservation-protocol specs: a whole site down,
// a request dropped before it arrives, or its reply lost after the peer acted on it.
import { PeerUnreachableError, type PeerApi } from '../../lib/qkd/kme/peer.js';

export type PeerOp = keyof PeerApi;

export interface FaultPlan {
  down?: boolean;
  drop?: Set<PeerOp>;
  loseReply?: Set<PeerOp>;
}

/** `inner` with the faults `plan` names at the time of each call (the plan may change between calls). */
export function faultyPeer(inner: PeerApi, plan: FaultPlan): PeerApi {
  const wrap =
    <K extends PeerOp>(op: K) =>
    async (...args: Parameters<PeerApi[K]>): Promise<Awaited<ReturnType<PeerApi[K]>>> => {
      if (plan.down || plan.drop?.has(op)) throw new PeerUnreachableError(`${op} dropped`);
      const r = await (inner[op] as (...a: unknown[]) => Promise<Awaited<ReturnType<PeerApi[K]>>>)(...args);
      if (plan.loseReply?.has(op)) throw new PeerUnreachableError(`${op} reply lost`);
      return r;
    };
  return {
    storeUnits: wrap('storeUnits'),
    reserve: wrap('reserve'),
    abort: wrap('abort'),
    confirm: wrap('confirm'),
    resolve: wrap('resolve'),
    announceStream: wrap('announceStream'),
    allocateChunk: wrap('allocateChunk'),
  };
}
