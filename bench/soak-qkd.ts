// `npm run soak:qkd [-- --seconds N]`: the long-run check for the QKD path. In one process: a two-site KME
// network on 127.0.0.1 (qtls mutual TLS, the fast CSPRNG link, short lifetimes so that 014 key expiry,
// 004 stream expiry and tombstone pruning all happen during the run), one qtls server with the hybrid
// ECDHE+QKD suites on ETSI 014 and one on ETSI 004, and for N seconds (default 60):
//   - clients completing QKD handshakes and echoing a little data, alternating 014 and 004;
//   - "aborted" clients: raw TCP, a real ClientHello offering a hybrid QKD suite with the qkd_sae
//     extension, then a close right after the ServerHelloDone — the server fetched a key (014 enc_keys /
//     004 GET_KEY) that the client's SAE never asks for, which only the key/stream lifetimes clean up.
// Every 5 s, after a forced GC: heap, connections, and both sites' store.tableCounts(). Exit 1 if the heap
// keeps growing (the bench/soak.ts criterion) or if a table's late-run maximum exceeds its early-run
// maximum (taken once the lifetimes have elapsed) by more than a fixed bound. Not part of `npm test`.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExtensionType } from '../lib/handshake/extensions.js';
import { HandshakeType } from '../lib/handshake/handshake-type.js';
import { connect, createServer, type Server } from '../lib/index.js';
import { encodeQkdSaeExtension } from '../lib/kx/qkd.js';
import { QkdApi } from '../lib/kx/qkd-options.js';
import { createKeyDelivery } from '../lib/qkd/delivery-factory.js';
import type { KeyDelivery } from '../lib/qkd/key-delivery.js';
import { DEFAULT_LIMITS } from '../lib/qkd/kme/limits.js';
import { startKmeNetwork } from '../lib/qkd/kme/network.js';
import type { TableCounts } from '../lib/qkd/kme/store.js';
import { qtlsConnect, qtlsServerFactory } from '../lib/qkd/qtls-transport.js';
import { HostileClient } from '../spec/hostile/helpers/hostile-client.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run soak:qkd does)');

type Api = '014' | '004';
const APIS: Api[] = ['014', '004'];
const SUITE = 'ECDHE-QKD-ECDSA-AES256-GCM-SHA384';
const SUITE_ID = 0xff11;
// Short lifetimes: 014 keys 5 s, 004 streams 10 s, tombstones maxReservationAgeS + 2 × skew = 12 s.
const LIMITS = { maxKeyAgeS: 5, maxStreamTtlS: 10, maxReservationAgeS: 10, maxClockSkewS: 1 };
const SETTLE_S = Math.max(LIMITS.maxKeyAgeS, LIMITS.maxStreamTtlS, LIMITS.maxReservationAgeS + 2 * LIMITS.maxClockSkewS) + 3;
const SAMPLE_MS = 5000;

const fx = (n: string) => readFileSync(new URL(`../fixtures/pki/${n}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qtls-soak-qkd-'));
const net = await startKmeNetwork({ host: '127.0.0.1', dataDir: dir, limits: LIMITS, tlsConnect: qtlsConnect, tlsServerFactory: qtlsServerFactory });
const deliveries: KeyDelivery[] = [];
function delivery(sae: 'sae-a' | 'sae-b', api: Api): KeyDelivery {
  const site = sae === 'sae-a' ? net.A : net.B;
  const f = net.pki.sae[sae]!;
  const d = createKeyDelivery({
    kme: api === '014' ? site.url : site.url004,
    api,
    saeCert: readFileSync(f.cert),
    saeKey: readFileSync(f.key),
    kmeCa: readFileSync(net.pki.ca),
  });
  deliveries.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
while (net.sites.A.storedKeyCount() < 64 || net.sites.B.storedKeyCount() < 64) await sleep(20);

const servers = {} as Record<Api, { server: Server; port: number }>;
const clientQkd = {} as Record<Api, { saeId: string; delivery: KeyDelivery }>;
for (const api of APIS) {
  const server = createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem'), ciphers: SUITE, qkd: { saeId: 'sae-a', delivery: delivery('sae-a', api) } }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers[api] = { server, port: (server.address() as AddressInfo).port };
  clientQkd[api] = { saeId: 'sae-b', delivery: delivery('sae-b', api) };
}

const stats = { ok: 0, aborted: 0, failed: 0, okBy: { '014': 0, '004': 0 }, abortedBy: { '014': 0, '004': 0 } };
const errors = new Map<string, number>();
function failed(e: unknown): void {
  stats.failed++;
  const m = (e as Error)?.message ?? String(e);
  errors.set(m, (errors.get(m) ?? 0) + 1);
}
const until = Date.now() + seconds * 1000;
const PAYLOAD = Buffer.from('QKD-keyed soak data '.repeat(16));

/** A full QKD handshake, a little data echoed, then close. */
async function goodConnection(api: Api): Promise<void> {
  const c = connect({ host: '127.0.0.1', port: servers[api].port, servername: 'localhost', ca: fx('ca.pem'), ciphers: SUITE, qkd: clientQkd[api] });
  try {
    await once(c, 'secureConnect');
    let got = 0;
    const echoed = new Promise<void>((resolve) => {
      c.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= PAYLOAD.length) resolve();
      });
    });
    c.write(PAYLOAD);
    await echoed;
    c.end();
    await once(c, 'close');
    stats.ok++;
    stats.okBy[api]++;
  } catch (e) {
    c.destroy();
    failed(e);
  }
}

/** ClientHello offering the hybrid suite with qkd_sae (sae-b, this API), read up to ServerHelloDone, close. */
async function abortedConnection(api: Api): Promise<void> {
  let h: HostileClient | undefined;
  try {
    h = await HostileClient.connect(servers[api].port);
    const sae: [number, Uint8Array] = [ExtensionType.qkd_sae, encodeQkdSaeExtension({ saeId: 'sae-b', apis: [api === '014' ? QkdApi.etsi014 : QkdApi.etsi004] })];
    h.sendClientHello({ suites: [SUITE_ID], extensions: (d) => [...d, sae] });
    await h.readServerHello();
    await h.conn.readHandshake(HandshakeType.certificate);
    await h.conn.readHandshake(HandshakeType.server_key_exchange); // carries the QKD key ID the server fetched
    await h.conn.readHandshake(HandshakeType.server_hello_done);
    h.conn.socket.destroy();
    stats.aborted++;
    stats.abortedBy[api]++;
  } catch (e) {
    h?.conn.socket.destroy();
    failed(e);
  }
}

async function loop(f: (api: Api) => Promise<void>, start: number): Promise<void> {
  for (let i = start; Date.now() < until; i++) await f(APIS[i % 2]!);
}

interface Sample {
  t: number;
  heap: number;
  A: Counts;
  B: Counts;
  connections: number;
}
const samples: Sample[] = [];
const t0 = Date.now();
/** tableCounts() plus `liveUnits`: units not yet spent (spent rows wait for the 30 s compaction). */
type Counts = TableCounts & { liveUnits: number };
function counts(site: 'A' | 'B'): Counts {
  const st = net.sites[site].store;
  const c = st.counts();
  const live = (['A', 'B'] as const).reduce((n, o) => n + c[o].ready + c[o].pending + c[o].reserved, 0);
  return { ...st.tableCounts(), liveUnits: live };
}
const fmt = (c: Counts) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');
function sample(): Sample {
  gc!();
  const s: Sample = {
    t: Math.round((Date.now() - t0) / 1000),
    heap: process.memoryUsage().heapUsed / 2 ** 20,
    A: counts('A'),
    B: counts('B'),
    connections: stats.ok + stats.aborted,
  };
  console.log(`t=${s.t}s heap ${s.heap.toFixed(1)} MiB, connections ok ${stats.ok} (014 ${stats.okBy['014']}, 004 ${stats.okBy['004']}), aborted ${stats.aborted}, failed ${stats.failed}`);
  console.log(`  A: ${fmt(s.A)}`);
  console.log(`  B: ${fmt(s.B)}`);
  return s;
}
const sampler = setInterval(() => samples.push(sample()), SAMPLE_MS);

// Two good-client loops and one aborting loop, each alternating 014 and 004.
await Promise.all([loop(goodConnection, 0), loop(goodConnection, 1), loop(abortedConnection, 0)]);
clearInterval(sampler);
samples.push(sample());

// After the clients stop, wait out the lifetimes: what is left is what nothing will ever clean up.
console.log(`clients stopped; waiting ${SETTLE_S} s for the lifetimes to elapse`);
await sleep(SETTLE_S * 1000);
const drained = sample();

for (const { server } of Object.values(servers)) server.close();
await Promise.all(deliveries.map((d) => d.close().catch(() => {})));
await net.close();
rmSync(dir, { recursive: true, force: true });

const problems: string[] = [];
if (errors.size > 0) {
  console.log('connection failures:');
  for (const [m, n] of errors) console.log(`  ${n}× ${m}`);
}
if (stats.ok === 0 || stats.aborted === 0) problems.push(`no ${stats.ok === 0 ? 'successful' : 'aborted'} connections at all`);

// Heap: the bench/soak.ts criterion — second half against the first.
const heaps = samples.map((s) => s.heap);
const half = Math.floor(heaps.length / 2);
const avg = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
const early = avg(heaps.slice(1, half));
const late = avg(heaps.slice(half));
console.log(`heap early ${early.toFixed(1)} MiB, late ${late.toFixed(1)} MiB (fails if late > 1.5 × early + 5)`);
if (heaps.length >= 4 && late > early * 1.5 + 5) problems.push(`heap keeps growing: early ${early.toFixed(1)} MiB, late ${late.toFixed(1)} MiB`);

// Tables: once every lifetime has elapsed (t ≥ SETTLE_S) the row counts must level off. Early window:
// samples from SETTLE_S to the middle of the run; late window: the second half. A leak of one row per
// connection would add (connections in the late window) rows; the bound below does not grow with them.
const steady = samples.filter((s) => s.t >= SETTLE_S);
const mid = samples[samples.length - 1]!.t / 2;
const earlyW = steady.filter((s) => s.t <= Math.max(mid, SETTLE_S + SAMPLE_MS / 1000));
const lateW = steady.filter((s) => s.t > Math.max(mid, SETTLE_S + SAMPLE_MS / 1000));
if (earlyW.length === 0 || lateW.length === 0) {
  console.log(`tables: run too short to compare (need more than ${SETTLE_S + SAMPLE_MS / 1000} s of samples after the lifetimes); only the heap was checked`);
} else {
  const conns = lateW[lateW.length - 1]!.connections - earlyW[earlyW.length - 1]!.connections;
  console.log(`tables (early window t=${earlyW[0]!.t}..${earlyW[earlyW.length - 1]!.t}s, late window t=${lateW[0]!.t}..${lateW[lateW.length - 1]!.t}s, ${conns} connections in between; fails if late max > early max + max(64, early max / 2)):`);
  for (const site of ['A', 'B'] as const) {
    for (const table of Object.keys(samples[0]![site]) as Array<keyof Counts>) {
      const e = Math.max(...earlyW.map((s) => s[site][table]));
      const l = Math.max(...lateW.map((s) => s[site][table]));
      const bound = e + Math.max(64, Math.floor(e / 2));
      const bad = l > bound;
      const perConn = conns > 0 ? ` (${((l - e) / conns).toFixed(3)} rows/connection)` : '';
      console.log(`  ${site}.${table}: early max ${e}, late max ${l}, after drain ${drained[site][table]}, bound ${bound}${bad ? ` EXCEEDED${perConn}` : ''}`);
      if (bad) problems.push(`site ${site} table ${table} keeps growing: early max ${e}, late max ${l}${perConn}`);
    }
  }
}
// After the clients stopped and every lifetime elapsed: no key, tx, delivery, stream, chunk or tombstone
// may be left, and the live units are at most the two pools (maxKeyCount each).
const POOLS = 2 * DEFAULT_LIMITS.maxKeyCount;
console.log(`after drain (t=${drained.t}s): fails unless txs, keys, deliveries, tombstones, streams, chunks are 0 and liveUnits <= ${POOLS}`);
for (const site of ['A', 'B'] as const) {
  const d = drained[site];
  const left = (['txs', 'keys', 'deliveries', 'tombstones', 'streams', 'chunks'] as const).filter((t) => d[t] !== 0);
  console.log(`  ${site}: ${fmt(d)}`);
  if (left.length > 0) problems.push(`site ${site}: rows left after the lifetimes elapsed: ${left.map((t) => `${t} ${d[t]}`).join(', ')}`);
  if (d.liveUnits > POOLS) problems.push(`site ${site}: ${d.liveUnits} live units after the drain (> ${POOLS})`);
}
console.log(`connections: ${stats.ok} ok (014 ${stats.okBy['014']}, 004 ${stats.okBy['004']}), ${stats.aborted} aborted (014 ${stats.abortedBy['014']}, 004 ${stats.abortedBy['004']}), ${stats.failed} failed`);
if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(1);
}
console.log('soak:qkd ok');
process.exit(0);
