// OCSP stapling (RFC 6066 §8) against the openssl CLI: a qtls client asking `openssl s_server
// -status_file` for a real OCSP response (fixtures/pki/ocsp-ecdsa-p256-good.der, made by make-ocsp.sh),
// and `openssl s_client -status` asking a qtls server that staples it from its 'OCSPRequest' listener.
// A revoked response built here with `openssl ocsp -index … -respout` shows that the bytes pass through
// uninterpreted both ways: checking them is the application's job.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as qtlsConnect, type TLSSocket } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, CA_FILE, INTERMEDIATE_PATH, ca, pki, pkiPath } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startEchoServer, startOpensslServer, type OpensslServer } from '../helpers/peers.js';
import { LOCALHOST } from '../helpers/ports.js';

/** What s_client sends (and the qtls echo server closes after). */
const LINE = 'hello\n';
const GOOD_PATH = pkiPath('ocsp-ecdsa-p256-good.der');
const GOOD = pki('ocsp-ecdsa-p256-good.der');
const der = (name: string) => new X509Certificate(pki(name)).raw;

/** `openssl ocsp` with arguments; its stdout and stderr together (it prints its verdicts on both). */
function ocsp(args: string[]): string {
  return execFileSync('openssl', ['ocsp', ...args], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * What `openssl ocsp -respin` says of a response for `leaf` (issued by the intermediate CA): the signature
 * check ("Response verify OK", on stderr) and the status line ("<path>: good"), stdout and stderr together.
 */
function ocspVerdict(response: Uint8Array, leaf: string, dir: string): string {
  const file = path.join(dir, 'received.der');
  writeFileSync(file, response);
  const r = spawnSync('openssl', ['ocsp', '-respin', file, '-issuer', INTERMEDIATE_PATH, '-cert', pkiPath(leaf), '-CAfile', CA_FILE, '-verify_other', INTERMEDIATE_PATH], { encoding: 'latin1' });
  return `${r.stdout}${r.stderr}exit ${r.status}\n`;
}

/**
 * A response saying `leaf` is revoked, built now the way make-ocsp.sh builds the committed one: an
 * index.txt entry with status R, a request, and the intermediate CA signing the response.
 */
function revokedResponse(leaf: string, dir: string): Buffer {
  const cert = new X509Certificate(pki(leaf));
  const subject = execFileSync('openssl', ['x509', '-in', pkiPath(leaf), '-noout', '-subject', '-nameopt', 'compat'], { encoding: 'latin1' }).replace(/^subject=/, '').trim();
  writeFileSync(path.join(dir, 'index.txt'), `R\t450101000000Z\t250601000000Z,keyCompromise\t${cert.serialNumber}\tunknown\t${subject}\n`);
  ocsp(['-issuer', INTERMEDIATE_PATH, '-cert', pkiPath(leaf), '-no_nonce', '-reqout', path.join(dir, 'req.der')]);
  ocsp(['-index', path.join(dir, 'index.txt'), '-CA', INTERMEDIATE_PATH, '-rsigner', INTERMEDIATE_PATH, '-rkey', pkiPath('intermediate-ca-key.pem'),
    '-reqin', path.join(dir, 'req.der'), '-ndays', '1', '-respout', path.join(dir, 'revoked.der')]);
  return readFileSync(path.join(dir, 'revoked.der'));
}

interface QtlsClientResult {
  responses: Array<Buffer | null>;
  events: string[];
  echoed: string;
  error: Error | undefined;
}

/** A qtls client that sends one line to `s_server -rev`, reads it back reversed and closes. */
async function qtlsClient(port: number, options: Record<string, unknown>): Promise<QtlsClientResult> {
  const r: QtlsClientResult = { responses: [], events: [], echoed: '', error: undefined };
  const sock: TLSSocket = qtlsConnect({ host: LOCALHOST, port, servername: 'localhost', ca: ca(), ...options });
  sock.on('OCSPResponse', (resp: Buffer | null) => (r.responses.push(resp), r.events.push('OCSPResponse')));
  sock.once('secureConnect', () => (r.events.push('secureConnect'), sock.write('stapled\n')));
  sock.on('data', (d: Buffer) => {
    r.echoed += d.toString('latin1');
    if (r.echoed.endsWith('\n')) sock.end();
  });
  sock.on('error', (e) => (r.error ??= e));
  const timer = setTimeout(() => sock.destroy(new Error('qtls client: not closed within 5 s')), 5000);
  await new Promise((resolve) => sock.once('close', resolve));
  clearTimeout(timer);
  return r;
}

describe('interop: OCSP stapling with openssl (s_server -status_file, s_client -status)', function () {
  this.timeout(30_000);
  const cleanup = useCleanup();
  let dir: string;
  before(function () {
    requireOpenssl(this);
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qtls-ocsp-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
  });

  it('the committed fixture is a real response: openssl verifies it, status good for ecdsa-p256-cert.pem', () => {
    const verdict = ocspVerdict(GOOD, 'ecdsa-p256-cert.pem', dir);
    expect(verdict).to.match(/^Response verify OK$/m).and.match(/ecdsa-p256-cert\.pem: good$/m).and.match(/^exit 0$/m);
  });

  describe('qtls client → openssl s_server', () => {
    let server: OpensslServer;
    const serve = async (statusFile: string) =>
      (server = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], args: ['-status_file', statusFile] }, cleanup));

    it('requestOCSP: the OCSPResponse event carries the file byte for byte, before secureConnect; openssl sent CertificateStatus', async () => {
      await serve(GOOD_PATH);
      const mark = server.mark();
      const r = await qtlsClient(server.port, { requestOCSP: true });
      const conn = await server.connection(mark);
      expect(r.error, conn.diagnostics).to.equal(undefined);
      expect(r.events).to.deep.equal(['OCSPResponse', 'secureConnect']);
      expect(r.responses).to.deep.equal([GOOD]);
      expect(r.echoed).to.equal('delpats\n');
      expect(conn.trace, conn.diagnostics).to.match(/^\s*CertificateStatus, Length=\d+$/m);
      expect(conn.closed, conn.diagnostics).to.equal(true);
      // What the client received is still the responder's signed statement.
      expect(ocspVerdict(r.responses[0]!, 'ecdsa-p256-cert.pem', dir)).to.match(/^Response verify OK$/m).and.match(/: good$/m);
    });

    it('without requestOCSP: no status_request, no CertificateStatus, no event', async () => {
      await serve(GOOD_PATH);
      const mark = server.mark();
      const r = await qtlsClient(server.port, {});
      const conn = await server.connection(mark);
      expect(r.error, conn.diagnostics).to.equal(undefined);
      expect(r.events).to.deep.equal(['secureConnect']);
      expect(conn.trace).to.not.match(/status_request|CertificateStatus/);
    });

    it('a revoked response (built now with openssl ocsp) is handed over as it is: qtls does not judge it', async () => {
      const revoked = revokedResponse('ecdsa-p256-cert.pem', dir);
      writeFileSync(path.join(dir, 'revoked-status.der'), revoked);
      await serve(path.join(dir, 'revoked-status.der'));
      const mark = server.mark();
      const r = await qtlsClient(server.port, { requestOCSP: true });
      await server.connection(mark);
      expect(r.events).to.deep.equal(['OCSPResponse', 'secureConnect']);
      expect(r.responses).to.deep.equal([revoked]);
      expect(ocspVerdict(r.responses[0]!, 'ecdsa-p256-cert.pem', dir)).to.match(/^Response verify OK$/m).and.match(/: revoked$/m);
    });
  });

  describe('openssl s_client -status → qtls server', () => {
    async function stapling(answer: Buffer | null | 'no listener') {
      // s_client (-ign_eof) reads until the server closes: close after echoing one line.
      const server = await startEchoServer('qtls', { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() }, cleanup, { closeAfter: LINE.length });
      const requests: Array<[Buffer, Buffer | null]> = [];
      if (answer !== 'no listener')
        server.server.on('OCSPRequest', (cert: Buffer, issuer: Buffer | null, cb: (e: null, r: Buffer | null) => void) => (requests.push([cert, issuer]), cb(null, answer)));
      return { server, requests };
    }

    it('prints "OCSP Response Status: successful" and "Cert Status: good"; the listener got the leaf and its issuer', async () => {
      const { server, requests } = await stapling(GOOD);
      const r = await runOpensslClient({ port: server.port, input: LINE, args: ['-status'] });
      expect(r.exitCode, r.diagnostics).to.equal(0);
      expect(r.stdout, r.diagnostics).to.match(/^OCSP response: $/m);
      expect(r.stdout).to.match(/^\s*OCSP Response Status: successful \(0x0\)$/m);
      expect(r.stdout).to.match(/^\s*Cert Status: good$/m);
      expect(r.verifyReturn).to.equal('0 (ok)');
      expect(r.data).to.equal(LINE);
      // s_client's own trace of what it received: the announcement and the message.
      expect(r.trace).to.match(/^\s*CertificateStatus, Length=\d+$/m);
      expect(requests).to.deep.equal([[der('ecdsa-p256-cert.pem'), der('intermediate-ca.pem')]]);
    });

    for (const answer of [null, 'no listener'] as const) {
      it(`${answer === null ? 'callback(null, null)' : 'no OCSPRequest listener'}: "OCSP response: no response sent"`, async () => {
        const { server } = await stapling(answer);
        const r = await runOpensslClient({ port: server.port, input: LINE, args: ['-status'] });
        expect(r.exitCode, r.diagnostics).to.equal(0);
        expect(r.stdout, r.diagnostics).to.match(/^OCSP response: no response sent$/m);
        expect(r.trace).to.not.match(/CertificateStatus/);
      });
    }

    it('without -status: no OCSPRequest', async () => {
      const { server, requests } = await stapling(GOOD);
      const r = await runOpensslClient({ port: server.port, input: LINE });
      expect(r.exitCode, r.diagnostics).to.equal(0);
      expect(r.stdout).to.not.match(/OCSP/);
      expect(requests).to.have.length(0);
    });

    it('a resumed session (-sess_out, -sess_in): no OCSPRequest, no CertificateStatus', async () => {
      const { server, requests } = await stapling(GOOD);
      const sess = path.join(dir, 'session.pem');
      const first = await runOpensslClient({ port: server.port, input: LINE, args: ['-status', '-sess_out', sess] });
      const second = await runOpensslClient({ port: server.port, input: LINE, args: ['-status', '-sess_in', sess] });
      expect([first.reused, second.reused], second.diagnostics).to.deep.equal([false, true]);
      expect(first.stdout).to.match(/OCSP Response Status: successful/);
      expect(second.trace).to.not.match(/CertificateStatus/);
      expect(requests).to.have.length(1);
    });

    it('a revoked response (built now with openssl ocsp) is stapled as it is: s_client prints "Cert Status: revoked"', async () => {
      const revoked = revokedResponse('ecdsa-p256-cert.pem', dir);
      const { server } = await stapling(revoked);
      const r = await runOpensslClient({ port: server.port, input: LINE, args: ['-status'] });
      expect(r.exitCode, r.diagnostics).to.equal(0);
      expect(r.stdout).to.match(/^\s*Cert Status: revoked$/m);
      expect(r.stdout).to.match(/^\s*Revocation Reason: keyCompromise \(0x1\)$/m);
    });
  });
});
