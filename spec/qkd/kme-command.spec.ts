import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runKmeCommand } from '../../lib/qkd/kme/command.js';
import { tempDir } from './helpers.js';
import { spawnKme, type KmeProcess, type ReadyLine } from './spawn-kme.js';

interface CurlResult {
  status: number;
  body: string;
}

/** curl with the SAE's certificate, as an operator would type it. */
function curl(ready: ReadyLine, sae: string, url: string, data?: string): Promise<CurlResult> {
  const f = ready.pki.saes[sae]!;
  const args = ['-sS', '--cert', f.cert, '--key', f.key, '--cacert', ready.pki.ca, '-w', '\n%{http_code}', url];
  if (data !== undefined) args.push('-H', 'Content-Type: application/json', '--data', data);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
      const i = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
    });
  });
}

const ports0 = ['--port-a', '0', '--port-b', '0', '--port-004-a', '0', '--port-004-b', '0'];

describe('qtls kme (command)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let kme: KmeProcess | undefined;

  before(() => {
    tmp = tempDir('kme-cmd');
  });
  afterEach(async () => {
    if (kme && kme.child.exitCode === null) {
      kme.child.kill('SIGKILL');
      await kme.exited;
    }
    kme = undefined;
  });
  after(() => tmp.remove());

  it('--json prints one line with every URL and file; curl with the SAE certificate gets keys; SIGTERM exits 0', async function () {
    kme = await spawnKme(['--data', tmp.dir, '--max-keys', '40', ...ports0]);
    const r = kme.ready;
    expect(r.mode).to.equal('network');
    expect(r.kmes.map((k) => [k.site, k.kmeId, k.saes])).to.deep.equal([
      ['A', 'kme-a', ['sae-a']],
      ['B', 'kme-b', ['sae-b']],
    ]);
    for (const f of [r.pki.ca, r.pki.saes['sae-a']!.cert, r.pki.saes['sae-b']!.key, r.kmes[0]!.db]) expect(readFileSync(f).length).to.be.greaterThan(0);
    const A = r.kmes[0]!.api014;
    const B = r.kmes[1]!.api014;

    // the command from the brief, verbatim
    const enc = await curl(r, 'sae-a', `${A}/api/v1/keys/sae-b/enc_keys`);
    expect(enc.status).to.equal(200);
    const key = (JSON.parse(enc.body) as { keys: { key_ID: string; key: string }[] }).keys[0]!;
    expect(Buffer.from(key.key, 'base64')).to.have.length(32);

    const dec = await curl(r, 'sae-b', `${B}/api/v1/keys/sae-a/dec_keys`, JSON.stringify({ key_IDs: [{ key_ID: key.key_ID }] }));
    expect(dec.status).to.equal(200);
    expect((JSON.parse(dec.body) as { keys: { key: string }[] }).keys[0]!.key).to.equal(key.key);
    const again = await curl(r, 'sae-b', `${B}/api/v1/keys/sae-a/dec_keys?key_ID=${key.key_ID}`);
    expect(again.status).to.equal(400);
    expect(JSON.parse(again.body)).to.deep.equal({ message: 'one or more keys specified are not found on KME' });

    const wrong = await curl(r, 'sae-b', `${A}/api/v1/keys/sae-a/enc_keys`);
    expect(wrong.status).to.equal(401);
    expect(wrong.body).to.equal('');

    const st = await curl(r, 'sae-a', `${A}/api/v1/keys/sae-b/status`);
    expect(JSON.parse(st.body)).to.include({ source_KME_ID: 'kme-a', max_key_count: 40 });

    kme.child.kill('SIGTERM');
    expect(await kme.exited).to.deep.equal({ code: 0, signal: null });
    expect(kme.extra, 'nothing after the ready line on stdout').to.deep.equal([]);
  });

  it('a restart reuses the PKI and the key store: a key taken before is fetched after', async function () {
    kme = await spawnKme(['--data', tmp.dir, '--max-keys', '40', ...ports0]);
    const ca = readFileSync(kme.ready.pki.ca, 'utf8');
    const enc = await curl(kme.ready, 'sae-a', `${kme.ready.kmes[0]!.api014}/api/v1/keys/sae-b/enc_keys`, JSON.stringify({ number: 2, size: 512 }));
    const keys = (JSON.parse(enc.body) as { keys: { key_ID: string; key: string }[] }).keys;
    kme.child.kill('SIGINT');
    expect((await kme.exited).code).to.equal(0);

    kme = await spawnKme(['--data', tmp.dir, '--max-keys', '40', ...ports0]);
    expect(readFileSync(kme.ready.pki.ca, 'utf8')).to.equal(ca);
    const dec = await curl(
      kme.ready,
      'sae-b',
      `${kme.ready.kmes[1]!.api014}/api/v1/keys/sae-a/dec_keys`,
      JSON.stringify({ key_IDs: keys.map((k) => ({ key_ID: k.key_ID })) }),
    );
    expect(dec.status).to.equal(200);
    expect((JSON.parse(dec.body) as { keys: { key: string }[] }).keys.map((k) => k.key)).to.deep.equal(keys.map((k) => k.key));
    kme.child.kill('SIGTERM');
    expect((await kme.exited).code).to.equal(0);
  });

  it('in-process: usage errors return 2, --help 0, and an abort signal stops it cleanly', async function () {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) } };
    expect(await runKmeCommand([], io)).to.equal(2);
    expect(await runKmeCommand(['--data', tmp.dir, '--port-a', 'x'], io)).to.equal(2);
    expect(await runKmeCommand(['--data', tmp.dir, '--site', 'a'], io)).to.equal(2);
    expect(await runKmeCommand(['--help'], io)).to.equal(0);
    const ac = new AbortController();
    const lines: string[] = [];
    const run = runKmeCommand(['--data', tmp.dir, '--json', '--max-keys', '8', ...ports0], {
      stdout: { write: (s: string) => lines.push(s) },
      stderr: { write: () => {} },
      signal: ac.signal,
    });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse(lines[0]!)).to.include({ ready: true });
    ac.abort();
    expect(await run).to.equal(0);
    expect(lines).to.have.length(1);
  });
});
