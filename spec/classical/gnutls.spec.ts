// GnuTLS (gnutls-cli / gnutls-serv 3.7) against qtls, TLS 1.2 only, one suite or more of each family:
// ECDHE, DHE (GnuTLS negotiates RFC 7919 groups in TLS 1.2, so the group choice is exercised), PSK,
// ECDHE_PSK and DHE_PSK, plus resumption and a client certificate. gnutls-cli crashes after (EC)DHE-PSK
// handshakes (Debian 3.7.9, even against gnutls-serv), so those families run with qtls as the client
// of gnutls-serv. A missing GnuTLS fails under CI (requireGnutls).
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CA_FILE, ca, pkiPath } from '../helpers/fixtures.js';
import { GNUTLS_TLS12, gnutlsPriority, requireGnutls, runGnutlsClient, startGnutlsServer, type GnutlsServer } from '../helpers/gnutls.js';
import { CLIENT_CERT, ECDSA_SERVER, RSA_SERVER, runClient, show, startServer } from './helpers/endpoints.js';

const KEY_HEX = '8f1e2d3c4b5a69788796a5b4c3d2e1f0';
const KEY = Buffer.from(KEY_HEX, 'hex');
const serverPsk = (_s: unknown, id: string) => (id === 'client1' ? KEY : null);

describe('classical: GnuTLS interop', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();
  before(function () {
    requireGnutls(this);
  });

  describe('gnutls-cli → qtls server', () => {
    const cases = [
      { name: 'ECDHE-RSA', priority: gnutlsPriority('ECDHE-RSA', 'AES-128-GCM'), suite: 'ECDHE-RSA-AES128-GCM-SHA256', group: 'x25519', desc: /\(ECDHE-X25519\)-\(RSA-PSS-RSAE-SHA256\)-\(AES-128-GCM\)/ },
      { name: 'ECDHE-ECDSA', priority: gnutlsPriority('ECDHE-ECDSA', 'CHACHA20-POLY1305'), suite: 'ECDHE-ECDSA-CHACHA20-POLY1305', group: 'x25519', desc: /\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(CHACHA20-POLY1305\)/ },
      { name: 'DHE-RSA', priority: gnutlsPriority('DHE-RSA', 'AES-256-GCM'), suite: 'DHE-RSA-AES256-GCM-SHA384', group: 'ffdhe2048', desc: /\(DHE-FFDHE2048\)-\(RSA-PSS-RSAE-SHA256\)-\(AES-256-GCM\)/ },
      { name: 'DHE-RSA, FFDHE3072 only (RFC 7919 §4)', priority: `${gnutlsPriority('DHE-RSA', 'CHACHA20-POLY1305')}:-GROUP-ALL:+GROUP-FFDHE3072`, suite: 'DHE-RSA-CHACHA20-POLY1305', group: 'ffdhe3072', desc: /\(DHE-FFDHE3072\)/ },
      { name: 'PSK (with hint)', priority: gnutlsPriority('PSK', 'AES-128-GCM'), suite: 'PSK-AES128-GCM-SHA256', group: undefined, desc: /\(PSK\)-\(AES-128-GCM\)/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const server = await startServer('qtls', { cert: [RSA_SERVER.cert, ECDSA_SERVER.cert], key: [RSA_SERVER.key, ECDSA_SERVER.key], pskCallback: serverPsk, pskIdentityHint: 'qtls-hint' }, cleanup);
        const psk = c.suite.startsWith('PSK');
        const res = await runGnutlsClient({
          port: server.port, priority: c.priority, caFile: psk ? undefined : CA_FILE,
          psk: psk ? { identity: 'client1', key: KEY_HEX } : undefined, input: 'hello\n', expect: 'hello',
        });
        const s = await server.next();
        const why = `${show(s)}\n${res.diagnostics}`;
        expect(res.handshake, why).to.equal(true);
        expect(res.description, why).to.match(c.desc);
        expect(res.data, why).to.include('hello');
        expect(s.cipher, why).to.equal(c.suite);
        expect(s.kx.group, why).to.equal(c.group);
        if (psk) {
          expect(res.pskHint, why).to.equal('qtls-hint');
          expect(s.kx.pskIdentity, why).to.equal('client1');
        }
      });
    }

    it('--resume: tickets, then session IDs (--noticket)', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER }, cleanup);
      for (const args of [['--resume'], ['--resume', '--noticket']]) {
        const res = await runGnutlsClient({ port: server.port, caFile: CA_FILE, args });
        const why = `${args.join(' ')}\n${res.diagnostics}`;
        expect(res.resumed, why).to.equal(true);
        expect((await server.next()).reused, why).to.equal(false);
        expect((await server.next()).reused, why).to.equal(true);
      }
    });

    it('a client certificate: verified by the qtls server; a wrong PSK fails cleanly', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, requestCert: true, rejectUnauthorized: true, ca: ca(), pskCallback: serverPsk }, cleanup);
      const res = await runGnutlsClient({
        port: server.port, caFile: CA_FILE, priority: gnutlsPriority('ECDHE-ECDSA'),
        certFile: pkiPath('client-chain.pem'), keyFile: pkiPath('client-key.pem'), input: 'hello\n', expect: 'hello',
      });
      const s = await server.next();
      expect(res.handshake, res.diagnostics).to.equal(true);
      expect(s.peerCN).to.equal('client');
      expect(s.authorized).to.equal(true);

      const wrong = await runGnutlsClient({ port: server.port, priority: gnutlsPriority('PSK'), psk: { identity: 'client1', key: '00' + KEY_HEX.slice(2) } });
      expect(wrong.handshake, wrong.diagnostics).to.equal(false);
      expect(wrong.output, wrong.diagnostics).to.match(/Bad record MAC|Decryption has failed/i);
      expect((await server.nextError()).alert).to.equal('bad_record_mac');
    });
  });

  describe('qtls client → gnutls-serv', () => {
    let gs: GnutlsServer;
    const suiteCleanup = useCleanup('all');
    before(async () => {
      gs = await startGnutlsServer(
        { priority: GNUTLS_TLS12, psk: { client1: KEY_HEX }, pskHint: 'gnutls-hint', certFile: pkiPath('rsa-chain.pem'), keyFile: pkiPath('rsa-key.pem'), args: ['--x509cafile', CA_FILE] },
        suiteCleanup,
      );
    });

    const pskCases = [
      { suite: 'ECDHE-PSK-CHACHA20-POLY1305', group: 'x25519', desc: /\(ECDHE-X25519\)-\(CHACHA20-POLY1305\)/ },
      { suite: 'DHE-PSK-AES128-GCM-SHA256', group: 'ffdhe2048', desc: /\(DHE-FFDHE2048\)-\(AES-128-GCM\)/ },
      { suite: 'DHE-PSK-CHACHA20-POLY1305', group: 'ffdhe2048', desc: /\(DHE-FFDHE2048\)-\(CHACHA20-POLY1305\)/ },
      { suite: 'PSK-AES256-GCM-SHA384', group: undefined, desc: /\(PSK\)-\(AES-256-GCM\)/ },
    ];
    for (const c of pskCases) {
      it(`${c.suite} (identity hint)`, async () => {
        const hints: Array<string | null> = [];
        const mark = gs.mark();
        const r = await runClient('qtls', gs.port, { ciphers: c.suite, pskCallback: (hint) => (hints.push(hint), { identity: 'client1', psk: KEY }) }, 'hello\n');
        const conn = await gs.connection(mark);
        const why = `${show(r)}\n${conn.log}`;
        expect(r.error, why).to.equal(undefined);
        expect(r.cipher, why).to.equal(c.suite);
        expect(r.received.toString(), why).to.equal('hello\n');
        expect(r.kx.group, why).to.equal(c.group);
        expect(hints, why).to.deep.equal(['gnutls-hint']);
        expect(conn.description, why).to.match(c.desc);
        expect(conn.pskIdentity, why).to.equal('client1');
      });
    }

    for (const suite of ['ECDHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
      it(`${suite} (certificate)`, async () => {
        const mark = gs.mark();
        const r = await runClient('qtls', gs.port, { ca: ca(), servername: 'localhost', ciphers: suite }, 'hello\n');
        const conn = await gs.connection(mark);
        expect(r.error, `${show(r)}\n${conn.log}`).to.equal(undefined);
        expect(r.cipher).to.equal(suite);
        expect(r.authorized).to.equal(true);
        expect(r.received.toString()).to.equal('hello\n');
        expect(r.kx.group).to.equal(suite.startsWith('DHE') ? 'ffdhe2048' : 'x25519');
      });
    }

    it('a session from gnutls-serv resumes (ticket)', async () => {
      const first = await runClient('qtls', gs.port, { ca: ca(), servername: 'localhost', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'hello\n');
      const again = await runClient('qtls', gs.port, { ca: ca(), servername: 'localhost', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', session: first.session }, 'hello\n');
      expect(again.error, show(again)).to.equal(undefined);
      expect(again.reused, show(again)).to.equal(true);
    });

    it('unknown identity or wrong key: gnutls-serv fails the Finished; the qtls client reports bad_record_mac', async () => {
      for (const answer of [{ identity: 'mallory', psk: KEY }, { identity: 'client1', psk: Buffer.alloc(16, 1) }]) {
        const mark = gs.mark();
        const r = await runClient('qtls', gs.port, { ciphers: 'PSK-AES256-GCM-SHA384', pskCallback: () => answer });
        const conn = await gs.connection(mark);
        expect(r.error?.alert, `${show(r)}\n${conn.log}`).to.equal('bad_record_mac');
        expect(conn.error, conn.log).to.match(/Decryption has failed/);
      }
    });

    it('a client certificate offered to gnutls-serv (it requests one by default)', async () => {
      const mark = gs.mark();
      const r = await runClient('qtls', gs.port, { ca: ca(), servername: 'localhost', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ...CLIENT_CERT }, 'hello\n');
      const conn = await gs.connection(mark);
      expect(r.error, `${show(r)}\n${conn.log}`).to.equal(undefined);
      await gs.waitFor(() => /CN=client/.test(gs.output.slice(mark)), 2000);
      expect(gs.output.slice(mark), conn.log).to.match(/CN=client/);
    });
  });
});
