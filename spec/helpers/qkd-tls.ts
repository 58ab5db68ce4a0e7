// Helpers for the QKD-in-TLS specs (spec/qkd-tls): a KME network on qtls mutual TLS in a temp dir,
// KeyDeliveries for its SAEs over ETSI 014 or 004, delivery wrappers that misbehave on purpose, a qtls
// client run that echoes data, and the clear alert records a wire tap saw.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { TLSError, connect, type ClientOptions, type TLSSocket } from '../../lib/index.js';
import type { DeliveredKey, KeyDelivery, KeyRequestOptions } from '../../lib/qkd/key-delivery.js';
import { createKeyDelivery } from '../../lib/qkd/delivery-factory.js';
import { startKmeNetwork, type KmeNetworkOptions, type RunningKmeNetwork } from '../../lib/qkd/kme/network.js';
import type { LinkBlock, LinkStats, QkdLink } from '../../lib/qkd/link.js';
import { qtlsConnect, qtlsServerFactory } from '../../lib/qkd/qtls-transport.js';
import { randomBytes } from 'node:crypto';
import { ca } from './fixtures.js';
import { isCI } from './openssl.js';
import { LOCALHOST } from './ports.js';

export type Api = '014' | '004';
export const APIS: readonly Api[] = ['014', '004'];

/** key_ID formats: ETSI 014 a UUID (v4), ETSI 004 `<KSID (UUID)>/<index>`. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const KEY_ID_004_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/\d+$/;
export const keyIdPattern = (api: Api): RegExp => (api === '014' ? UUID_RE : KEY_ID_004_RE);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(f: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---------- the KME network ----------

export interface QkdTestNet {
  net: RunningKmeNetwork;
  dir: string;
  /** A KeyDelivery for `sae` at its own KME (or at `site`), closed with the network. */
  delivery(sae: string, api: Api, o?: { site?: 'A' | 'B'; kme?: string; timeoutMs?: number }): KeyDelivery;
  /** The KME URL a delivery of this API uses. */
  url(site: 'A' | 'B', api: Api): string;
  close(): Promise<void>;
}

/**
 * Both KME sites in this process, every listener and the site-to-site calls on qtls (mutual TLS), on
 * 127.0.0.1 with kernel-chosen ports; resolves when both pools hold at least `minKeys` keys.
 */
export async function startQkdNet(o: Partial<KmeNetworkOptions> & { minKeys?: number } = {}): Promise<QkdTestNet> {
  const dir = mkdtempSync(join(tmpdir(), 'qtls-qkd-tls-'));
  const net = await startKmeNetwork({ host: LOCALHOST, ...o, dataDir: dir, tlsConnect: qtlsConnect, tlsServerFactory: qtlsServerFactory });
  const deliveries: KeyDelivery[] = [];
  const url = (site: 'A' | 'B', api: Api) => (api === '014' ? net[site].url : net[site].url004);
  const min = o.minKeys ?? 32;
  await until(() => net.sites.A.storedKeyCount() >= min && net.sites.B.storedKeyCount() >= min, 'KME pools filled');
  return {
    net,
    dir,
    url,
    delivery(sae, api, d = {}) {
      const site = d.site ?? (net.A.saes.includes(sae) ? 'A' : 'B');
      const f = net.pki.sae[sae];
      if (!f) throw new Error(`no SAE ${sae} in the test PKI`);
      const dl = createKeyDelivery({
        kme: d.kme ?? url(site, api),
        api,
        saeCert: readFileSync(f.cert),
        saeKey: readFileSync(f.key),
        kmeCa: readFileSync(net.pki.ca),
        ...(d.timeoutMs === undefined ? {} : { timeoutMs: d.timeoutMs }),
      });
      deliveries.push(dl);
      return dl;
    },
    async close() {
      await Promise.all(deliveries.map((d) => d.close().catch(() => {})));
      await net.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A QKD link whose supply can be cut (pool-empty tests) and restored. */
export class GatedLink implements QkdLink {
  readonly kind = 'test-gated';
  open = true;
  private blocks = 0;
  private aborted = 0;
  async nextBlock(): Promise<LinkBlock> {
    if (!this.open) {
      this.aborted++;
      await sleep(20);
      return { ok: false, reason: 'link cut by the test' };
    }
    this.blocks++;
    const alice = new Uint8Array(randomBytes(1024));
    return { ok: true, alice, bob: alice.slice() };
  }
  stats(): LinkStats {
    return { kind: this.kind, simulated: true, blocks: this.blocks, abortedBlocks: this.aborted, finalBits: this.blocks * 8192 };
  }
}

// ---------- KeyDelivery wrappers ----------

type KeyMap = (k: DeliveredKey, call: 'getKey' | 'getKeyById') => DeliveredKey | Promise<DeliveredKey>;

/** `inner` with every delivered key passed through `map` (the same API and KME name). */
export function mapDelivery(inner: KeyDelivery, map: KeyMap): KeyDelivery {
  return {
    api: inner.api,
    ...(inner.kme === undefined ? {} : { kme: inner.kme }),
    getKey: async (slave: string, opts: KeyRequestOptions) => map(await inner.getKey(slave, opts), 'getKey'),
    getKeyById: async (master: string, id: string, opts: KeyRequestOptions) => map(await inner.getKeyById(master, id, opts), 'getKeyById'),
    close: () => Promise.resolve(),
  };
}

/** Records (copies of) every key it hands out: the tests compare them with the wire and the key log. */
export function recordingDelivery(inner: KeyDelivery): KeyDelivery & { delivered: DeliveredKey[] } {
  const delivered: DeliveredKey[] = [];
  const d = mapDelivery(inner, (k) => {
    delivered.push({ ...k, key: Uint8Array.from(k.key) });
    return k;
  });
  return Object.assign(d, { delivered });
}

/** Hands out the right key ID with the key's first bit flipped. */
export function bitFlipDelivery(inner: KeyDelivery): KeyDelivery {
  return mapDelivery(inner, (k) => {
    const key = Uint8Array.from(k.key);
    key[0]! ^= 0x80;
    return { ...k, key };
  });
}

/** A KME that accepts the call and never answers; the call ends only when its signal aborts. */
export function hangingDelivery(api: Api, kme: string): KeyDelivery & { calls: number; aborted: number } {
  const h = {
    api,
    kme,
    calls: 0,
    aborted: 0,
    getKey: (_s: string, o: KeyRequestOptions) => hang(o),
    getKeyById: (_m: string, _id: string, o: KeyRequestOptions) => hang(o),
    close: () => Promise.resolve(),
  };
  function hang(o: KeyRequestOptions): Promise<DeliveredKey> {
    h.calls++;
    return new Promise((_, reject) => {
      if (!o.signal) return;
      o.signal.addEventListener('abort', () => {
        h.aborted++;
        reject(o.signal!.reason);
      }, { once: true });
    });
  }
  return h;
}

/** A delivery whose behaviour a test can switch (the server under test keeps one for its lifetime). */
export class SwitchableDelivery implements KeyDelivery {
  private current: KeyDelivery;
  constructor(private readonly normal: KeyDelivery) {
    this.current = normal;
  }
  get api(): Api {
    return this.normal.api;
  }
  get kme(): string | undefined {
    return this.current.kme;
  }
  use(d: KeyDelivery | undefined): void {
    this.current = d ?? this.normal;
  }
  getKey(slave: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    return this.current.getKey(slave, opts);
  }
  getKeyById(master: string, id: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    return this.current.getKeyById(master, id, opts);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

// ---------- a qtls client run ----------

export interface ClientRun {
  socket: TLSSocket;
  /** The handshake error, if the handshake failed. */
  error?: Error;
  cipher?: { name: string; standardName: string; version: string };
  info: Record<string, unknown>;
  /** What came back for the payload (the server echoes). */
  echo: Buffer;
  /** Alerts the client received and sent (from its trace). */
  alertsIn: string[];
  alertsOut: string[];
  /** NSS key log lines the client emitted ('keylog' events). */
  keylogLines: string[];
}

/**
 * Connect to a qtls server on 127.0.0.1:port, complete the handshake, send `payload` and wait for the
 * echo, then close. A failed handshake resolves with `error` set (never rejects for TLS errors).
 */
export async function runClient(port: number, opts: Partial<ClientOptions>, payload: Buffer | string = 'ping over QKD', ms = 8000): Promise<ClientRun> {
  const alertsIn: string[] = [];
  const alertsOut: string[] = [];
  const socket = connect({
    host: LOCALHOST,
    port,
    servername: 'localhost',
    ca: ca(),
    trace: (e: { kind: string; direction: 'in' | 'out'; name: string }) => {
      if (e.kind === 'alert') (e.direction === 'in' ? alertsIn : alertsOut).push(e.name);
    },
    ...opts,
  } as ClientOptions);
  const run: ClientRun = { socket, info: {}, echo: Buffer.alloc(0), alertsIn, alertsOut, keylogLines: [] };
  socket.on('keylog', (line: Buffer) => run.keylogLines.push(line.toString('latin1').trim()));
  const want = Buffer.from(payload);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => resolve());
        socket.once('error', reject);
      }),
      ms,
      'the qtls client handshake',
    );
  } catch (e) {
    run.error = e as Error;
    socket.destroy();
    return run;
  }
  run.cipher = socket.getCipher() as ClientRun['cipher'];
  run.info = socket.getKeyExchangeInfo();
  const chunks: Buffer[] = [];
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      let got = 0;
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        got += d.length;
        if (got >= want.length) resolve();
      });
      socket.once('error', reject);
      socket.write(want);
    }),
    ms,
    'the echo',
  );
  run.echo = Buffer.concat(chunks);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000).unref();
  });
  return run;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** The run succeeded and echoed the payload. */
export function expectEcho(run: ClientRun, payload: Buffer | string = 'ping over QKD'): void {
  expect(run.error, run.error?.message).to.equal(undefined);
  expect(run.echo.equals(Buffer.from(payload)), 'echoed bytes').to.equal(true);
}

// ---------- alerts seen on the wire ----------

/** Alert records sent in clear (before the sender's ChangeCipherSpec), as [level, description]. */
export function clearAlerts(chunks: Buffer[]): Array<[number, number]> {
  const buf = Buffer.concat(chunks);
  const out: Array<[number, number]> = [];
  for (let off = 0; off + 5 <= buf.length; ) {
    const type = buf[off]!;
    const len = buf.readUInt16BE(off + 3);
    if (off + 5 + len > buf.length) break;
    if (type === 20) break; // ChangeCipherSpec: anything after is encrypted
    if (type === 21 && len === 2) out.push([buf[off + 5]!, buf[off + 6]!]);
    off += 5 + len;
  }
  return out;
}

/** The error is a TLSError with this alert and origin whose message matches every pattern. */
export function expectTlsError(err: Error | undefined, alert: string, origin: 'local' | 'remote', ...patterns: RegExp[]): void {
  expect(err, 'an error').to.be.instanceOf(TLSError);
  const e = err as TLSError;
  expect(e.alert, e.message).to.equal(alert);
  expect(e.origin, e.message).to.equal(origin);
  for (const p of patterns) expect(e.message, e.message).to.match(p);
}

/** Collects process warnings (MaxListenersExceededWarning...) while a describe runs. */
export function useWarningCollector(): { warnings: Error[] } {
  const c = { warnings: [] as Error[] };
  const on = (w: Error) => c.warnings.push(w);
  before(() => process.on('warning', on));
  after(() => process.off('warning', on));
  return c;
}

// ---------- outside tools ----------

/**
 * Call from a `before` hook: without `tool` on PATH the suite is skipped with a warning locally, and
 * FAILS when process.env.CI is set (.ci/run installs curl and tshark; CI must not pass by not running).
 */
export function requireTool(ctx: Mocha.Context, tool: string, versionArgs: string[] = ['--version']): void {
  try {
    execFileSync(tool, versionArgs, { stdio: 'ignore', timeout: 10_000 });
    return;
  } catch (e) {
    const why = `${tool} is not usable here (${(e as Error).message.split('\n')[0]})`;
    if (isCI()) throw new Error(`${why}. CI is set, so this is a failure, not a skip.`);
    console.warn(`\n    WARNING: skipping: ${why} (with CI set this fails)\n`);
    ctx.skip();
  }
}
