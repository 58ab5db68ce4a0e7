// Finite-field DHE (RFC 5246 §7.4.3, RFC 7919): the three DHE_RSA AEAD suites, group choice by the
// server among the client's offered FFDHE groups (RFC 7919 §4), the server's `dhparam` option, and the
// client's group policy (RFC 7919 groups; RFC 3526 MODP groups of at least minDHSize bits, what OpenSSL 3
// and node send without a dhparam; custom groups only with allowCustomDHGroups and at least minDHSize
// bits) — qtls against itself, openssl s_client/s_server and node:tls.
import { expect } from 'chai';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startOpensslServer } from '../helpers/openssl.js';
import { MODP2048 } from '../../lib/crypto/modp-groups.js';
import { RSA_SERVER, dhParams, dhPath, runClient, show, startServer } from './helpers/endpoints.js';

const DHE_SUITES = ['DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305'] as const;
const DHE_CIPHERS = DHE_SUITES.join(':');
const DH = (name: string, size: number) => ({ type: 'DH', name, size });

describe('classical: DHE', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  describe('qtls ↔ qtls', () => {
    for (const suite of DHE_SUITES) {
      it(`${suite}: the server picks ffdhe2048, the first of its groups the client offers`, async () => {
        const server = await startServer('qtls', { ...RSA_SERVER }, cleanup);
        const c = await runClient('qtls', server.port, { ca: ca(), ciphers: suite });
        const s = await server.next();
        const why = `${show(c)}\n${show(s)}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(suite);
        expect(c.received.toString(), why).to.equal('ping');
        expect(c.kx.group, why).to.equal('ffdhe2048');
        expect(c.ephemeral, why).to.deep.equal(DH('ffdhe2048', 2048));
        expect(s.cipher, why).to.equal(suite);
        expect(s.kx.group, why).to.equal('ffdhe2048');
      });
    }

    it('RFC 7919 §4: the server takes one of the client\'s groups, in its own preference order', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER, groups: 'ffdhe4096:ffdhe3072:ffdhe2048:X25519' }, cleanup);
      const c = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'ffdhe2048:ffdhe3072' });
      expect(c.error, show(c)).to.equal(undefined);
      expect(c.kx.group, show(c)).to.equal('ffdhe3072');
      expect(c.ephemeral, show(c)).to.deep.equal(DH('ffdhe3072', 3072));
      expect((await server.next()).kx.group).to.equal('ffdhe3072');
    });

    it('minDHSize 3072: the client does not offer ffdhe2048, so a server preferring it picks ffdhe3072', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER, groups: 'ffdhe2048:ffdhe3072:X25519' }, cleanup);
      const c = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, minDHSize: 3072 });
      expect(c.error, show(c)).to.equal(undefined);
      expect(c.kx.group, show(c)).to.equal('ffdhe3072');
      expect((await server.next()).kx.group).to.equal('ffdhe3072');
    });

    it('ffdhe4096 (the one 4096-bit handshake of this suite)', async () => {
      await startServer('qtls', { ...RSA_SERVER }, cleanup).then(async (server) => {
        const c = await runClient('qtls', server.port, { ca: ca(), ciphers: 'DHE-RSA-AES256-GCM-SHA384', groups: 'ffdhe4096' });
        expect(c.error, show(c)).to.equal(undefined);
        expect(c.ephemeral, show(c)).to.deep.equal(DH('ffdhe4096', 4096));
        expect((await server.next()).kx.group).to.equal('ffdhe4096');
      });
    });

    it('RFC 7919 §4: FFDHE groups offered, none acceptable, nothing else in common → insufficient_security', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER, groups: 'X25519:ffdhe2048' }, cleanup);
      const c = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'ffdhe3072' });
      const e = await server.nextError();
      expect(e.alert, e.message).to.equal('insufficient_security');
      expect(c.error?.alert, show(c)).to.equal('insufficient_security');
      expect(c.error?.origin).to.equal('remote');
      // ... and with another suite in common, the server takes that one instead.
      const c2 = await runClient('qtls', server.port, { ca: ca(), ciphers: `${DHE_CIPHERS}:ECDHE-RSA-AES128-GCM-SHA256`, groups: 'ffdhe3072:X25519' });
      expect(c2.error, show(c2)).to.equal(undefined);
      expect(c2.cipher).to.equal('ECDHE-RSA-AES128-GCM-SHA256');
    });

    it('a client that names no FFDHE group gets ffdhe2048, or the server\'s dhparam', async () => {
      const plain = await startServer('qtls', { ...RSA_SERVER }, cleanup);
      const c = await runClient('qtls', plain.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'X25519' });
      expect(c.error, show(c)).to.equal(undefined);
      expect(c.kx.group).to.equal('ffdhe2048');
      await plain.next();

      // dhparam holding an RFC 7919 prime is recognised as that named group (no custom-group opt-in needed).
      const named = await startServer('qtls', { ...RSA_SERVER, dhparam: dhParams('ffdhe3072') }, cleanup);
      const c2 = await runClient('qtls', named.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'X25519' });
      expect(c2.error, show(c2)).to.equal(undefined);
      expect(c2.kx.group).to.equal('ffdhe3072');
      expect((await named.next()).kx.group).to.equal('ffdhe3072');
    });

    it('a dhparam holding an RFC 3526 prime is that named group on both sides (no custom-group opt-in)', async () => {
      // PKCS#3 DHParameter DER: SEQUENCE { INTEGER p (257 bytes with the sign octet), INTEGER 2 }.
      const der = Buffer.concat([Buffer.from('308201080282010100', 'hex'), Buffer.from(MODP2048.p.toString(16), 'hex'), Buffer.from('020102', 'hex')]);
      const server = await startServer('qtls', { ...RSA_SERVER, dhparam: der }, cleanup);
      const c = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'X25519' });
      expect(c.error, show(c)).to.equal(undefined);
      expect(c.ephemeral, show(c)).to.deep.equal(DH('modp2048', 2048));
      expect((await server.next()).kx.group).to.equal('modp2048');
    });

    it('a custom dhparam group: refused by default (insufficient_security), accepted with allowCustomDHGroups', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER, dhparam: dhParams('dh2048') }, cleanup);
      const refused = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'X25519' });
      expect(refused.error?.alert, show(refused)).to.equal('insufficient_security');
      expect(refused.error?.origin).to.equal('local');
      expect(refused.error?.message).to.match(/not an RFC 7919 or RFC 3526 group/);
      const e = await server.nextError();
      expect(e.alert).to.equal('insufficient_security');
      expect(e.origin).to.equal('remote');

      const ok = await runClient('qtls', server.port, { ca: ca(), ciphers: DHE_CIPHERS, groups: 'X25519', allowCustomDHGroups: true });
      expect(ok.error, show(ok)).to.equal(undefined);
      expect(ok.kx.group).to.equal('custom-2048');
      expect(ok.ephemeral).to.deep.equal(DH('custom-2048', 2048));
      expect((await server.next()).kx.group).to.equal('custom-2048');
    });
  });

  describe('openssl s_client → qtls server', () => {
    before(function () {
      requireOpenssl(this);
    });

    for (const suite of DHE_SUITES) {
      it(suite, async () => {
        const server = await startServer('qtls', { ...RSA_SERVER }, cleanup, { closeAfter: 6 });
        const res = await runOpensslClient({ port: server.port, cipher: suite, input: 'hello\n' });
        const s = await server.next();
        const why = `${show(s)}\n${res.diagnostics}`;
        expect(res.exitCode, why).to.equal(0);
        expect(res.cipher, why).to.equal(suite);
        expect(res.tempKey, why).to.equal('DH, 2048 bits');
        expect(res.verifyReturn, why).to.equal('0 (ok)');
        expect(res.data, why).to.equal('hello\n');
        expect(s.kx.group, why).to.equal('ffdhe2048');
      });
    }

    it('-groups ffdhe3072: OpenSSL 3.0 sends no FFDHE group in a TLS 1.2 ClientHello, so the server uses ffdhe2048', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER }, cleanup, { closeAfter: 6 });
      const res = await runOpensslClient({ port: server.port, cipher: DHE_CIPHERS, groups: 'ffdhe3072', input: 'hello\n' });
      const s = await server.next();
      const why = `${show(s)}\n${res.diagnostics}`;
      expect(res.exitCode, why).to.equal(0);
      expect(res.trace, why).to.not.match(/extension_type=supported_groups/);
      expect(res.tempKey, why).to.equal('DH, 2048 bits');
      expect(s.kx.group, why).to.equal('ffdhe2048');
    });

    it('the server\'s custom -dhparam group reaches openssl', async () => {
      const server = await startServer('qtls', { ...RSA_SERVER, dhparam: dhParams('dh2048') }, cleanup, { closeAfter: 6 });
      const res = await runOpensslClient({ port: server.port, cipher: 'DHE-RSA-AES128-GCM-SHA256', input: 'hello\n' });
      const s = await server.next();
      const why = `${show(s)}\n${res.diagnostics}`;
      expect(res.exitCode, why).to.equal(0);
      expect(res.tempKey, why).to.equal('DH, 2048 bits');
      expect(res.data, why).to.equal('hello\n');
      expect(s.kx.group, why).to.equal('custom-2048');
    });
  });

  describe('qtls client → openssl s_server', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('each DHE suite, with -dhparam holding ffdhe2048 (recognised as the named group)', async () => {
      const s = await startOpensslServer({ certs: [CERTS.rsa], ciphers: DHE_CIPHERS, args: ['-dhparam', dhPath('ffdhe2048')] }, cleanup);
      for (const suite of DHE_SUITES) {
        const mark = s.mark();
        const c = await runClient('qtls', s.port, { ca: ca(), ciphers: suite }, 'hello\n');
        const conn = await s.connection(mark);
        const why = `${suite}\n${show(c)}\n${conn.diagnostics}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(suite);
        expect(c.received.toString(), why).to.equal('olleh\n');
        expect(c.kx.group, why).to.equal('ffdhe2048');
        expect(conn.cipher, why).to.equal(suite);
      }
    });

    // No -dhparam: SSL_CTX_set_dh_auto picks the RFC 3526 group by the certificate's strength (RSA-2048,
    // 112 bits → modp2048). OpenSSL 3.0 ignores the ffdhe groups of a TLS 1.2 ClientHello: the client's
    // offer of ffdhe2048/3072/4096 (checked in the trace) changes nothing.
    it('no -dhparam: OpenSSL\'s default group, RFC 3526 modp2048, is accepted by default for each DHE suite', async () => {
      const auto = await startOpensslServer({ certs: [CERTS.rsa], ciphers: DHE_CIPHERS }, cleanup);
      for (const suite of DHE_SUITES) {
        const mark = auto.mark();
        const c = await runClient('qtls', auto.port, { ca: ca(), ciphers: suite }, 'hello\n');
        const conn = await auto.connection(mark);
        const why = `${suite}\n${show(c)}\n${conn.diagnostics}`;
        expect(c.error, why).to.equal(undefined);
        expect(c.cipher, why).to.equal(suite);
        expect(c.received.toString(), why).to.equal('olleh\n');
        expect(c.kx.group, why).to.equal('modp2048');
        expect(c.ephemeral, why).to.deep.equal(DH('modp2048', 2048));
        expect(conn.cipher, why).to.equal(suite);
        // What was on the wire: ffdhe offered, the RFC 3526 §3 prime and g = 2 sent back.
        expect(conn.trace, why).to.match(/extension_type=supported_groups[\s\S]*ffdhe2048 \(256\)/);
        expect(conn.trace, why).to.include(`dh_p (len=256): ${MODP2048.p.toString(16).toUpperCase()}\n`);
        expect(conn.trace, why).to.match(/dh_g \(len=1\): 02/);
      }
    });

    it('no -dhparam, minDHSize 3072: modp2048 refused (insufficient_security); a custom -dhparam group still needs allowCustomDHGroups', async () => {
      const auto = await startOpensslServer({ certs: [CERTS.rsa], ciphers: DHE_CIPHERS }, cleanup);
      let mark = auto.mark();
      const refused = await runClient('qtls', auto.port, { ca: ca(), minDHSize: 3072 });
      let conn = await auto.connection(mark);
      expect(refused.error?.alert, show(refused)).to.equal('insufficient_security');
      expect(refused.error?.message).to.match(/modp2048 \(2048 bits\) is below the minimum of 3072/);
      expect(conn.facts.alertsIn, conn.diagnostics).to.deep.equal(['insufficient security']);

      const custom = await startOpensslServer({ certs: [CERTS.rsa], ciphers: DHE_CIPHERS, args: ['-dhparam', dhPath('dh2048')] }, cleanup);
      mark = custom.mark();
      const no = await runClient('qtls', custom.port, { ca: ca() });
      conn = await custom.connection(mark);
      expect(no.error?.alert, show(no)).to.equal('insufficient_security');
      expect(no.error?.message).to.match(/not an RFC 7919 or RFC 3526 group/);
      mark = custom.mark();
      const c = await runClient('qtls', custom.port, { ca: ca(), allowCustomDHGroups: true }, 'hello\n');
      conn = await custom.connection(mark);
      expect(c.error, `${show(c)}\n${conn.diagnostics}`).to.equal(undefined);
      expect(c.ephemeral).to.deep.equal(DH('custom-2048', 2048));
    });

    it('a 1024-bit group is refused even with allowCustomDHGroups (minDHSize 2048), accepted only by lowering minDHSize', async () => {
      const s = await startOpensslServer({ certs: [CERTS.rsa], ciphers: `${DHE_CIPHERS}:@SECLEVEL=0`, args: ['-dhparam', dhPath('dh1024')] }, cleanup);
      let mark = s.mark();
      const refused = await runClient('qtls', s.port, { ca: ca(), allowCustomDHGroups: true });
      let conn = await s.connection(mark);
      expect(refused.error?.alert, show(refused)).to.equal('insufficient_security');
      expect(refused.error?.message).to.match(/1024 bits is below the minimum of 2048/);
      expect(conn.facts.alertsIn, conn.diagnostics).to.deep.equal(['insufficient security']);
      mark = s.mark();
      const ok = await runClient('qtls', s.port, { ca: ca(), allowCustomDHGroups: true, minDHSize: 1024 }, 'hello\n');
      conn = await s.connection(mark);
      expect(ok.error, `${show(ok)}\n${conn.diagnostics}`).to.equal(undefined);
      expect(ok.kx.group).to.equal('custom-1024');
    });
  });

  describe('node:tls', () => {
    for (const suite of DHE_SUITES) {
      it(`node client → qtls server: ${suite}`, async () => {
        const server = await startServer('qtls', { ...RSA_SERVER }, cleanup);
        const c = await runClient('node', server.port, { ca: ca(), ciphers: suite, servername: 'localhost' });
        const s = await server.next();
        expect(c.error, show(c)).to.equal(undefined);
        expect(c.cipher).to.equal(suite);
        expect(c.ephemeral).to.deep.equal({ type: 'DH', size: 2048 });
        expect(c.received.toString()).to.equal('ping');
        expect(s.kx.group).to.equal('ffdhe2048');
      });
    }

    const nodeServer = (dhparam: string | Buffer): Promise<Awaited<ReturnType<typeof startServer>>> =>
      startServer('node', { ...RSA_SERVER, dhparam, ciphers: DHE_CIPHERS, maxVersion: 'TLSv1.2' }, cleanup);

    it('qtls client → node server with dhparam ffdhe2048', async () => {
      const server = await nodeServer(dhParams('ffdhe2048'));
      for (const suite of DHE_SUITES) {
        const c = await runClient('qtls', server.port, { ca: ca(), ciphers: suite });
        expect(c.error, show(c)).to.equal(undefined);
        expect(c.cipher).to.equal(suite);
        expect(c.kx.group).to.equal('ffdhe2048');
        expect((await server.next()).cipher).to.equal(suite);
      }
    });

    // node 20 (OpenSSL 3.0), dhparam 'auto': OpenSSL's automatic group, as s_server without -dhparam —
    // RFC 3526 modp2048 for this RSA-2048 certificate, whatever ffdhe groups the client offers.
    it('qtls client → node server with dhparam "auto": RFC 3526 modp2048, accepted by default; refused with minDHSize 3072', async () => {
      const server = await nodeServer('auto');
      for (const suite of DHE_SUITES) {
        const c = await runClient('qtls', server.port, { ca: ca(), ciphers: suite });
        expect(c.error, show(c)).to.equal(undefined);
        expect(c.cipher).to.equal(suite);
        expect(c.received.toString()).to.equal('ping');
        expect(c.kx.group).to.equal('modp2048');
        expect(c.ephemeral).to.deep.equal(DH('modp2048', 2048));
        expect((await server.next()).cipher).to.equal(suite);
      }
      const refused = await runClient('qtls', server.port, { ca: ca(), minDHSize: 3072 });
      expect(refused.error?.alert, show(refused)).to.equal('insufficient_security');
      expect((await server.nextError()).message).to.match(/insufficient security/i);
    });
  });
});
