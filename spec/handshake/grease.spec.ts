// RFC 8701 GREASE and unknown values: a server must ignore cipher suites, groups, signature schemes
// and extensions it does not know (RFC 5246 §7.4.1.4: "a server MUST ignore extensions it does not
// recognise"), and still complete the handshake.
import { expect } from 'chai';
import { ExtensionType, encodeU16List } from '../../lib/handshake/extensions.js';
import { HostileClient, SUITE } from '../hostile/helpers/hostile-client.js';
import { startQtlsServer } from '../hostile/helpers/qtls.js';

const GREASE = [0x0a0a, 0x1a1a, 0x2a2a, 0xfafa];

describe('GREASE and unknown values in the ClientHello (RFC 8701)', () => {
  it('the server ignores GREASE suites, groups, signature schemes and extensions and completes the handshake', async () => {
    const srv = await startQtlsServer();
    try {
      const c = await HostileClient.connect(srv.port);
      const secure = srv.nextSecure();
      await c.handshake({
        suites: [GREASE[0]!, SUITE.ECDHE_ECDSA_AES128_GCM, GREASE[1]!],
        groups: [GREASE[2]!, 29, 23],
        extensions: (d) => [
          [GREASE[0]!, new Uint8Array(0)],
          ...d.map(([t, v]): [number, Uint8Array] => (t === ExtensionType.signature_algorithms ? [t, encodeU16List([GREASE[3]!, 0x0403])] : [t, v])),
          [0x7777, new Uint8Array([1, 2, 3])], // an unknown, non-GREASE extension
          [GREASE[1]!, new Uint8Array([0])],
        ],
      });
      expect(c.suite.id).to.equal(SUITE.ECDHE_ECDSA_AES128_GCM);
      const s = await secure;
      expect(s.getCipher()?.standardName).to.equal('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
      // The server answered none of the unknown extensions (a ServerHello extension must have been offered).
      for (const t of [GREASE[0]!, GREASE[1]!, 0x7777]) expect(c.sh.extensions.has(t), `extension 0x${t.toString(16)}`).to.equal(false);
    } finally {
      await srv.close();
    }
  });
});

describe('server suite preference (node:tls default honorCipherOrder: true)', () => {
  it("picks the server's most preferred suite by default, the client's with honorCipherOrder: false", async () => {
    for (const [honor, expected] of [[undefined, SUITE.ECDHE_ECDSA_AES128_GCM], [false, SUITE.ECDHE_ECDSA_CHACHA20]] as const) {
      const srv = await startQtlsServer({ options: honor === undefined ? {} : { honorCipherOrder: honor } });
      try {
        const c = await HostileClient.connect(srv.port);
        await c.handshake({ suites: [SUITE.ECDHE_ECDSA_CHACHA20, SUITE.ECDHE_ECDSA_AES128_GCM] });
        expect(c.suite.id, `honorCipherOrder ${String(honor)}`).to.equal(expected);
      } finally {
        await srv.close();
      }
    }
  });
});

describe('server group preference follows honorCipherOrder', () => {
  it("uses the server's group order by default, the client's with honorCipherOrder: false", async () => {
    for (const [honor, expected] of [[undefined, 29], [false, 24]] as const) {
      const srv = await startQtlsServer({ options: honor === undefined ? {} : { honorCipherOrder: honor } });
      try {
        const c = await HostileClient.connect(srv.port);
        await c.handshake({ groups: [24, 29] }); // the client prefers P-384
        expect(c.group, `honorCipherOrder ${String(honor)}`).to.equal(expected);
      } finally {
        await srv.close();
      }
    }
  });
});
