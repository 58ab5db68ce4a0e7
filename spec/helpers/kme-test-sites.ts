// Two KME sites in one process for the reservation-protocol specs, linked by a peer connection that fails
// on request: a whole site down, a request dropped before it arrives, or its reply lost after the peer
// acted on it.
import { join } from 'node:path';
import type { KmeLimits } from '../../lib/qkd/kme/limits.js';
import { inProcessPeer, PeerUnreachableError, type PeerApi, type PeerHandlers } from '../../lib/qkd/kme/peer.js';
import { KmeSite } from '../../lib/qkd/kme/site.js';
import { KeyStore, type Site } from '../../lib/qkd/kme/store.js';

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

export interface TestSiteOptions {
  /** Folder of the sites' SQLite files (<dir>/A.db, <dir>/B.db). */
  dir: string;
  limits: KmeLimits;
  /** The live sites by name: a site's peer calls reach whichever object stands there at call time. */
  sites: Partial<Record<Site, KmeSite>>;
  /** Per site, the faults on its calls to the other site. */
  plans: Record<Site, FaultPlan>;
  /** The site's clock (default Date.now). */
  now?: (site: Site) => number;
}

/**
 * (Re)start site A or B (SAE sae-a / sae-b) over its store, reconciling only when a test says so, its
 * calls to the other site through faultyPeer; registers it in o.sites.
 */
export function bootTestSite(site: Site, o: TestSiteOptions): KmeSite {
  const s = new KmeSite({
    site,
    kmeId: site === 'A' ? 'kme-a' : 'kme-b',
    peerKmeId: site === 'A' ? 'kme-b' : 'kme-a',
    localSaes: [site === 'A' ? 'sae-a' : 'sae-b'],
    peerSaes: [site === 'A' ? 'sae-b' : 'sae-a'],
    store: new KeyStore(join(o.dir, `${site}.db`), site, 32),
    limits: o.limits,
    reconcileMs: 3_600_000, // reconcile only when the test says so
    resolveAfterMs: 0,
    ...(o.now ? { now: () => o.now!(site) } : {}),
  });
  const other: Site = site === 'A' ? 'B' : 'A';
  s.peer = faultyPeer(inProcessPeer(site, () => o.sites[other] as PeerHandlers | undefined), o.plans[site]);
  o.sites[site] = s;
  return s;
}
