// `qtls demo` (what `npm start` runs): the whole story on embedded defaults, no outside service.
//   1. a two-site QKD network: KME A and KME B (ETSI 014 + 004 over mutual TLS), their pools filled by
//      the QKD link, on a fresh data directory;
//   2. an HTTPS server, SAE A, on qtls offering the ECDHE+QKD hybrid suites;
//   3. a client, SAE B, fetching a page through Node's http module over qtls;
//   4. a readable summary: suite, key_ID and KMEs, the handshake messages in order, the page.
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TraceEvent } from '../handshake/engine.js';
import { createHttpsServer } from '../net/https.js';
import { connect } from '../net/connect.js';
import type { TLSSocket } from '../net/tls-socket.js';
import { createKeyDelivery } from '../qkd/delivery-factory.js';
import { startKmeNetwork } from '../qkd/kme/network.js';
import { Bb84Link } from '../qkd/bb84/link.js';
import type { KmeSite } from '../qkd/kme/site.js';
import { qtlsConnect, qtlsServerFactory } from '../qkd/qtls-transport.js';
import type { IO } from './args.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/pki/${name}`, import.meta.url));

/** The hybrid suites: an attacker must break both ECDHE and the QKD link. */
const HYBRID = 'ECDHE-QKD-ECDSA-AES256-GCM-SHA384:ECDHE-QKD-ECDSA-CHACHA20-POLY1305';

export async function runDemoCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '0' },
      data: { type: 'string' },
      api: { type: 'string', default: '014' },
    },
  });
  if (values.api !== '014' && values.api !== '004') throw new Error('--api must be 014 or 004');
  const api = values.api;
  const dataDir = values.data ?? mkdtempSync(join(tmpdir(), 'qtls-demo-'));
  const out = (s = '') => io.stdout.write(s + '\n');

  out('qtls demo: HTTPS keyed by QKD');
  // The pools are filled by the simulated BB84 link (lib/qkd/bb84): sifting, Cascade, privacy amplification.
  const kmes = await startKmeNetwork({ dataDir, tlsConnect: qtlsConnect, tlsServerFactory: qtlsServerFactory, link: new Bb84Link() });
  out(`  KME A  ${kmes.A.url} (ETSI 014)  ${kmes.A.url004} (ETSI 004)  SAEs: ${kmes.A.saes.join(', ')}`);
  out(`  KME B  ${kmes.B.url} (ETSI 014)  ${kmes.B.url004} (ETSI 004)  SAEs: ${kmes.B.saes.join(', ')}`);
  await waitForKeys(kmes.sites.A, kmes.sites.B);
  out(`  QKD link: ${describeLink(kmes.sites.A)}`);

  const pem = (f: string) => readFileSync(f);
  const delivery = (site: 'A' | 'B', sae: string) =>
    createKeyDelivery({ kme: api === '014' ? kmes[site].url : kmes[site].url004, api, saeCert: pem(kmes.pki.sae[sae]!.cert), saeKey: pem(kmes.pki.sae[sae]!.key), kmeCa: pem(kmes.pki.ca) });
  const deliveryA = delivery('A', 'sae-a');
  const deliveryB = delivery('B', 'sae-b');

  const server = createHttpsServer(
    { cert: fixture('ecdsa-p256-chain.pem'), key: fixture('ecdsa-p256-key.pem'), ciphers: HYBRID, qkd: { saeId: 'sae-a', delivery: deliveryA } },
    (req, res) => {
      const tls = req.socket as unknown as TLSSocket;
      const kx = tls.getKeyExchangeInfo();
      res.setHeader('content-type', 'text/plain');
      res.end(`Hello from SAE A over qtls!\nYou asked for ${req.url} over ${tls.getCipher()?.standardName},\nkeyed by QKD key ${String(kx.qkdKeyId)} and ECDHE ${String(kx.group)}.\n`);
    },
  );
  server.tls.on('tlsClientError', (e: Error) => io.stderr.write(`server: handshake failed: ${e.message}\n`));
  await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
  const addr = server.tls.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  out(`  HTTPS server (SAE A) https://localhost:${port}/ offering ${HYBRID.replaceAll(':', ', ')}`);
  out();

  let code = 0;
  try {
    const trace: TraceEvent[] = [];
    const { status, body, socket } = await fetchPage(port, { saeId: 'sae-b', delivery: deliveryB }, trace);
    const kx = socket.getKeyExchangeInfo();
    out(`client (SAE B): GET https://localhost:${port}/hello -> ${status}`);
    out(`  protocol   ${socket.getProtocol()}, suite ${socket.getCipher()?.standardName}`);
    out(`  ECDHE      ${String(kx.group)}`);
    out(`  QKD key    ${String(kx.qkdKeyId)} (${kx.qkdApi === '004' ? 'ETSI 004 KSID/index' : 'ETSI 014 key_ID'})`);
    out(`             master SAE ${String(kx.qkdMasterSae)} got it from KME A (${api === '014' ? kmes.A.url : kmes.A.url004}),`);
    out(`             slave SAE ${String(kx.qkdSlaveSae)} got the same key by ID from KME B (${api === '014' ? kmes.B.url : kmes.B.url004})`);
    out(`  server certificate ${socket.authorized ? 'verified' : 'NOT verified'} (fixtures/pki/ca.pem)`);
    out('  handshake, as the client saw it:');
    for (const line of ladder(trace, kx)) out(`    ${line}`);
    out('  page:');
    for (const l of body.trimEnd().split('\n')) out(`    | ${l}`);
    out();
    out(`  key pools after the handshake: KME A ${poolLevel(kmes.sites.A)}, KME B ${poolLevel(kmes.sites.B)}`);
  } catch (e) {
    io.stderr.write(`demo failed: ${(e as Error).message}\n`);
    code = 1;
  }

  if (values.serve && code === 0) {
    out();
    out('serving until Ctrl-C. Try:');
    out(`  npx qtls client 127.0.0.1:${port} --servername localhost --ca fixtures/pki/ca.pem --qkd hybrid \\`);
    out(`      --kme ${kmes.B.url} --sae-cert ${kmes.pki.sae['sae-b']!.cert} --sae-key ${kmes.pki.sae['sae-b']!.key} --kme-ca ${kmes.pki.ca}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await new Promise<void>((r) => server.close(r));
  await deliveryA.close();
  await deliveryB.close();
  await kmes.close();
  if (!values.data) rmSync(dataDir, { recursive: true, force: true });
  return code;
}

function describeLink(site: KmeSite): string {
  const s = site.linkStats;
  if (!s) return 'filling both pools with identical keys';
  const model = typeof s.model === 'string' ? ` (${s.model})` : s.simulated ? ' (simulated)' : '';
  const bb84 =
    typeof s.qber === 'number'
      ? `, ${String(s.pulses)} pulses -> ${String(s.sifted)} sifted, QBER ${(s.qber * 100).toFixed(2)}%, Cascade f=${Number(s.efficiency).toFixed(3)}`
      : '';
  return `${s.kind}${model}: ${s.blocks} block(s)${bb84}, ${s.finalBits} secret bits distilled`;
}

/** The first BB84 block takes about a second; wait for both pools (bounded, so the demo can't hang). */
async function waitForKeys(a: KmeSite, b: KmeSite, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (a.storedKeyCount() === 0 || b.storedKeyCount() === 0) {
    if (Date.now() > until) throw new Error(`the QKD link delivered no key within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function poolLevel(site: KmeSite): string {
  return `${site.storedKeyCount()} keys`;
}

/** The handshake as a ladder: → sent by the client, ← received. */
function ladder(trace: TraceEvent[], kx: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const e of trace) {
    if (e.kind === 'application_data') continue;
    const arrow = e.direction === 'out' ? 'client  ──>  server' : 'client  <──  server';
    const what = e.kind === 'alert' ? `Alert ${e.name}` : prettyName(e.name);
    const note =
      e.name === 'server_key_exchange' ? `  signed: master SAE ${String(kx.qkdMasterSae)}, key_ID ${String(kx.qkdKeyId)}, ECDHE ${String(kx.group)} share`
      : e.name === 'client_key_exchange' ? '  ECDHE share only: no QKD secret on the wire'
      : '';
    lines.push(`${arrow}   ${what}${e.encrypted ? ' (encrypted)' : ''}${note}`);
  }
  return lines;
}

function prettyName(n: string): string {
  return n.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
}

function fetchPage(port: number, qkd: { saeId: string; delivery: ReturnType<typeof createKeyDelivery> }, trace: TraceEvent[]): Promise<{ status: number; body: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    let socket: TLSSocket | undefined;
    const req = request(
      {
        host: 'localhost', port, path: '/hello',
        createConnection: () =>
          (socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fixture('ca.pem'), ciphers: HYBRID, qkd, trace: (e: TraceEvent) => trace.push(e) })) as never,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: socket! }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
