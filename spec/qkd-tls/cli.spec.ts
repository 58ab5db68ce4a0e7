// The QKD flags of the qtls command, as a user runs them: `qtls kme --json` (both KME sites), then
// `qtls server --www --kme ...` (SAE A) and `qtls client --kme ...` (SAE B) with --qkd hybrid,
// --qkd first-class and --kme-api 004; and `npm start` (`qtls demo`). Exit codes, the client's summary
// line naming the key_ID, and the page the server rendered from its own view of the handshake.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { pkiPath } from '../helpers/fixtures.js';
import { exitCode, spawnQtls, type CliProcess } from '../helpers/qkd-cli.js';
import { KEY_ID_004_RE, UUID_RE } from '../helpers/qkd-tls.js';
import { REPO_ROOT, runCliClient, startCliServer, type CliServer } from '../helpers/qtls-cli.js';
import { spawnSync } from 'node:child_process';

interface KmeReady {
  ready: true;
  kmes: Array<{ site: 'A' | 'B'; kmeId: string; api014: string; api004: string }>;
  pki: { ca: string; saes: Record<string, { cert: string; key: string }> };
}

const REQUEST = 'GET /qkd HTTP/1.0\r\n\r\n';
const strip = (re: RegExp) => re.source.replace(/^\^|\$$/g, '');

describe('QKD in TLS: the qtls command', function () {
  this.timeout(60_000);
  let dir: string;
  let kme: CliProcess;
  let ready: KmeReady;
  const servers: CliServer[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'qtls-qkd-cli-'));
    // Small pools: the link fills them in one block and then idles, leaving the CPU to the handshakes.
    kme = spawnQtls(['kme', '--data', dir, '--json', '--max-keys', '64', '--port-a', '0', '--port-b', '0', '--port-004-a', '0', '--port-004-b', '0']);
    const line = await kme.waitFor(/^\{.*\}$/m, 'stdout', 30_000);
    ready = JSON.parse(line[0]) as KmeReady;
    expect(ready.ready).to.equal(true);
    // Wait until KME A can hand out keys to SAE A for SAE B (the link fills the pools after start).
    const sae = ready.pki.saes['sae-a']!;
    const c = new Etsi014Client({ url: site('A').api014, cert: readFileSync(sae.cert), key: readFileSync(sae.key), ca: readFileSync(ready.pki.ca) });
    try {
      let count = 0;
      const end = Date.now() + 30_000;
      while (Date.now() < end && (count = (await c.status('sae-b')).stored_key_count) < 8) await new Promise((r) => setTimeout(r, 100));
      expect(count, 'keys ready at KME A').to.be.at.least(8);
    } finally {
      c.close();
    }
  });

  after(async function () {
    await Promise.all(servers.map((s) => s.stop()));
    if (kme) {
      await kme.stop();
      // SIGTERM is the normal way to stop `qtls kme`: it closes its stores and exits 0.
      expect((await kme.exited).code, kme.stderr).to.equal(0);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const site = (s: 'A' | 'B') => ready.kmes.find((k) => k.site === s)!;
  const kmeFlags = (s: 'A' | 'B', sae: string, api: '014' | '004') => [
    '--kme', api === '014' ? site(s).api014 : site(s).api004,
    '--sae-cert', ready.pki.saes[sae]!.cert,
    '--sae-key', ready.pki.saes[sae]!.key,
    '--kme-ca', ready.pki.ca,
    ...(api === '004' ? ['--kme-api', '004'] : []),
  ];
  async function server(api: '014' | '004', extra: string[]): Promise<CliServer> {
    const s = await startCliServer(['--cert', pkiPath('ecdsa-p256-chain.pem'), '--key', pkiPath('ecdsa-p256-key.pem'), '--www', ...kmeFlags('A', 'sae-a', api), ...extra]);
    servers.push(s);
    return s;
  }
  const client = (port: number, api: '014' | '004', extra: string[]) =>
    runCliClient([`127.0.0.1:${port}`, '--servername', 'localhost', '--ca', pkiPath('ca.pem'), ...kmeFlags('B', 'sae-b', api), ...extra], { input: REQUEST, expect: 'HTTP/1.0 200', timeoutMs: 30_000 });

  let server014: CliServer;

  describe('qtls server + qtls client over ETSI 014', function () {
    before(async function () {
      // Both families offered (the QKD keyword); the client's --qkd picks one.
      server014 = await server('014', ['--ciphers', 'QKD']);
    });

    for (const [mode, suite, group] of [
      ['hybrid', 'TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384', 'x25519'],
      ['first-class', 'TLS_QKD_ECDSA_WITH_AES_256_GCM_SHA384', 'none'],
    ] as const) {
      it(`--qkd ${mode}: exit 0, the summary line names the suite and the QKD key_ID, the page shows the same key_ID`, async function () {
        const r = await client(server014.port, '014', ['--qkd', mode]);
        expect(r.exitCode, r.diagnostics).to.equal(0);
        const summary = new RegExp(`^connected to 127\\.0\\.0\\.1:${server014.port}: TLSv1\\.2 ${suite} group=${group} .*qkd_key_id=(${strip(UUID_RE)}) .*certificate verified$`, 'm').exec(r.stderr);
        expect(summary, r.diagnostics).to.not.equal(null);
        const keyId = summary![1]!;
        expect(r.stdout).to.match(/^HTTP\/1\.0 200 ok/);
        expect(r.stdout).to.contain(`request:  GET /qkd HTTP/1.0`);
        expect(r.stdout).to.contain(`suite:    ${suite}`);
        expect(r.stdout, 'the server reports the same key_ID').to.match(new RegExp(`^qkdKeyId: ${keyId}$`, 'm'));
        expect(r.stdout).to.match(/^qkdMasterSae: sae-a$/m);
        expect(r.stdout).to.match(/^qkdSlaveSae: sae-b$/m);
      });
    }

    it('a client whose KME speaks 004 shares no QKD suite with the 014 server: exit 1, handshake_failure', async function () {
      const r = await client(server014.port, '004', ['--qkd', 'hybrid']);
      expect(r.exitCode, r.diagnostics).to.equal(1);
      expect(r.stderr).to.match(/^error: received alert handshake_failure/m);
      expect(r.stdout).to.equal('');
    });
  });

  describe('qtls server + qtls client over ETSI 004 (--kme-api 004)', function () {
    it('--qkd hybrid: exit 0, the key_ID is KSID/index on both sides', async function () {
      const s = await server('004', ['--qkd', 'hybrid']);
      const r = await client(s.port, '004', ['--qkd', 'hybrid']);
      expect(r.exitCode, r.diagnostics).to.equal(0);
      const m = new RegExp(`TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384 group=x25519 .*qkd_key_id=(${strip(KEY_ID_004_RE)}) `).exec(r.stderr);
      expect(m, r.diagnostics).to.not.equal(null);
      expect(r.stdout).to.match(new RegExp(`^qkdKeyId: ${m![1]!.replace('/', '\\/')}$`, 'm'));
      expect(r.stdout).to.match(/^qkdApi:  +004$/m);
    });
  });

  describe('the server\'s key budget (--qkd-rate, --qkd-max-pending)', function () {
    it('--qkd-rate 0.001/1: the first client is served, the next is refused before any KME call, and the server says why', async function () {
      const s = await server('014', ['--qkd', 'hybrid', '--qkd-rate', '0.001/1', '--qkd-max-pending', '4']);
      const ok = await client(s.port, '014', ['--qkd', 'hybrid']);
      expect(ok.exitCode, ok.diagnostics).to.equal(0);
      const refused = await client(s.port, '014', ['--qkd', 'hybrid']);
      expect(refused.exitCode, refused.diagnostics).to.equal(1);
      expect(refused.stderr).to.match(/^error: received alert handshake_failure/m);
      expect(await s.waitFor(() => /QKD key budget exhausted: rate limit of 0\.001 requests\/s \(burst 1\)/.test(s.stderr), 5000), s.stderr).to.equal(true);
    });
  });

  describe('usage errors', function () {
    it('--kme without --sae-cert/--sae-key/--kme-ca: exit 2 and says what is missing', async function () {
      const r = await runCliClient(['127.0.0.1:1', '--kme', site('B').api014], { timeoutMs: 20_000 });
      expect(r.exitCode, r.diagnostics).to.equal(2);
      expect(r.stderr).to.match(/--kme needs --sae-cert, --sae-key and --kme-ca/);
    });

    it('--qkd-rate on the client, or a malformed budget on the server: exit 2 with the reason', async function () {
      const c = await runCliClient(['127.0.0.1:1', ...kmeFlags('B', 'sae-b', '014'), '--qkd-rate', '5'], { timeoutMs: 20_000 });
      expect(c.exitCode, c.diagnostics).to.equal(2);
      expect(c.stderr).to.match(/--qkd-max-pending and --qkd-rate are server options/);
      for (const [flag, value, why] of [
        ['--qkd-rate', 'fast', /--qkd-rate must be PER_SECOND\[\/BURST\]/],
        ['--qkd-rate', '5/0', /--qkd-rate must be/],
        ['--qkd-max-pending', '0', /--qkd-max-pending must be a positive integer/],
      ] as const) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'server', '--port', '0', '--cert', pkiPath('ecdsa-p256-chain.pem'), '--key', pkiPath('ecdsa-p256-key.pem'), ...kmeFlags('A', 'sae-a', '014'), flag, value], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
        expect(r.status, `${flag} ${value}: ${r.stderr}`).to.equal(2);
        expect(r.stderr).to.match(why);
      }
    });
  });
});

describe('QKD in TLS: npm start (qtls demo)', function () {
  this.timeout(60_000);

  it('exits 0 and prints the suite, a key_ID, both KMEs, the handshake ladder and the page', async function () {
    const demo = spawnQtls(['demo']);
    const code = await exitCode(demo, 50_000);
    const out = demo.stdout;
    const why = `--- stdout ---\n${out}\n--- stderr ---\n${demo.stderr}`;
    expect(code, why).to.equal(0);
    expect(out, why).to.match(/^ {2}KME A {2}https:\/\/127\.0\.0\.1:\d+ \(ETSI 014\) {2}tls:\/\/127\.0\.0\.1:\d+ \(ETSI 004\)/m);
    expect(out).to.match(/^ {2}KME B {2}https:\/\/127\.0\.0\.1:\d+ \(ETSI 014\)/m);
    expect(out).to.match(/suite TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384$/m);
    const keyId = new RegExp(`QKD key {4}(${strip(UUID_RE)}) \\(ETSI 014 key_ID\\)`).exec(out)?.[1];
    expect(keyId, why).to.be.a('string');
    expect(out).to.match(/master SAE sae-a got it from KME A \(https:\/\/127\.0\.0\.1:\d+\)/);
    expect(out).to.match(/slave SAE sae-b got the same key by ID from KME B \(https:\/\/127\.0\.0\.1:\d+\)/);
    // The ladder, in order.
    const ladder = [...out.matchAll(/^ {4}client {2}(──>|<──) {2}server {3}(\w+)/gm)].map((m) => `${m[1] === '──>' ? 'C>' : '<S'} ${m[2]}`);
    const want = ['C> ClientHello', '<S ServerHello', '<S Certificate', '<S ServerKeyExchange', '<S ServerHelloDone', 'C> ClientKeyExchange', 'C> ChangeCipherSpec', 'C> Finished'];
    expect(ladder.slice(0, want.length), why).to.deep.equal(want);
    const rest = ladder.slice(want.length).filter((l) => !l.endsWith('NewSessionTicket'));
    expect(rest.slice(0, 2)).to.deep.equal(['<S ChangeCipherSpec', '<S Finished']);
    expect(out).to.contain(`ServerKeyExchange  signed: master SAE sae-a, key_ID ${keyId}`);
    // The page, rendered by the server from its own view of the handshake: the same key_ID.
    expect(out).to.contain('| Hello from SAE A over qtls!');
    expect(out).to.contain(`| keyed by QKD key ${keyId} and ECDHE x25519.`);
  });
});
