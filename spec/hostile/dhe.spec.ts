// Finite-field DHE under attack (RFC 5246 §7.4.3 ServerDHParams, §7.4.7.2 ClientDiffieHellmanPublic,
// RFC 7919 §5.1 checks): degenerate public values, groups outside policy, malformed params — both from
// a hostile server to the qtls client and from a hostile client to the qtls server.
import { FFDHE2048 } from '../../lib/crypto/dh.js';
import { i2osp } from '../../lib/crypto/bigint.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { Reader } from '../../lib/wire/reader.js';
import { Writer } from '../../lib/wire/writer.js';
import { HostileClient } from './helpers/hostile-client.js';
import { HostileServer, type ServerScript } from './helpers/hostile-server.js';
import { useProcessGuard } from './helpers/guard.js';
import { clientCase, serverCase, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

const HT = HandshakeType;
const DHE_RSA_AES128_GCM = 0x009e;
const P = FFDHE2048.p;
const bytes = (n: bigint, len = 256) => i2osp(n, len);
const dhParams = (p: Uint8Array, g: Uint8Array, ys: Uint8Array) => new Writer().vec16(p).vec16(g).vec16(ys).finish();

describe('hostile/dhe: finite-field Diffie-Hellman under attack', function () {
  useProcessGuard();

  describe('a hostile server against the qtls client', () => {
    let hs: HostileServer;
    before(async () => (hs = await HostileServer.listen()));
    after(() => hs.close());

    /** A DHE_RSA flight whose ServerDHParams are `params`, validly signed by the RSA certificate. */
    const dheFlight = (params: (s: ServerScript) => Uint8Array) => async (s: ServerScript) => {
      await s.readClientHello();
      s.conn.hold();
      s.sendServerHello({ suite: DHE_RSA_AES128_GCM });
      s.sendCertificate();
      s.conn.sendHandshake(HT.server_key_exchange, s.signedParams(params(s)));
      s.sendServerHelloDone();
      s.conn.flush();
    };
    const run = (params: (s: ServerScript) => Uint8Array, want: Parameters<typeof clientCase>[2], client = {}) =>
      clientCase(hs, dheFlight(params), want, { identity: 'rsa', client: { ciphers: 'DHE-RSA-AES128-GCM-SHA256', ...client } });

    it('Ys = 1 → illegal_parameter', () => run(() => dhParams(bytes(P), bytes(2n, 1), bytes(1n)), { alert: 'illegal_parameter', message: /DH public value out of range/ }));
    it('Ys = p - 1 → illegal_parameter', () => run(() => dhParams(bytes(P), bytes(2n, 1), bytes(P - 1n)), { alert: 'illegal_parameter', message: /DH public value out of range/ }));
    it('Ys = p → illegal_parameter', () => run(() => dhParams(bytes(P), bytes(2n, 1), bytes(P)), { alert: 'illegal_parameter', message: /DH public value out of range/ }));
    it('Ys = 0 → illegal_parameter', () => run(() => dhParams(bytes(P), bytes(2n, 1), new Uint8Array([0])), { alert: 'illegal_parameter', message: /DH public value out of range/ }));
    it('the ffdhe2048 prime with generator 5 → illegal_parameter', () =>
      run(() => dhParams(bytes(P), bytes(5n, 1), bytes(12345n)), { alert: 'illegal_parameter', message: /ffdhe2048 with generator 5 instead of 2/ }));
    it('a 1024-bit group that is not an RFC 7919 or RFC 3526 group → insufficient_security', () =>
      run(() => dhParams(bytes((1n << 1023n) + 12345n, 128), bytes(2n, 1), bytes(3n, 128)), { alert: 'insufficient_security', message: /not an RFC 7919 or RFC 3526 group/ }));
    it('custom groups allowed, but an even "prime" → illegal_parameter', () =>
      run(() => dhParams(bytes(P + 1n), bytes(2n, 1), bytes(3n)), { alert: 'illegal_parameter', message: /DH prime is even/ }, { allowCustomDHGroups: true }));
    it('custom groups allowed, but 1024 bits (below minDHSize) → insufficient_security', () =>
      run(() => dhParams(bytes((1n << 1023n) + 12345n, 128), bytes(2n, 1), bytes(3n, 128)), { alert: 'insufficient_security', message: /below the minimum of 2048/ }, { allowCustomDHGroups: true }));
    it('dh_p of length 0 → decode_error', () => run(() => dhParams(new Uint8Array(0), bytes(2n, 1), bytes(3n)), { alert: 'decode_error', message: /dh_p length 0/ }));
    it('dh_Ys length running past the message → decode_error', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello({ suite: DHE_RSA_AES128_GCM });
          s.sendCertificate();
          const body = s.signedParams(dhParams(bytes(P), bytes(2n, 1), bytes(3n)));
          body[2 + 256 + 2 + 1] = 0xff; // dh_Ys length high byte
          s.conn.sendHandshake(HT.server_key_exchange, body);
        },
        { alert: 'decode_error', message: /truncated dh_Ys/ },
        { identity: 'rsa', client: { ciphers: 'DHE-RSA-AES128-GCM-SHA256' } },
      ));
  });

  describe('a hostile client against the qtls server', () => {
    let srv: QtlsServer;
    before(async () => (srv = await startQtlsServer({ identity: 'rsa' })));
    after(() => srv.close());

    /** ClientHello for DHE only, the server's flight; returns the server's p. */
    async function toKeyExchange(c: HostileClient): Promise<bigint> {
      c.sendClientHello({ suites: [DHE_RSA_AES128_GCM], groups: [256] });
      await c.readServerHello();
      await c.conn.readHandshake(HT.certificate);
      const r = new Reader((await c.conn.readHandshake(HT.server_key_exchange)).body);
      const p = BigInt('0x' + Buffer.from(r.vec16('p')).toString('hex'));
      await c.conn.readHandshake(HT.server_hello_done);
      return p;
    }
    const cke = (y: Uint8Array) => new Writer().vec16(y).finish();

    for (const [what, y] of [
      ['Yc = 1', (p: bigint) => bytes(1n, Math.ceil(p.toString(16).length / 2))],
      ['Yc = p - 1', (p: bigint) => bytes(p - 1n)],
      ['Yc = p', (p: bigint) => bytes(p)],
      ['Yc larger than p (257 bytes of 0xff)', () => new Uint8Array(257).fill(0xff)],
    ] as const) {
      it(`${what} → illegal_parameter`, () =>
        serverCase(srv, async (c) => c.sendClientKeyExchange({ body: cke(y(await toKeyExchange(c))) }), { alert: 'illegal_parameter', message: /DH public value out of range/ }));
    }

    it('Yc of length 0 → decode_error', () =>
      serverCase(srv, async (c) => {
        await toKeyExchange(c);
        c.sendClientKeyExchange({ body: new Uint8Array([0, 0]) });
      }, { alert: 'decode_error', message: /dh_Yc length 0/ }));

    it('ClientKeyExchange with trailing bytes → decode_error', () =>
      serverCase(srv, async (c) => {
        await toKeyExchange(c);
        c.sendClientKeyExchange({ body: new Uint8Array([0, 1, 5, 0]) });
      }, { alert: 'decode_error', message: /ClientKeyExchange: 1 trailing byte/ }));
  });
});
