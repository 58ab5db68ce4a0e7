// The PSK family (RFC 4279 PSK and DHE_PSK, RFC 5489/8442 ECDHE_PSK) with node:tls-shaped pskCallback /
// pskIdentityHint: qtls against itself for all nine suites, openssl s_client/s_server and node:tls for
// the suites they implement (none of them has RFC 8442's ECDHE_PSK AES-GCM suites), identity hints,
// unknown identities (unknown_psk_identity) and wrong keys (bad_record_mac at the Finished, no crash).
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startOpensslServer } from '../helpers/openssl.js';
import { dhParams, dhPath, runClient, show, startServer, type TestServer } from './helpers/endpoints.js';

const KEY_HEX = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const KEY = Buffer.from(KEY_HEX, 'hex');
const IDENTITY = 'client1';

const SUITES = {
  PSK: ['PSK-AES128-GCM-SHA256', 'PSK-AES256-GCM-SHA384', 'PSK-CHACHA20-POLY1305'],
  ECDHE_PSK: ['ECDHE-PSK-AES128-GCM-SHA256', 'ECDHE-PSK-AES256-GCM-SHA384', 'ECDHE-PSK-CHACHA20-POLY1305'],
  DHE_PSK: ['DHE-PSK-AES128-GCM-SHA256', 'DHE-PSK-AES256-GCM-SHA384', 'DHE-PSK-CHACHA20-POLY1305'],
} as const;
const ALL = Object.values(SUITES).flat();
/** The suites OpenSSL 3.0 and node:tls implement (RFC 8442's ECDHE_PSK GCM suites are missing there). */
const OPENSSL = ALL.filter((s) => !/^ECDHE-PSK-AES/.test(s));
const GROUP: Record<string, string | undefined> = { PSK: undefined, ECDHE_PSK: 'x25519', DHE_PSK: 'ffdhe2048' };
const familyOf = (suite: string) => (suite.startsWith('ECDHE-PSK') ? 'ECDHE_PSK' : suite.startsWith('DHE-PSK') ? 'DHE_PSK' : 'PSK');

/** A server pskCallback (async, as a key store would be) knowing only IDENTITY. */
const serverPsk = async (_socket: unknown, identity: string) => (identity === IDENTITY ? KEY : null);

describe('classical: PSK, ECDHE_PSK, DHE_PSK', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  describe('qtls ↔ qtls (PSK-only server, no certificate)', () => {
    let server: TestServer;
    const hints: Array<string | null> = [];
    const clientPsk = async (hint: string | null) => {
      hints.push(hint);
      return { identity: IDENTITY, psk: KEY };
    };
    beforeEach(async () => {
      hints.length = 0;
      server = await startServer('qtls', { pskCallback: serverPsk, pskIdentityHint: 'qtls-hint', ciphers: ALL.join(':') }, cleanup);
    });

    it('all nine suites: identity hint to the client, identity to the server, data both ways', async () => {
      for (const suite of ALL) {
        const c = await runClient('qtls', server.port, { ciphers: suite, pskCallback: clientPsk });
        const s = await server.next();
        const why = `${suite}\n${show(c)}\n${show(s)}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(suite);
        expect(c.received.toString(), why).to.equal('ping');
        expect(c.kx.pskIdentityHint, why).to.equal('qtls-hint');
        expect(c.kx.pskIdentity, why).to.equal(IDENTITY);
        expect(c.kx.group, why).to.equal(GROUP[familyOf(suite)]);
        expect(c.peerCN, why).to.equal(undefined);
        expect(s.cipher, why).to.equal(suite);
        expect(s.kx.pskIdentity, why).to.equal(IDENTITY);
        expect(s.received.toString(), why).to.equal('ping');
      }
      expect(hints).to.deep.equal(ALL.map(() => 'qtls-hint'));
    });

    it('plain PSK without a hint: no ServerKeyExchange, the callback gets null', async () => {
      const noHint = await startServer('qtls', { pskCallback: serverPsk }, cleanup);
      const c = await runClient('qtls', noHint.port, { ciphers: SUITES.PSK.join(':'), pskCallback: clientPsk });
      expect(c.error, show(c)).to.equal(undefined);
      expect(hints).to.deep.equal([null]);
      expect(c.kx.pskIdentityHint).to.equal(undefined);
    });

    it('the client offers PSK suites only with a pskCallback: without one it has nothing in common with a PSK-only server', async () => {
      const c = await runClient('qtls', server.port, { rejectUnauthorized: false });
      expect(c.error?.alert, show(c)).to.equal('handshake_failure');
      expect(c.error?.origin).to.equal('remote');
      expect((await server.nextError()).message).to.match(/no cipher suite in common/);
    });

    it('an unknown identity: unknown_psk_identity, and the server keeps serving', async () => {
      for (const suite of ['PSK-AES128-GCM-SHA256', 'ECDHE-PSK-CHACHA20-POLY1305', 'DHE-PSK-AES256-GCM-SHA384']) {
        const c = await runClient('qtls', server.port, { ciphers: suite, pskCallback: () => ({ identity: 'mallory', psk: KEY }) });
        const e = await server.nextError();
        expect(e.alert, `${suite}: ${e.message}`).to.equal('unknown_psk_identity');
        expect(e.message).to.match(/unknown PSK identity "mallory"/);
        expect(c.error?.alert, show(c)).to.equal('unknown_psk_identity');
        expect(c.error?.origin).to.equal('remote');
      }
      const ok = await runClient('qtls', server.port, { ciphers: 'PSK-AES128-GCM-SHA256', pskCallback: clientPsk });
      expect(ok.error, show(ok)).to.equal(undefined);
    });

    it('a wrong key: the server cannot read the client Finished (bad_record_mac); nobody crashes', async () => {
      for (const suite of ['PSK-AES128-GCM-SHA256', 'ECDHE-PSK-AES256-GCM-SHA384', 'DHE-PSK-CHACHA20-POLY1305']) {
        const wrong = Buffer.from(KEY);
        wrong[0]! ^= 1;
        const c = await runClient('qtls', server.port, { ciphers: suite, pskCallback: () => ({ identity: IDENTITY, psk: wrong }) });
        const e = await server.nextError();
        expect(e.alert, `${suite}: ${e.message}`).to.equal('bad_record_mac');
        expect(c.secure, show(c)).to.equal(false);
        expect(c.error?.alert, show(c)).to.equal('bad_record_mac');
        expect(c.error?.origin).to.equal('remote');
      }
      const ok = await runClient('qtls', server.port, { ciphers: 'DHE-PSK-CHACHA20-POLY1305', pskCallback: clientPsk });
      expect(ok.error, show(ok)).to.equal(undefined);
    });

    it('a client pskCallback that has no key for the hint ends the handshake with handshake_failure', async () => {
      const c = await runClient('qtls', server.port, { ciphers: 'PSK-AES128-GCM-SHA256', pskCallback: () => null });
      expect(c.error?.alert, show(c)).to.equal('handshake_failure');
      expect(c.error?.origin).to.equal('local');
      expect((await server.nextError()).alert).to.equal('handshake_failure');
    });
  });

  describe('openssl s_client → qtls server', () => {
    before(function () {
      requireOpenssl(this);
    });
    const psk = (identity = IDENTITY, key = KEY_HEX) => ['-psk', key, '-psk_identity', identity];

    it(`each suite OpenSSL has (${OPENSSL.length}), with the identity hint`, async () => {
      for (const suite of OPENSSL) {
        const server = await startServer('qtls', { pskCallback: serverPsk, pskIdentityHint: 'qtls-hint', ciphers: ALL.join(':') }, cleanup, { closeAfter: 6 });
        const res = await runOpensslClient({ port: server.port, cipher: suite, verify: false, input: 'hello\n', args: psk() });
        const s = await server.next();
        const why = `${suite}\n${show(s)}\n${res.diagnostics}`;
        expect(res.exitCode, why).to.equal(0);
        expect(res.cipher, why).to.equal(suite);
        expect(res.stdout, why).to.match(/^\s*PSK identity hint: qtls-hint$/m);
        expect(res.stdout, why).to.match(/^\s*PSK identity: client1$/m);
        expect(res.data, why).to.equal('hello\n');
        expect(s.kx.pskIdentity, why).to.equal(IDENTITY);
        expect(s.kx.group, why).to.equal(GROUP[familyOf(suite)]);
        await server.close();
      }
    });

    it('unknown identity → unknown psk identity; wrong key → bad record mac', async () => {
      const server = await startServer('qtls', { pskCallback: serverPsk, ciphers: ALL.join(':') }, cleanup);
      const unknown = await runOpensslClient({ port: server.port, cipher: 'PSK-AES128-GCM-SHA256', verify: false, input: '', args: psk('mallory') });
      expect((await server.nextError()).alert).to.equal('unknown_psk_identity');
      expect(unknown.facts.alertsIn, unknown.diagnostics).to.deep.equal(['unknown PSK identity']);
      const wrong = await runOpensslClient({ port: server.port, cipher: 'ECDHE-PSK-CHACHA20-POLY1305', verify: false, input: '', args: psk(IDENTITY, '00' + KEY_HEX.slice(2)) });
      expect((await server.nextError()).alert).to.equal('bad_record_mac');
      expect(wrong.facts.alertsIn, wrong.diagnostics).to.deep.equal(['bad record mac']);
      expect(wrong.exitCode, wrong.diagnostics).to.not.equal(0);
    });
  });

  describe('qtls client → openssl s_server -psk -psk_hint', () => {
    before(function () {
      requireOpenssl(this);
    });

    it(`each suite OpenSSL has (${OPENSSL.length}); a wrong key is answered with bad_record_mac`, async () => {
      const s = await startOpensslServer(
        {
          certs: [CERTS.rsa],
          ciphers: OPENSSL.join(':'),
          args: ['-psk', KEY_HEX, '-psk_identity', IDENTITY, '-psk_hint', 'ossl-hint', '-dhparam', dhPath('ffdhe2048')],
        },
        cleanup,
      );
      for (const suite of OPENSSL) {
        const mark = s.mark();
        const c = await runClient('qtls', s.port, { ciphers: suite, pskCallback: (hint) => (hint === 'ossl-hint' ? { identity: IDENTITY, psk: KEY } : null) }, 'hello\n');
        const conn = await s.connection(mark);
        const why = `${suite}\n${show(c)}\n${conn.diagnostics}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(suite);
        expect(c.received.toString(), why).to.equal('olleh\n');
        expect(c.kx.pskIdentityHint, why).to.equal('ossl-hint');
        expect(c.kx.group, why).to.equal(GROUP[familyOf(suite)]);
        expect(conn.cipher, why).to.equal(suite);
      }
      const mark = s.mark();
      const c = await runClient('qtls', s.port, { ciphers: 'DHE-PSK-AES128-GCM-SHA256', pskCallback: () => ({ identity: IDENTITY, psk: Buffer.alloc(16, 7) }) });
      const conn = await s.connection(mark);
      expect(c.error?.alert, `${show(c)}\n${conn.diagnostics}`).to.equal('bad_record_mac');
      expect(c.error?.origin).to.equal('remote');
      expect(conn.facts.alertsOut).to.deep.equal(['bad record mac']);
    });
  });

  describe('node:tls', () => {
    const NODE_SUITES = ['PSK-AES128-GCM-SHA256', 'PSK-CHACHA20-POLY1305', 'ECDHE-PSK-CHACHA20-POLY1305', 'DHE-PSK-AES256-GCM-SHA384'];

    it('node client → qtls server', async () => {
      const server = await startServer('qtls', { pskCallback: serverPsk, pskIdentityHint: 'qtls-hint', ciphers: ALL.join(':') }, cleanup);
      for (const suite of NODE_SUITES) {
        const hints: Array<string | null> = [];
        const c = await runClient('node', server.port, { ciphers: suite, pskCallback: (hint: string | null) => (hints.push(hint), { identity: IDENTITY, psk: KEY }), checkServerIdentity: () => undefined });
        const s = await server.next();
        expect(c.error, `${suite}: ${show(c)}`).to.equal(undefined);
        expect(c.cipher).to.equal(suite);
        expect(c.received.toString()).to.equal('ping');
        expect(hints).to.deep.equal(['qtls-hint']);
        expect(s.kx.pskIdentity).to.equal(IDENTITY);
      }
    });

    it('qtls client → node server (pskIdentityHint); unknown identity → unknown_psk_identity', async () => {
      const server = await startServer('node', { pskCallback: (_s: unknown, id: string) => (id === IDENTITY ? KEY : null), pskIdentityHint: 'node-hint', ciphers: NODE_SUITES.join(':'), dhparam: dhParams('ffdhe2048'), maxVersion: 'TLSv1.2' }, cleanup);
      for (const suite of NODE_SUITES) {
        const c = await runClient('qtls', server.port, { ciphers: suite, pskCallback: () => ({ identity: IDENTITY, psk: KEY }) });
        expect(c.error, `${suite}: ${show(c)}`).to.equal(undefined);
        expect(c.cipher).to.equal(suite);
        expect(c.kx.pskIdentityHint).to.equal('node-hint');
        expect(c.received.toString()).to.equal('ping');
        await server.next();
      }
      const bad = await runClient('qtls', server.port, { ciphers: 'PSK-AES128-GCM-SHA256', pskCallback: () => ({ identity: 'mallory', psk: KEY }) });
      expect(bad.error?.alert, show(bad)).to.equal('unknown_psk_identity');
      expect(bad.error?.origin).to.equal('remote');
    });
  });
});
