// `qtls kme`: run the simulated KME network (both sites in this process), or one site of it with the
// peer site's URL (one process per site). The main CLI calls runKmeCommand with the arguments after "kme".
import { startKmeNetwork, startKmeSite, type RunningKmeNetwork, type RunningKmeSite, type SiteInfo } from './network.js';
import type { KmeSite } from './site.js';
import type { PkiFiles } from './pki.js';
import type { IdentitySource } from './listener.js';
import { Bb84Link } from '../bb84/link.js';
import type { Bb84Params } from '../bb84/params.js';
import { CsprngLink } from '../csprng-link.js';
import type { LinkStats, QkdLink } from '../link.js';

export interface KmeCommandIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Stop when aborted; default: on SIGINT / SIGTERM of this process. */
  signal?: AbortSignal;
}

export const KME_USAGE = `usage: qtls kme --data DIR [options]

Runs two simulated KME sites, A and B, that share keys from a QKD link: the simulated BB84 link
(lib/qkd/bb84; --link csprng swaps in a CSPRNG stand-in; both are flagged "simulated" in every status). Each site serves ETSI GS QKD 014 (HTTPS, mutual TLS) and ETSI GS QKD 004
(TLS) on its own ports. First start creates DIR/pki/ (CA, KME and SAE certificates) and the key stores
DIR/kme-a.db, DIR/kme-b.db; later starts reuse them.

  --data DIR            data directory (required)
  --host H              listen address (default 127.0.0.1)
  --port-a P            KME A ETSI 014 port (default 8441; 0 = any free port)
  --port-b P            KME B ETSI 014 port (default 8442)
  --port-004-a P        KME A ETSI 004 port (default 25575)
  --port-004-b P        KME B ETSI 004 port (default 25576)
  --sae-a ID            SAE attached to KME A (repeatable; default sae-a)
  --sae-b ID            SAE attached to KME B (repeatable; default sae-b)
  --max-keys N          max_key_count: keys of key_size each site keeps ready (default 4096)
  --stream-ttl S        ETSI 004: longest key stream lifetime, the TTL of a stream opened with TTL 0
                        (default 3600); a stream is closed when it runs out, its rows then purged
  --max-streams N       ETSI 004: key streams one application may have open at a site (default 1024)
  --max-key-age S       ETSI 014: lifetime of a key at a site (default 3600); copies a slave has not
                        fetched by then are erased, dec_keys then answers 400 (not found)
  --max-clock-skew S    most the two sites' clocks may differ (default 60); tombstones of aborted
                        reservations are kept 600 + 2 x S seconds, older reservations refused
  --identity cn|san-uri where an SAE's ID is read from its certificate (default cn)
  --status-interval S   print pool levels every S seconds (default 10; 0 = never; not with --json)
  --json                print one JSON line with every URL and file path once ready, nothing else
  --link bb84|csprng    what fills the pools (default bb84)
  --distance KM         BB84: fibre length (default 25)
  --qber-intrinsic P    BB84: misalignment error rate (default 0.02)
  --eve FRACTION        BB84: fraction of pulses an eavesdropper intercepts and resends (default 0)
  --cascade VARIANT     BB84: original | yanetal | option7 | option8 (default yanetal)
One site per process:
  --site a|b            run only this site ...
  --peer URL            ... whose peer site's ETSI 014 URL is this (https://host:port); site a drives the link
`;

interface Parsed {
  data: string;
  host: string;
  portA: number;
  portB: number;
  port004A: number;
  port004B: number;
  saeA: string[];
  saeB: string[];
  maxKeys?: number;
  streamTtl?: number;
  maxStreams?: number;
  maxKeyAge?: number;
  maxClockSkew?: number;
  identity: IdentitySource;
  statusInterval: number;
  json: boolean;
  site?: 'A' | 'B';
  peer?: string;
  reconcileMs?: number;
  peerDelayMs?: number;
  link: 'bb84' | 'csprng';
  bb84: Partial<Bb84Params>;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Parsed | 'help' {
  const p: Parsed = {
    data: '',
    host: '127.0.0.1',
    portA: 8441,
    portB: 8442,
    port004A: 25575,
    port004B: 25576,
    saeA: [],
    saeB: [],
    identity: 'cn',
    statusInterval: 10,
    json: false,
    link: 'bb84',
    bb84: {},
  };
  const fraction = (flag: string, v: string, max: number): number => {
    const n = Number(v);
    if (!/^\d*\.?\d+(e-?\d+)?$/i.test(v) || !(n >= 0 && n <= max)) throw new UsageError(`${flag}: expected a number 0..${max}, got ${v}`);
    return n;
  };
  const num = (flag: string, v: string, max: number): number => {
    if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`${flag}: expected an integer 0..${max}, got ${v}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--json') {
      p.json = true;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (a.startsWith('--') && eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--data':
        p.data = value();
        break;
      case '--host':
        p.host = value();
        break;
      case '--port-a':
        p.portA = num(flag, value(), 65535);
        break;
      case '--port-b':
        p.portB = num(flag, value(), 65535);
        break;
      case '--port-004-a':
        p.port004A = num(flag, value(), 65535);
        break;
      case '--port-004-b':
        p.port004B = num(flag, value(), 65535);
        break;
      case '--sae-a':
        p.saeA.push(value());
        break;
      case '--sae-b':
        p.saeB.push(value());
        break;
      case '--max-keys':
        p.maxKeys = num(flag, value(), 10_000_000);
        break;
      case '--stream-ttl':
        p.streamTtl = num(flag, value(), 0xffffffff);
        if (p.streamTtl < 1) throw new UsageError('--stream-ttl: at least 1 second');
        break;
      case '--max-streams':
        p.maxStreams = num(flag, value(), 10_000_000);
        if (p.maxStreams < 1) throw new UsageError('--max-streams: at least 1');
        break;
      case '--max-key-age':
        p.maxKeyAge = num(flag, value(), 366 * 86_400);
        if (p.maxKeyAge < 1) throw new UsageError('--max-key-age: at least 1 second');
        break;
      case '--max-clock-skew':
        p.maxClockSkew = num(flag, value(), 366 * 86_400);
        break;
      case '--identity': {
        const v = value();
        if (v !== 'cn' && v !== 'san-uri') throw new UsageError('--identity: cn or san-uri');
        p.identity = v;
        break;
      }
      case '--status-interval':
        p.statusInterval = num(flag, value(), 86_400);
        break;
      case '--site': {
        const v = value().toLowerCase();
        if (v !== 'a' && v !== 'b') throw new UsageError('--site: a or b');
        p.site = v === 'a' ? 'A' : 'B';
        break;
      }
      case '--peer':
        p.peer = value();
        break;
      case '--link': {
        const v = value();
        if (v !== 'bb84' && v !== 'csprng') throw new UsageError('--link: bb84 or csprng');
        p.link = v;
        break;
      }
      case '--distance':
        p.bb84.distanceKm = fraction(flag, value(), 1000);
        break;
      case '--qber-intrinsic':
        p.bb84.misalignment = fraction(flag, value(), 0.5);
        break;
      case '--eve':
        p.bb84.eveFraction = fraction(flag, value(), 1);
        break;
      case '--cascade':
        p.bb84.cascade = value() as Bb84Params['cascade'];
        break;
      // testing aids, not in the usage text
      case '--reconcile-ms':
        p.reconcileMs = num(flag, value(), 600_000);
        break;
      case '--peer-delay-ms':
        p.peerDelayMs = num(flag, value(), 10_000);
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (!p.data) throw new UsageError('--data DIR is required');
  if ((p.site === undefined) !== (p.peer === undefined)) throw new UsageError('--site and --peer go together');
  if (p.peer !== undefined && !/^https:\/\/[^/]+$/.test(p.peer.replace(/\/$/, ''))) throw new UsageError('--peer: https://host:port');
  return p;
}

export async function runKmeCommand(argv: string[], io: KmeCommandIo): Promise<number> {
  let p: Parsed | 'help';
  try {
    p = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`qtls kme: ${e.message}\n\n${KME_USAGE}`);
    return 2;
  }
  if (p === 'help') {
    io.stdout.write(KME_USAGE);
    return 0;
  }
  let link: QkdLink;
  try {
    link = p.link === 'csprng' ? new CsprngLink() : new Bb84Link(p.bb84);
  } catch (e) {
    io.stderr.write(`qtls kme: ${(e as Error).message}\n\n${KME_USAGE}`);
    return 2;
  }
  const log = p.json ? (line: string) => io.stderr.write(`${line}\n`) : (line: string) => io.stderr.write(`kme: ${line}\n`);
  const common = {
    dataDir: p.data,
    host: p.host,
    identity: p.identity,
    saeA: p.saeA.length ? p.saeA : 'sae-a',
    saeB: p.saeB.length ? p.saeB : 'sae-b',
    limits: {
      ...(p.maxKeys === undefined ? {} : { maxKeyCount: p.maxKeys }),
      ...(p.streamTtl === undefined ? {} : { maxStreamTtlS: p.streamTtl }),
      ...(p.maxStreams === undefined ? {} : { maxOpenStreamsPerApp: p.maxStreams }),
      ...(p.maxKeyAge === undefined ? {} : { maxKeyAgeS: p.maxKeyAge }),
      ...(p.maxClockSkew === undefined ? {} : { maxClockSkewS: p.maxClockSkew }),
    },
    ...(p.reconcileMs === undefined ? {} : { reconcileMs: p.reconcileMs }),
    log,
  };

  let running: RunningKmeNetwork | RunningKmeSite;
  try {
    running =
      p.site === undefined
        ? await startKmeNetwork({
            ...common,
            portA: p.portA,
            portB: p.portB,
            port004A: p.port004A,
            port004B: p.port004B,
            link,
            ...(p.peerDelayMs === undefined ? {} : { peerDelayMs: p.peerDelayMs }),
          })
        : await startKmeSite({
            ...common,
            site: p.site,
            peerUrl: p.peer!.replace(/\/$/, ''),
            port: p.site === 'A' ? p.portA : p.portB,
            port004: p.site === 'A' ? p.port004A : p.port004B,
            link,
          });
  } catch (e) {
    io.stderr.write(`qtls kme: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const infos: SiteInfo[] = 'info' in running ? [running.info] : [running.A, running.B];
  const sites: KmeSite[] = 'info' in running ? [running.site] : [running.sites.A, running.sites.B];

  if (p.json) {
    io.stdout.write(`${JSON.stringify(readyLine(running.dataDir, running.pki, infos, p.peer))}\n`);
  } else {
    io.stdout.write(banner(running.dataDir, running.pki, infos, p.peer));
    io.stdout.write(poolLine(sites));
  }
  let ticker: NodeJS.Timeout | undefined;
  if (!p.json && p.statusInterval > 0) ticker = setInterval(() => io.stdout.write(poolLine(sites)), p.statusInterval * 1000);

  await waitForStop(io.signal);
  if (ticker) clearInterval(ticker);
  await running.close();
  if (!p.json) io.stdout.write('qtls kme: stopped\n');
  return 0;
}

function readyLine(dataDir: string, pki: PkiFiles, infos: SiteInfo[], peer: string | undefined): unknown {
  return {
    ready: true,
    mode: peer === undefined ? 'network' : 'site',
    dataDir,
    kmes: infos.map((i) => ({ site: i.site, kmeId: i.kmeId, api014: i.url, api004: i.url004, port: i.port, port004: i.port004, db: i.db, saes: i.saes })),
    ...(peer === undefined ? {} : { peer }),
    pki: { dir: pki.dir, ca: pki.ca, kmes: pki.kme, saes: pki.sae },
  };
}

function banner(dataDir: string, pki: PkiFiles, infos: SiteInfo[], peer: string | undefined): string {
  const lines = [`qtls kme: data directory ${dataDir}`];
  for (const i of infos) {
    lines.push(`  KME ${i.site} (${i.kmeId}): ETSI 014 ${i.url}  ETSI 004 ${i.url004}  SAEs ${i.saes.join(', ')}  store ${i.db}`);
  }
  if (peer) lines.push(`  peer site: ${peer}`);
  lines.push(`  PKI ${pki.dir}: CA ${pki.ca}`);
  for (const [id, f] of Object.entries(pki.sae)) lines.push(`    SAE ${id}: ${f.cert} ${f.key}`);
  lines.push('  QKD link: see the pool lines; every 014 status reports it under status_extension.qkd_link');
  const a = infos[0]!;
  const slave = Object.keys(pki.sae).find((s) => !a.saes.includes(s));
  const master = a.saes[0]!;
  if (slave) {
    lines.push(
      `  try: curl --cert ${pki.sae[master]!.cert} --key ${pki.sae[master]!.key} --cacert ${pki.ca} ${a.url}/api/v1/keys/${slave}/enc_keys`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function poolLine(sites: KmeSite[]): string {
  const parts = sites.map((s) => {
    try {
      const c = s.store.counts();
      return `${s.kmeId} ${c[s.site].ready}/${s.limits.maxKeyCount} ready (${c[s.site].reserved} reserved)`;
    } catch {
      return `${s.kmeId} closed`;
    }
  });
  const link = sites.find((s) => s.linkStats)?.linkStats;
  const l = link ? `; link ${describeLinkStats(link)}` : '';
  return `pool: ${parts.join(', ')}${l}\n`;
}

/** One line of live link figures (BB84 adds the pipeline: pulses, sifted, QBER, f, key rate). */
export function describeLinkStats(s: LinkStats): string {
  const base = `${s.kind}${s.simulated ? ' (simulated)' : ''}: ${s.blocks} blocks, ${s.abortedBlocks} aborted, ${s.finalBits} final bits`;
  if (typeof s.qber !== 'number' || s.blocks === 0) return base;
  const pct = (x: unknown) => `${(Number(x) * 100).toFixed(2)}%`;
  return (
    `${base}; ${String(s.pulses)} pulses -> ${String(s.detected)} detected -> ${String(s.sifted)} sifted, QBER ${pct(s.qber)},` +
    ` f=${Number(s.efficiency).toFixed(3)} (${String(s.cascadeVariant)}), ${Number(s.secretKeyRateBitsPerPulse).toExponential(2)} bits/pulse` +
    (s.lastAbortReason ? `; last abort: ${s.lastAbortReason}` : '')
  );
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    if (signal.aborted) return Promise.resolve();
    return new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));
  }
  return new Promise((r) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      r();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
