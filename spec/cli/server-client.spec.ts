// The basic `qtls server` / `qtls client` behaviour (s_server / s_client-like), driven as child processes.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { REPO_ROOT, runCliClient, startCliServer } from '../helpers/qtls-cli.js';

const fx = (n: string) => `${REPO_ROOT}/fixtures/pki/${n}`;
const ECDSA = ['--cert', fx('ecdsa-p256-chain.pem'), '--key', fx('ecdsa-p256-key.pem')];

/** Talk to a server with the library client, writing each piece as its own record. */
async function exchange(port: number, pieces: string[]): Promise<{ data: string; ended: boolean }> {
  const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(fx('ca.pem')) });
  await once(c, 'secureConnect');
  let data = '';
  c.on('data', (d: Buffer) => (data += d.toString('latin1')));
  // Listen for the end first: the answer and close_notify may arrive while we are still writing.
  const endedP = new Promise<boolean>((resolve) => {
    c.once('end', () => resolve(true));
    c.once('error', () => resolve(false));
    setTimeout(() => resolve(false), 5000).unref();
  });
  for (const p of pieces) {
    c.write(p);
    await new Promise((r) => setImmediate(r));
  }
  const ended = await endedP;
  c.destroy();
  return { data, ended };
}

describe('qtls server / qtls client (CLI)', function () {
  this.timeout(60_000);
  const cleanup = useCleanup('each');

  it('--www answers a GET whose request line is split over records and ends with a bare LF, then sends close_notify', async () => {
    const srv = await startCliServer([...ECDSA, '--www'], cleanup);
    const { data, ended } = await exchange(srv.port, ['GE', 'T /x HT', 'TP/1.1\n']);
    expect(data).to.match(/^HTTP\/1\.0 200 ok\r\n/);
    expect(data).to.include('request:  GET /x HTTP/1.1');
    expect(data).to.match(/protocol: TLSv1\.2/);
    expect(data).to.match(/suite:    TLS_ECDHE_ECDSA_WITH_/);
    expect(data).to.match(/group:    x25519/);
    expect(data).to.match(/sni:      localhost/);
    expect(ended, 'the server closes with close_notify (clean end)').to.equal(true);
  });

  it('--www accepts a CRLF-terminated request line', async () => {
    const srv = await startCliServer([...ECDSA, '--www'], cleanup);
    const { data } = await exchange(srv.port, ['GET / HTTP/1.0\r\n\r\n']);
    expect(data).to.match(/^HTTP\/1\.0 200 ok\r\n/);
  });

  it('without --www it echoes', async () => {
    const srv = await startCliServer([...ECDSA], cleanup);
    const r = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem')], { input: 'ping-123\n', expect: 'ping-123' });
    expect(r.exitCode, r.diagnostics).to.equal(0);
    expect(r.stdout).to.include('ping-123');
    expect(r.stderr).to.match(/^connected to 127\.0\.0\.1:\d+: TLSv1\.2 TLS_ECDHE_ECDSA_WITH_\S+ group=x25519/m);
    expect(r.stderr).to.include('certificate verified');
  });

  it('keeps serving after a failed handshake and logs one line naming the alert', async () => {
    const srv = await startCliServer([...ECDSA], cleanup);
    // An RSA-only client against an ECDSA-only server: no shared cipher.
    const bad = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem'), '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256']);
    expect(bad.exitCode, bad.diagnostics).to.not.equal(0);
    expect(bad.stderr).to.match(/alert handshake_failure/);
    expect(await srv.waitFor(() => /handshake failed from .*handshake_failure/.test(srv.stderr), 5000), srv.stderr).to.equal(true);
    expect(srv.stderr.match(/handshake failed/g)).to.have.length(1);
    const good = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem')], { input: 'again\n', expect: 'again' });
    expect(good.exitCode, good.diagnostics).to.equal(0);
  });

  it('the client exits non-zero naming the alert when the certificate does not verify', async () => {
    const srv = await startCliServer(['--cert', fx('unknown-ca-cert.pem'), '--key', fx('unknown-ca-key.pem')], cleanup);
    const r = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem')]);
    expect(r.exitCode, r.diagnostics).to.equal(1);
    expect(r.stderr).to.match(/error: sent alert unknown_ca/);
    const insecure = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem'), '--insecure'], { input: 'x\n', expect: 'x' });
    expect(insecure.exitCode, insecure.diagnostics).to.equal(0);
    expect(insecure.stderr).to.match(/certificate NOT verified/);
  });

  it('rejects bad usage with exit code 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'server', '--cert', fx('rsa-cert.pem')], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/--port is required/);
    const u = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'nonsense'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(u.status).to.equal(2);
    expect(u.stderr).to.match(/unknown command/);
  });
});

describe('qtls client --trace / --secrets', function () {
  this.timeout(60_000);
  const cleanup = useCleanup('each');

  it('--trace prints the handshake on stderr without secrets; --secrets adds the key-log line', async () => {
    const srv = await startCliServer([...ECDSA], cleanup);
    const base = [`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem')];
    const t = await runCliClient([...base, '--trace'], { input: 'x\n', expect: 'x' });
    expect(t.exitCode, t.diagnostics).to.equal(0);
    const order = ['-> ClientHello', '<- ServerHello', '<- Certificate', '<- ServerKeyExchange', '<- ServerHelloDone', '-> ClientKeyExchange', '-> ChangeCipherSpec', '-> Finished'];
    let at = -1;
    for (const m of order) {
      const i = t.stderr.indexOf(`trace ${m}`);
      expect(i, `${m} after the previous message\n${t.stderr}`).to.be.greaterThan(at);
      at = i;
    }
    expect(t.stderr).to.match(/trace <- ServerKeyExchange \(\d+ bytes\) named curve x25519/);
    expect(t.stderr).to.not.match(/CLIENT_RANDOM/);
    const s = await runCliClient([...base, '--trace', '--secrets'], { input: 'y\n', expect: 'y' });
    expect(s.exitCode, s.diagnostics).to.equal(0);
    expect(s.stderr).to.match(/^trace secret CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/m);
  });
});
