// Starting KMEs: both sites in one process (`startKmeNetwork`, the sites talk by direct call), or one
// site per process (`startKmeSite` with the peer's URL, the sites talk HTTPS with mutual TLS). Either
// way each site has its own SQLite store (DIR/kme-a.db, DIR/kme-b.db), its ETSI 014 HTTPS listener and
// its ETSI 004 listener; the PKI lives in DIR/pki/ (pki.ts). Site A drives the QKD link and fills both pools.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsprngLink } from '../csprng-link.js';
import type { QkdLink } from '../link.js';
import { startEtsi004Server } from '../etsi004/server.js';
import { defaultTlsConnect, defaultTlsServerFactory, type TlsConnect, type TlsServerFactory } from '../etsi014/tls-seam.js';
import { api014Handler } from './api014.js';
import { KmeBackend004 } from './backend004.js';
import { Filler } from './filler.js';
import { resolveLimits, type KmeLimits } from './limits.js';
import { startHttpsListener, type IdentitySource, type RunningListener } from './listener.js';
import { inProcessPeer, type PeerApi } from './peer.js';
import { httpsPeer, peerRoutes } from './peer-https.js';
import { createPki, type PkiFiles } from './pki.js';
import { KmeSite } from './site.js';
import { KeyStore, otherSite, type Site } from './store.js';

/** The two TLS injection points (node:tls by default; see etsi014/tls-seam.ts). */
export interface TlsFactories {
  tlsServerFactory?: TlsServerFactory;
  tlsConnect?: TlsConnect;
}

interface CommonOptions extends TlsFactories {
  dataDir: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  limits?: Partial<KmeLimits>;
  /** Where the SAE ID comes from in a client certificate; default 'cn'. */
  identity?: IdentitySource;
  /** Names put in the KME certificates; default localhost, 127.0.0.1 and `host`. */
  certHosts?: string[];
  reconcileMs?: number;
  /**
   * The sites' clock for lifetimes and ages (004 stream TTLs, 014 key lifetimes, reservation timestamps,
   * tombstones); default Date.now. Tests inject one to expire things at will.
   */
  now?: () => number;
  log?: (line: string) => void;
}

export interface KmeNetworkOptions extends CommonOptions {
  portA?: number;
  portB?: number;
  port004A?: number;
  port004B?: number;
  /** SAEs attached to KME A / KME B; defaults 'sae-a' / 'sae-b'. */
  saeA?: string | string[];
  saeB?: string | string[];
  /** The link filling both pools; default a CsprngLink (simulated, says so in the status). */
  link?: QkdLink;
  /** Testing aid: delay each call between the two in-process sites (crash tests widen their windows). */
  peerDelayMs?: number;
}

export interface KmeSiteOptions extends CommonOptions {
  site: Site;
  /** The peer site's 014 base URL, https://host:port */
  peerUrl: string;
  port?: number;
  port004?: number;
  /** SAEs attached to KME A / KME B (both are needed: slaves are checked at the master's KME). */
  saeA?: string | string[];
  saeB?: string | string[];
  /** Site A drives the link (default CsprngLink); pass null to run none. Ignored on site B. */
  link?: QkdLink | null;
}

export interface SiteInfo {
  site: Site;
  kmeId: string;
  /** ETSI 014 base URL (the API is under /api/v1/keys) */
  url: string;
  port: number;
  /** ETSI 004 endpoint, tls://host:port */
  url004: string;
  port004: number;
  db: string;
  saes: string[];
}

export interface RunningKmeNetwork {
  dataDir: string;
  pki: PkiFiles;
  A: SiteInfo;
  B: SiteInfo;
  /** The live sites (pool levels, store) — for tests and the CLI. */
  sites: Record<Site, KmeSite>;
  close(): Promise<void>;
}

export interface RunningKmeSite {
  dataDir: string;
  pki: PkiFiles;
  info: SiteInfo;
  site: KmeSite;
  close(): Promise<void>;
}

export const KME_IDS: Record<Site, string> = { A: 'kme-a', B: 'kme-b' };

const list = (v: string | string[] | undefined, d: string): string[] => (v === undefined ? [d] : Array.isArray(v) ? v : [v]);

function pkiFor(o: CommonOptions, saes: Record<Site, string[]>): PkiFiles {
  const host = o.host ?? '127.0.0.1';
  const hosts = o.certHosts ?? [...new Set(['localhost', '127.0.0.1', ...(host === '0.0.0.0' || host === '::' ? [] : [host])])];
  return createPki(o.dataDir, {
    kmes: [
      { id: KME_IDS.A, hosts },
      { id: KME_IDS.B, hosts },
    ],
    saes: [...saes.A, ...saes.B],
  });
}

function openSite(o: CommonOptions, site: Site, saes: Record<Site, string[]>, limits: KmeLimits): KmeSite {
  const db = join(o.dataDir, `${KME_IDS[site].toLowerCase()}.db`);
  const store = new KeyStore(db, site, limits.keySize / 8);
  return new KmeSite({
    site,
    kmeId: KME_IDS[site],
    peerKmeId: KME_IDS[otherSite(site)],
    localSaes: saes[site],
    peerSaes: saes[otherSite(site)],
    store,
    limits,
    ...(o.reconcileMs === undefined ? {} : { reconcileMs: o.reconcileMs }),
    ...(o.now ? { now: o.now } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
}

async function serveSite(
  o: CommonOptions,
  site: KmeSite,
  pki: PkiFiles,
  port: number,
  port004: number,
): Promise<{ info: SiteInfo; listeners: RunningListener[] }> {
  const host = o.host ?? '127.0.0.1';
  const mat = {
    cert: readFileSync(pki.kme[site.kmeId]!.cert),
    key: readFileSync(pki.kme[site.kmeId]!.key),
    ca: readFileSync(pki.ca),
  };
  const tlsServerFactory = o.tlsServerFactory ?? defaultTlsServerFactory;
  const identity = o.identity ?? 'cn';
  const http = await startHttpsListener(
    { host, port, ...mat, tlsServerFactory },
    api014Handler({ site, identity, fallback: peerRoutes(site, site.peerKmeId, otherSite(site.site)) }),
  );
  let l004;
  try {
    l004 = await startEtsi004Server({
      host,
      port: port004,
      ...mat,
      tlsServerFactory,
      identity,
      backend: new KmeBackend004(site),
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (e) {
    await http.close();
    throw e;
  }
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return {
    info: {
      site: site.site,
      kmeId: site.kmeId,
      url: `https://${shown}:${http.port}`,
      port: http.port,
      url004: `tls://${shown}:${l004.port}`,
      port004: l004.port,
      db: site.store.path,
      saes: [...site.localSaes],
    },
    listeners: [http, l004],
  };
}

/** What both ways of starting share: the data directory, the SAE assignment, limits and the PKI. */
function prepare<T extends CommonOptions & { saeA?: string | string[]; saeB?: string | string[] }>(o: T) {
  const dataDir = resolve(o.dataDir);
  const opts = { ...o, dataDir };
  const saes: Record<Site, string[]> = { A: list(o.saeA, 'sae-a'), B: list(o.saeB, 'sae-b') };
  checkSaes(saes);
  const limits = resolveLimits(o.limits);
  return { dataDir, opts, saes, limits, pki: pkiFor(opts, saes) };
}

/** Site A drives the link; the filler stores what it produces at both sites. */
function startFiller(site: KmeSite, link: QkdLink | undefined, log: ((line: string) => void) | undefined): Filler {
  const filler = new Filler(site, link ?? new CsprngLink(), log ? { log } : {});
  filler.start();
  return filler;
}

/** Both sites in this process. */
export async function startKmeNetwork(o: KmeNetworkOptions): Promise<RunningKmeNetwork> {
  const { dataDir, opts, saes, limits, pki } = prepare(o);
  const sites: Record<Site, KmeSite> = { A: openSite(opts, 'A', saes, limits), B: openSite(opts, 'B', saes, limits) };
  const listeners: RunningListener[] = [];
  let filler: Filler | undefined;
  const close = async (): Promise<void> => {
    await filler?.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all([sites.A.close(), sites.B.close()]);
  };
  try {
    const a = await serveSite(opts, sites.A, pki, o.portA ?? 0, o.port004A ?? 0);
    listeners.push(...a.listeners);
    const b = await serveSite(opts, sites.B, pki, o.portB ?? 0, o.port004B ?? 0);
    listeners.push(...b.listeners);
    const handlers = (s: Site) => () => (sites[s].closed ? undefined : sites[s]);
    sites.A.start(inProcessPeer('A', handlers('B'), o.peerDelayMs));
    sites.B.start(inProcessPeer('B', handlers('A'), o.peerDelayMs));
    filler = startFiller(sites.A, o.link, o.log);
    return { dataDir, pki, A: a.info, B: b.info, sites, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** One site in this process; its peer runs elsewhere at `peerUrl`. */
export async function startKmeSite(o: KmeSiteOptions): Promise<RunningKmeSite> {
  const { dataDir, opts, saes, limits, pki } = prepare(o);
  const site = openSite(opts, o.site, saes, limits);
  let peer: (PeerApi & { close(): void }) | undefined;
  let filler: Filler | undefined;
  let listeners: RunningListener[] = [];
  const close = async (): Promise<void> => {
    await filler?.stop();
    await Promise.all(listeners.map((l) => l.close()));
    peer?.close();
    await site.close();
  };
  try {
    const served = await serveSite(opts, site, pki, o.port ?? 0, o.port004 ?? 0);
    listeners = served.listeners;
    peer = httpsPeer({
      url: o.peerUrl,
      from: o.site,
      peerKmeId: site.peerKmeId,
      cert: readFileSync(pki.kme[site.kmeId]!.cert),
      key: readFileSync(pki.kme[site.kmeId]!.key),
      ca: readFileSync(pki.ca),
      tlsConnect: o.tlsConnect ?? defaultTlsConnect,
    });
    site.start(peer);
    if (o.site === 'A' && o.link !== null) filler = startFiller(site, o.link, o.log);
    return { dataDir, pki, info: served.info, site, close };
  } catch (e) {
    await close();
    throw e;
  }
}

function checkSaes(saes: Record<Site, string[]>): void {
  const all = [...saes.A, ...saes.B];
  if (saes.A.length === 0 || saes.B.length === 0) throw new Error('each KME needs at least one SAE');
  if (new Set(all).size !== all.length) throw new Error('an SAE ID is attached to both KMEs or repeated');
  if (all.some((s) => s === KME_IDS.A || s === KME_IDS.B)) throw new Error('an SAE ID equals a KME ID');
}
