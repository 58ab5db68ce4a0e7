// `qtls server --status-file` / `qtls client --status [--status-out]`: OCSP stapling from the command line,
// as `openssl s_server -status_file` / `s_client -status`, and across the two (openssl is a required peer).
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useCleanup } from '../helpers/cleanup.js';
import { runOpensslClient } from '../helpers/openssl.js';
import { REPO_ROOT, runCliClient, startCliServer } from '../helpers/qtls-cli.js';

const fx = (n: string) => `${REPO_ROOT}/fixtures/pki/${n}`;
const ECDSA = ['--cert', fx('ecdsa-p256-chain.pem'), '--key', fx('ecdsa-p256-key.pem')];
const RESPONSE = fx('ocsp-ecdsa-p256-good.der');

describe('qtls CLI: OCSP stapling (--status-file, --status)', function () {
  this.timeout(60_000);
  const cleanup = useCleanup('each');

  it('qtls client --status gets the stapled bytes from qtls server --status-file; --status-out saves them', async () => {
    const srv = await startCliServer([...ECDSA, '--status-file', RESPONSE], cleanup);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'qtls-ocsp-')), 'resp.der');
    const r = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem'), '--status', '--status-out', out], { input: 'x\n', expect: 'x' });
    expect(r.exitCode, r.diagnostics).to.equal(0);
    const der = readFileSync(RESPONSE);
    expect(r.stderr).to.include(`OCSP response: ${der.length} bytes (not checked by qtls)`);
    expect(readFileSync(out).equals(der), 'saved response equals the stapled file').to.equal(true);
  });

  it('without --status-file the server staples nothing, and the client says so', async () => {
    const srv = await startCliServer([...ECDSA], cleanup);
    const r = await runCliClient([`127.0.0.1:${srv.port}`, '--servername', 'localhost', '--ca', fx('ca.pem'), '--status'], { input: 'x\n', expect: 'x' });
    expect(r.exitCode, r.diagnostics).to.equal(0);
    expect(r.stderr).to.include('OCSP response: no response sent');
  });

  it('openssl s_client -status reads the response qtls server --status-file staples', async () => {
    const srv = await startCliServer([...ECDSA, '--www', '--status-file', RESPONSE], cleanup);
    const o = await runOpensslClient({ port: srv.port, servername: 'localhost', args: ['-status'], input: 'GET / HTTP/1.0\r\n\r\n' });
    expect(o.stdout, o.diagnostics).to.match(/OCSP Response Status: successful/);
    expect(o.stdout, o.diagnostics).to.match(/Cert Status: good/);
  });

  it('--status-out without --status is a usage error', async () => {
    const r = await runCliClient(['127.0.0.1:1', '--status-out', '/tmp/x.der']);
    expect(r.exitCode, r.diagnostics).to.equal(2);
    expect(r.stderr).to.match(/--status-out needs --status/);
  });
});
