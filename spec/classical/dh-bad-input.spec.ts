// Hostile finite-field DH input, both directions, with scripted peers (spec/hostile/helpers + our
// helpers/hostile-kx.ts): public values 0, 1, p−1 and p (RFC 7919 §5.1: 1 < Y < p−1) from a server and
// from a client; groups the client policy refuses — a 1024-bit custom prime, a custom prime without
// allowCustomDHGroups, an even "prime", generators outside 1 < g < p−1, an RFC 7919 or RFC 3526 prime
// with the wrong generator, an RFC 3526 prime below minDHSize. Each time: the right alert on the wire, the same error from the API, no crash.
import { expect } from 'chai';
import { FFDHE2048 } from '../../lib/crypto/dh.js';
import { MODP2048 } from '../../lib/crypto/modp-groups.js';
import { parseDhParams } from '../../lib/kx/dh-params.js';
import { Writer } from '../../lib/wire/writer.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { useCleanup } from '../helpers/cleanup.js';
import { HostileServer } from '../hostile/helpers/hostile-server.js';
import { expectServerStillServes, startQtlsClient, startQtlsServer } from '../hostile/helpers/qtls.js';
import { useProcessGuard, within } from '../hostile/helpers/guard.js';
import { dhParams } from './helpers/endpoints.js';
import { be, dheClientKeyExchange, dheClientStart, dheFirstFlight, type DhServerParams } from './helpers/hostile-kx.js';

const P = FFDHE2048.p;
const LEN = 256;
const BAD_PUBLIC: Array<[string, bigint]> = [['0', 0n], ['1', 1n], ['p−1', P - 1n], ['p', P]];

describe('classical: hostile DH parameters and public values', function () {
  this.timeout(10_000);
  useProcessGuard();
  const cleanup = useCleanup();

  describe('qtls client ← hostile DHE server', () => {
    let hostile: HostileServer;
    beforeEach(async () => {
      hostile = await HostileServer.listen();
      cleanup.defer(() => hostile.close());
    });

    /** The client connects; the server sends a signed ServerKeyExchange with `params`; the client must refuse with `alert`. */
    async function refuses(params: DhServerParams, alert: string, message: RegExp, options: Record<string, unknown> = {}): Promise<void> {
      const client = startQtlsClient({ port: hostile.port, ciphers: 'DHE-RSA-AES128-GCM-SHA256', ...options });
      cleanup.defer(() => client.socket.destroy());
      const s = await hostile.next('rsa');
      await dheFirstFlight(s, params);
      const seen = await s.conn.expectAlert();
      const err = (await within(client.error, 3000, 'the client error')) as Error & { alert?: string; origin?: string };
      expect(seen.text, err.message).to.equal(`fatal ${alert}`);
      expect(err.alert).to.equal(alert);
      expect(err.origin).to.equal('local');
      expect(err.message).to.match(message);
      s.conn.destroy();
    }

    for (const [name, y] of BAD_PUBLIC) {
      it(`dh_Ys = ${name} (ffdhe2048) → illegal_parameter`, () =>
        refuses({ p: P, g: 2n, ys: be(y, LEN) }, 'illegal_parameter', /DH public value out of range/));
    }

    it('a 1024-bit custom prime → insufficient_security, even with allowCustomDHGroups', async () => {
      const { p, g } = parseDhParams(dhParams('dh1024'));
      await refuses({ p, g }, 'insufficient_security', /not an RFC 7919 or RFC 3526 group/);
      await refuses({ p, g }, 'insufficient_security', /1024 bits is below the minimum of 2048/, { allowCustomDHGroups: true });
    });

    it('a 2048-bit custom prime without allowCustomDHGroups → insufficient_security', async () => {
      const { p, g } = parseDhParams(dhParams('dh2048'));
      await refuses({ p, g }, 'insufficient_security', /not an RFC 7919 or RFC 3526 group \(allowCustomDHGroups is off\)/);
    });

    it('custom groups: an even p, and g ∈ {0, 1, p−1} → illegal_parameter', async () => {
      const { p } = parseDhParams(dhParams('dh2048'));
      const opts = { allowCustomDHGroups: true };
      await refuses({ p: p + 1n, g: 2n, ys: be(2n, LEN) }, 'illegal_parameter', /DH prime is even/, opts);
      for (const g of [0n, 1n, p - 1n]) await refuses({ p, g, ys: be(4n, LEN) }, 'illegal_parameter', /generator out of range/, opts);
    });

    it('ffdhe2048 with a generator other than 2 → illegal_parameter', () =>
      refuses({ p: P, g: 5n, ys: be(25n, LEN) }, 'illegal_parameter', /ffdhe2048 with generator 5/));

    it('RFC 3526 modp2048 with a generator other than 2 → illegal_parameter, even with allowCustomDHGroups', async () => {
      await refuses({ p: MODP2048.p, g: 5n, ys: be(25n, LEN) }, 'illegal_parameter', /modp2048 with generator 5 instead of 2/);
      await refuses({ p: MODP2048.p, g: 5n, ys: be(25n, LEN) }, 'illegal_parameter', /modp2048 with generator 5/, { allowCustomDHGroups: true });
    });

    it('RFC 7919 ffdhe2048 (not offered) with minDHSize 3072 → insufficient_security', () =>
      refuses({ p: P, g: 2n, ys: be(4n, LEN) }, 'insufficient_security', /ffdhe2048 \(2048 bits\) is below the minimum of 3072/, { minDHSize: 3072 }));

    it('RFC 3526 modp2048 with minDHSize 3072 → insufficient_security', () =>
      refuses({ p: MODP2048.p, g: 2n, ys: be(4n, LEN) }, 'insufficient_security', /modp2048 \(2048 bits\) is below the minimum of 3072/, { minDHSize: 3072 }));
  });

  describe('qtls server ← hostile DHE client', () => {
    for (const [name, y] of BAD_PUBLIC) {
      it(`dh_Yc = ${name} → illegal_parameter; the server keeps serving`, async () => {
        const srv = await startQtlsServer({ identity: 'rsa' });
        cleanup.defer(() => srv.close());
        const errP = srv.nextError();
        const { client, server } = await dheClientStart(srv.port);
        expect(server.p).to.equal(P);
        client.conn.sendHandshake(HandshakeType.client_key_exchange, new Writer().vec16(be(y, LEN)).finish());
        const alert = await client.conn.expectAlert();
        client.conn.destroy();
        expect(alert.text).to.equal('fatal illegal_parameter');
        const e = (await errP) as Error & { alert?: string };
        expect(e.alert).to.equal('illegal_parameter');
        expect(e.message).to.match(/DH public value out of range/);
        await expectServerStillServes(srv.port);
      });
    }

    it('control: the scripted DHE client completes a handshake with a correct dh_Yc', async () => {
      const srv = await startQtlsServer({ identity: 'rsa' });
      cleanup.defer(() => srv.close());
      const secure = srv.nextSecure();
      const { client, server } = await dheClientStart(srv.port);
      dheClientKeyExchange(client, server);
      client.sendChangeCipherSpec();
      client.sendFinished();
      await client.readServerFinished();
      client.conn.destroy();
      expect((await secure).getKeyExchangeInfo().group).to.equal('ffdhe2048');
    });
  });
});
