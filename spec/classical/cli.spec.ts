// The CLI flags for the classical exchanges, driven as child processes (`node --import tsx
// lib/cli/main.ts ...`) against openssl: qtls server --dhparam, --psk/--psk-identity/--psk-hint (no
// certificate needed), --verify-client --ca, --no-tickets; qtls client --psk/--psk-identity, --cert/--key,
// --reconnect (New, then Reused ×4, like s_client), --sess-out/--sess-in.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CA_FILE, CERTS, pkiPath } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startOpensslServer } from '../helpers/openssl.js';
import { runCliClient, startCliServer } from '../helpers/qtls-cli.js';
import { Readable, Writable } from 'node:stream';
import { main } from '../../lib/cli/main.js';
import { dhPath } from './helpers/endpoints.js';

const KEY_HEX = '1f1e2d3c4b5a69788796a5b4c3d2e1f0';
const reused = (stdout: string) => (stdout.match(/^Reused, TLSv1\.2, /gm) ?? []).length;
/** The CLI servers run with --www: they answer one request and close, so `s_client -ign_eof` ends. */
const GET = 'GET / HTTP/1.0\r\n\r\n';

describe('classical: CLI flags (qtls server / qtls client as child processes)', function () {
  this.timeout(40_000);
  const cleanup = useCleanup();
  before(function () {
    requireOpenssl(this);
  });

  it('qtls server --dhparam --psk --psk-identity --psk-hint, with openssl s_client: DHE on the file\'s group, PSK with hint, unknown identity, -reconnect, -sess_out/-sess_in', async () => {
    const srv = await startCliServer(
      ['--cert', pkiPath('rsa-chain.pem'), '--key', pkiPath('rsa-key.pem'), '--dhparam', dhPath('dh2048'), '--psk', KEY_HEX, '--psk-identity', 'client1', '--psk-hint', 'cli-hint', '--www'],
      cleanup,
    );
    let mark = srv.mark();
    const dhe = await runOpensslClient({ port: srv.port, cipher: 'DHE-RSA-AES128-GCM-SHA256', input: GET });
    let line = await srv.line(mark);
    expect(dhe.tempKey, `${dhe.diagnostics}\n${srv.diagnostics}`).to.equal('DH, 2048 bits');
    expect(line).to.match(/TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 group=custom-2048 session=new/);
    expect(dhe.data, dhe.diagnostics).to.match(/^HTTP\/1\.0 200 ok\r\n[\s\S]*^group: +custom-2048$/m);

    mark = srv.mark();
    const psk = await runOpensslClient({ port: srv.port, cipher: 'PSK-CHACHA20-POLY1305', verify: false, input: GET, args: ['-psk', KEY_HEX, '-psk_identity', 'client1'] });
    line = await srv.line(mark);
    expect(psk.stdout, psk.diagnostics).to.match(/^\s*PSK identity hint: cli-hint$/m);
    expect(line).to.match(/TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 group=none psk_identity=client1 session=new/);
    expect(psk.data, psk.diagnostics).to.match(/^pskIdentity: client1$/m);

    mark = srv.mark();
    const stranger = await runOpensslClient({ port: srv.port, cipher: 'PSK-AES128-GCM-SHA256', verify: false, input: '', args: ['-psk', KEY_HEX, '-psk_identity', 'mallory'] });
    expect(stranger.facts.alertsIn, stranger.diagnostics).to.deep.equal(['unknown PSK identity']);
    expect(await srv.line(mark)).to.match(/^handshake failed .*unknown_psk_identity/);

    mark = srv.mark();
    const re = await runOpensslClient({ port: srv.port, cipher: 'ECDHE-RSA-AES128-GCM-SHA256', input: GET, args: ['-reconnect'] });
    expect(reused(re.stdout), re.diagnostics).to.equal(5);
    await srv.waitFor(() => (srv.stderr.slice(mark).match(/session=reused/g) ?? []).length === 5, 5000);
    expect(srv.stderr.slice(mark).match(/session=reused/g)?.length, srv.diagnostics).to.equal(5);

    const dir = mkdtempSync(path.join(tmpdir(), 'qtls-cli-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
    const sess = path.join(dir, 'openssl.sess');
    await runOpensslClient({ port: srv.port, input: GET, args: ['-sess_out', sess] });
    mark = srv.mark();
    const back = await runOpensslClient({ port: srv.port, input: GET, args: ['-sess_in', sess] });
    expect(back.stdout, back.diagnostics).to.match(/^Reused, TLSv1\.2/m);
    expect(await srv.line(mark)).to.match(/session=reused/);
  });

  it('qtls server --psk without a certificate, --no-tickets: PSK suites only, resumption by session ID', async () => {
    const srv = await startCliServer(['--psk', KEY_HEX, '--no-tickets', '--www'], cleanup);
    const mark = srv.mark();
    const res = await runOpensslClient({ port: srv.port, cipher: 'ECDHE-PSK-CHACHA20-POLY1305', verify: false, input: GET, args: ['-psk', KEY_HEX, '-reconnect'] });
    const why = `${res.diagnostics}\n${res.stdout}\n${srv.diagnostics}`;
    expect(res.stdout, why).to.match(/^New, TLSv1\.2, Cipher is ECDHE-PSK-CHACHA20-POLY1305$/m);
    expect(reused(res.stdout), why).to.equal(5);
    expect(res.stdout, why).to.not.match(/TLS session ticket:/);
    // Without --psk-identity any identity gets the key (as s_server): s_client's default identity.
    expect(await srv.line(mark), why).to.match(/psk_identity=Client_identity session=new/);
    // No certificate: a certificate-only client finds nothing in common.
    const m2 = srv.mark();
    const cert = await runOpensslClient({ port: srv.port, cipher: 'ECDHE-RSA-AES128-GCM-SHA256', input: '' });
    expect(cert.facts.alertsIn, cert.diagnostics).to.deep.equal(['handshake failure']);
    expect(await srv.line(m2)).to.match(/^handshake failed .*handshake_failure/);
  });

  it('qtls server --verify-client --ca: requires and verifies a client certificate', async () => {
    const srv = await startCliServer(['--cert', pkiPath('ecdsa-p256-chain.pem'), '--key', pkiPath('ecdsa-p256-key.pem'), '--verify-client', '--ca', CA_FILE, '--www'], cleanup);
    let mark = srv.mark();
    const ok = await runOpensslClient({ port: srv.port, input: GET, args: ['-cert', pkiPath('client-cert.pem'), '-key', pkiPath('client-key.pem'), '-cert_chain', pkiPath('intermediate-ca.pem')] });
    expect(ok.stdout, ok.diagnostics).to.match(/^Acceptable client certificate CA names$/m);
    expect(await srv.line(mark)).to.match(/client_certificate=client \(verified\)/);
    mark = srv.mark();
    const none = await runOpensslClient({ port: srv.port, input: '' });
    expect(none.facts.alertsIn, none.diagnostics).to.deep.equal(['handshake failure']);
    expect(await srv.line(mark)).to.match(/^handshake failed .*client certificate required/);
  });

  it('usage errors (exit 2, before any connection): flags that need --psk, a non-hex key, a server with neither certificate nor PSK', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['server', '--port', '0', '--psk-hint', 'x'], /--psk-identity and --psk-hint need --psk/],
      [['server', '--port', '0', '--psk', 'xyz'], /--psk must be an even number of hex digits/],
      [['server', '--port', '0'], /--cert and --key are required \(or --psk for a PSK-only server\)/],
      [['client', '127.0.0.1:1', '--psk-identity', 'x'], /--psk-identity needs --psk/],
      [['client', '127.0.0.1:1', '--psk', '0'], /--psk must be an even number of hex digits/],
      [['client', '127.0.0.1:1', '--sess-in', '/nonexistent/qtls.sess'], /cannot read session file/],
    ];
    for (const [argv, message] of cases) {
      let err = '';
      const sink = new Writable({ write: (c, _e, cb) => ((err += c), cb()) });
      const code = await main(argv, { stdin: Readable.from([]), stdout: sink, stderr: sink });
      expect(code, `${argv.join(' ')}: ${err}`).to.equal(2);
      expect(err, argv.join(' ')).to.match(message);
    }
  });

  describe('qtls client against openssl s_server', () => {
    it('--psk --psk-identity (hint from -psk_hint)', async () => {
      const s = await startOpensslServer({ certs: [CERTS.rsa], ciphers: 'PSK-AES256-GCM-SHA384', args: ['-psk', KEY_HEX, '-psk_identity', 'client1', '-psk_hint', 'ossl-hint'] }, cleanup);
      const r = await runCliClient([`127.0.0.1:${s.port}`, '--psk', KEY_HEX, '--psk-identity', 'client1', '--ciphers', 'PSK-AES256-GCM-SHA384'], { input: 'hello\n', expect: 'olleh' });
      expect(r.exitCode, r.diagnostics).to.equal(0);
      expect(r.stdout).to.equal('olleh\n');
      expect(r.stderr).to.match(/TLS_PSK_WITH_AES_256_GCM_SHA384 .*psk_identity=client1 psk_hint=ossl-hint session=new/);
    });

    it('--cert --key against -Verify 1', async () => {
      const s = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], args: ['-Verify', '1', '-CAfile', CA_FILE, '-verify_return_error'] }, cleanup);
      const mark = s.mark();
      const r = await runCliClient([`127.0.0.1:${s.port}`, '--servername', 'localhost', '--ca', CA_FILE, '--cert', pkiPath('client-chain.pem'), '--key', pkiPath('client-key.pem')], { input: 'hello\n', expect: 'olleh' });
      const conn = await s.connection(mark);
      expect(r.exitCode, `${r.diagnostics}\n${conn.diagnostics}`).to.equal(0);
      expect(conn.log).to.match(/^Peer certificate: C = DE, O = qtls test PKI, CN = client$/m);
    });

    it('--reconnect prints New then Reused ×4 (tickets and -no_ticket); --sess-out / --sess-in resume across processes', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'qtls-cli-'));
      cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
      for (const args of [[], ['-no_ticket']]) {
        const s = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], args }, cleanup);
        const base = [`127.0.0.1:${s.port}`, '--servername', 'localhost', '--ca', CA_FILE];
        const re = await runCliClient([...base, '--reconnect']);
        expect(re.exitCode, re.diagnostics).to.equal(0);
        expect(re.stdout.trim().split('\n'), re.diagnostics).to.deep.equal([
          'New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256',
          ...Array(4).fill('Reused, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256'),
        ]);

        if (args.length) continue; // --sess-out/--sess-in once, with a ticket
        const file = path.join(dir, 'qtls.sess');
        const first = await runCliClient([...base, '--sess-out', file], { input: 'hello\n', expect: 'olleh' });
        expect(first.stderr, first.diagnostics).to.match(/session=new/);
        expect(readFileSync(file, 'latin1')).to.match(/^-----BEGIN QTLS SESSION-----\n/);
        expect(statSync(file).mode & 0o077, 'the session file is private').to.equal(0);
        const second = await runCliClient([...base, '--sess-in', file], { input: 'hello\n', expect: 'olleh' });
        expect(second.exitCode, second.diagnostics).to.equal(0);
        expect(second.stderr, second.diagnostics).to.match(/session=reused/);
        expect(second.stdout).to.equal('olleh\n');
      }
    });
  });
});
