// QKD as a TLS key exchange, end to end on one KME network (both sites, ETSI 014 and 004 listeners, all
// on qtls mutual TLS): the first-class suites (premaster = QKD key) and the ECDHE+QKD hybrid suites,
// with both delivery APIs; one key per session; the premaster really is the QKD key; fallback to a
// classical suite when only one side has QKD. docs/qkd-in-tls.md describes what is tested here.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { extendedMasterSecret, masterSecret } from '../../lib/crypto/prf.js';
import { KeyDeliveryError, type KeyDelivery } from '../../lib/qkd/key-delivery.js';
import { suiteByName } from '../../lib/suites.js';
import { startQtlsServer, type QtlsServer } from '../hostile/helpers/qtls.js';
import {
  APIS,
  bitFlipDelivery,
  clearAlerts,
  expectEcho,
  keyIdPattern,
  recordingDelivery,
  runClient,
  startQkdNet,
  useWarningCollector,
  type Api,
  type QkdTestNet,
} from '../helpers/qkd-tls.js';
import { startTap, type Tap } from '../helpers/wire.js';

const FIRST_CLASS = [
  { suite: 'QKD-ECDSA-AES256-GCM-SHA384', iana: 'TLS_QKD_ECDSA_WITH_AES_256_GCM_SHA384', id: 0xff01, auth: 'ECDSA' },
  { suite: 'QKD-ECDSA-CHACHA20-POLY1305', iana: 'TLS_QKD_ECDSA_WITH_CHACHA20_POLY1305_SHA256', id: 0xff02, auth: 'ECDSA' },
  { suite: 'QKD-RSA-AES256-GCM-SHA384', iana: 'TLS_QKD_RSA_WITH_AES_256_GCM_SHA384', id: 0xff03, auth: 'RSA' },
  { suite: 'QKD-RSA-CHACHA20-POLY1305', iana: 'TLS_QKD_RSA_WITH_CHACHA20_POLY1305_SHA256', id: 0xff04, auth: 'RSA' },
] as const;

const HYBRID = [
  { suite: 'ECDHE-QKD-ECDSA-AES256-GCM-SHA384', iana: 'TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384', id: 0xff11, auth: 'ECDSA' },
  { suite: 'ECDHE-QKD-ECDSA-CHACHA20-POLY1305', iana: 'TLS_ECDHE_QKD_ECDSA_WITH_CHACHA20_POLY1305_SHA256', id: 0xff12, auth: 'ECDSA' },
  { suite: 'ECDHE-QKD-RSA-AES256-GCM-SHA384', iana: 'TLS_ECDHE_QKD_RSA_WITH_AES_256_GCM_SHA384', id: 0xff13, auth: 'RSA' },
  { suite: 'ECDHE-QKD-RSA-CHACHA20-POLY1305', iana: 'TLS_ECDHE_QKD_RSA_WITH_CHACHA20_POLY1305_SHA256', id: 0xff14, auth: 'RSA' },
] as const;

/** Group to offer → what getKeyExchangeInfo() reports. The ECDSA server's certificate is P-256. */
const GROUPS = [
  { offer: 'X25519', reported: 'x25519' },
  { offer: 'P-256', reported: 'secp256r1' },
  { offer: 'P-384', reported: 'secp384r1' },
] as const;

const PAYLOAD = Buffer.from('QKD-keyed data, both ways: '.repeat(40));

describe('QKD in TLS: handshakes over the KME network', function () {
  this.timeout(20_000);
  const warnings = useWarningCollector();
  let q: QkdTestNet;

  before(async function () {
    q = await startQkdNet({ minKeys: 64 });
  });
  after(async function () {
    await q?.close();
  });

  for (const api of APIS) {
    describe(`key delivery over ETSI GS QKD ${api}`, function () {
      let dA: KeyDelivery;
      let dB: KeyDelivery;
      let ecdsa: QtlsServer;
      let rsa: QtlsServer;
      const keyIds: string[] = [];
      const serverQkd = () => ({ saeId: 'sae-a', delivery: dA });
      const clientQkd = () => ({ saeId: 'sae-b', delivery: dB });

      before(async function () {
        dA = q.delivery('sae-a', api);
        dB = q.delivery('sae-b', api);
        // Server group preference P-384, X25519, P-256: whichever single group (plus the certificate's
        // P-256) the client offers is the one negotiated.
        ecdsa = await startQtlsServer({ identity: 'ecdsa', options: { qkd: serverQkd(), groups: 'P-384:X25519:P-256' } });
        rsa = await startQtlsServer({ identity: 'rsa', options: { qkd: serverQkd() } });
      });
      after(async function () {
        await ecdsa?.close();
        await rsa?.close();
      });

      /** One handshake + echo; checks both sides' reports and returns the key_ID. */
      async function handshake(s: { suite: string; iana: string; auth: string }, groups?: string, group?: string): Promise<string> {
        const srv = s.auth === 'RSA' ? rsa : ecdsa;
        const secure = srv.nextSecure(8000);
        const run = await runClient(srv.port, { ciphers: s.suite, qkd: clientQkd(), ...(groups ? { groups } : {}) }, PAYLOAD);
        expectEcho(run, PAYLOAD);
        const server = await secure;
        expect(run.cipher).to.deep.equal({ name: s.suite, standardName: s.iana, version: 'TLSv1.2' });
        expect(server.getCipher()?.standardName).to.equal(s.iana);
        const ci = run.info;
        const si = server.getKeyExchangeInfo();
        expect(ci.qkdKeyId, 'client key_ID').to.match(keyIdPattern(api));
        expect(si.qkdKeyId, 'both sides report the same key_ID').to.equal(ci.qkdKeyId);
        expect(ci).to.include({ qkdMasterSae: 'sae-a', qkdSlaveSae: 'sae-b', qkdApi: api });
        expect(si).to.include({ qkdMasterSae: 'sae-a', qkdSlaveSae: 'sae-b', qkdApi: api });
        // Each side names its own KME: the server (master) KME A, the client (slave) KME B.
        expect(String(si.qkdKme)).to.contain(q.url('A', api));
        expect(String(ci.qkdKme)).to.contain(q.url('B', api));
        expect(si.group, 'server and client agree on the ECDHE group').to.equal(ci.group);
        expect(ci.group, 'the ECDHE group').to.equal(group);
        keyIds.push(String(ci.qkdKeyId));
        return String(ci.qkdKeyId);
      }

      describe('first-class QKD suites (premaster = QKD key)', function () {
        for (const s of FIRST_CLASS) {
          it(`${s.iana} (0x${s.id.toString(16)}) with an ${s.auth} certificate: handshake, data both ways, one key_ID on both sides`, async function () {
            expect(suiteByName(s.iana)).to.include({ id: s.id, kx: 'QKD', auth: s.auth });
            await handshake(s);
          });
        }
        it('reports no ECDHE group (nothing but the QKD key feeds the premaster)', async function () {
          const run = await runClient(ecdsa.port, { ciphers: FIRST_CLASS[0].suite, qkd: clientQkd() });
          expectEcho(run);
          expect(run.info.group).to.equal(undefined);
          keyIds.push(String(run.info.qkdKeyId));
        });
      });

      describe('ECDHE+QKD hybrid suites', function () {
        for (const s of HYBRID) {
          for (const g of GROUPS) {
            it(`${s.iana} (0x${s.id.toString(16)}) over ${g.offer}`, async function () {
              expect(suiteByName(s.iana)).to.include({ id: s.id, kx: 'ECDHE_QKD', auth: s.auth });
              // An ECDSA P-256 certificate needs P-256 in supported_groups (RFC 8422 §5.3).
              const groups = s.auth === 'ECDSA' && g.offer !== 'P-256' ? `${g.offer}:P-256` : g.offer;
              await handshake(s, groups, g.reported);
            });
          }
        }
        it('the default client offer (no ciphers option) picks the hybrid suite first', async function () {
          const run = await runClient(ecdsa.port, { qkd: clientQkd() });
          expectEcho(run);
          expect(run.cipher?.standardName).to.equal('TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384');
          keyIds.push(String(run.info.qkdKeyId));
        });
      });

      describe('one key, one session', function () {
        it('two handshakes use two different key_IDs, and no key_ID of this file was used twice', async function () {
          const a = await handshake(HYBRID[0], 'X25519:P-256', 'x25519');
          const b = await handshake(HYBRID[0], 'X25519:P-256', 'x25519');
          expect(a).to.not.equal(b);
          expect(new Set(keyIds).size, keyIds.join('\n')).to.equal(keyIds.length);
          expect(keyIds.length).to.be.greaterThan(15);
        });

        it('the slave cannot fetch a key_ID a handshake consumed a second time (its KME refuses)', async function () {
          const keyId = await handshake(FIRST_CLASS[0]);
          // Same SAE, same KME, a second dec_keys (014) / GET_KEY at that index (004) of the same key:
          // through the delivery the handshake used, and through a fresh connection.
          for (const d of [dB, q.delivery('sae-b', api)]) {
            let err: unknown;
            try {
              await d.getKeyById('sae-a', keyId, { sizeBits: 256, signal: AbortSignal.timeout(5000) });
            } catch (e) {
              err = e;
            }
            expect(err, 'second delivery of the same key').to.be.instanceOf(KeyDeliveryError);
            const e = err as KeyDeliveryError;
            expect(e.kme).to.equal(q.url('B', api));
            // 014: 400 "not found on KME". 004 has no "already delivered" status: GET_KEY on a spent
            // index answers 2 (insufficient key); a second OPEN_CONNECT on the stream 5 (KSID in use).
            expect(e.kind, e.message).to.be.oneOf(api === '014' ? ['not-found'] : ['empty', 'refused']);
          }
        });
      });

      describe('the premaster is the QKD key', function () {
        let tap: Tap;
        before(async function () {
          tap = await startTap(ecdsa.port);
        });
        after(async function () {
          await tap?.close();
        });

        it('first-class: the key log master secret is PRF(QKD key, ...) over the randoms / session hash seen on the wire', async function () {
          const rec = recordingDelivery(dA);
          const srv = await startQtlsServer({ identity: 'ecdsa', options: { qkd: { saeId: 'sae-a', delivery: rec } } });
          const t = await startTap(srv.port);
          try {
            const run = await runClient(t.port, { ciphers: FIRST_CLASS[0].suite, qkd: clientQkd() }, PAYLOAD);
            expectEcho(run, PAYLOAD);
            keyIds.push(String(run.info.qkdKeyId));
            await t.connections[0]!.done;
            expect(rec.delivered).to.have.length(1);
            const qkdKey = rec.delivered[0]!;
            expect(qkdKey.keyId).to.equal(run.info.qkdKeyId);
            expect(qkdKey.key).to.have.length(32);

            const hs = (chunks: Buffer[]) => handshakeMessages(Buffer.concat(chunks));
            const c2s = hs(t.connections[0]!.c2s);
            const s2c = hs(t.connections[0]!.s2c);
            const ch = c2s.find((m) => m.type === 1)!;
            const sh = s2c.find((m) => m.type === 2)!;
            const cke = c2s.find((m) => m.type === 16)!;
            expect(cke.body, 'first-class ClientKeyExchange is empty').to.have.length(0);
            const clientRandom = ch.body.subarray(2, 34);
            const serverRandom = sh.body.subarray(2, 34);
            // The transcript up to and including ClientKeyExchange, in wire order.
            const order = [...c2s.filter((m) => m.type === 1), ...s2c.filter((m) => [2, 11, 12, 14].includes(m.type)), cke];
            const sessionHash = createHash('sha384').update(Buffer.concat(order.map((m) => m.raw))).digest();
            const ems = serverHelloExtensions(sh.body).includes(23);
            const expected = ems
              ? extendedMasterSecret('sha384', qkdKey.key, sessionHash)
              : masterSecret('sha384', qkdKey.key, clientRandom, serverRandom);
            const line = run.keylogLines.find((l) => l.startsWith(`CLIENT_RANDOM ${clientRandom.toString('hex')} `));
            expect(line, `key log: ${run.keylogLines.join('\n')}`).to.not.equal(undefined);
            expect(line!.split(' ')[2]).to.equal(Buffer.from(expected).toString('hex'));
            // And the key itself never crossed the wire.
            const all = Buffer.concat([...t.connections[0]!.c2s, ...t.connections[0]!.s2c]);
            expect(all.indexOf(Buffer.from(qkdKey.key))).to.equal(-1);
            expect(all.indexOf(Buffer.from(qkdKey.keyId)), 'the key_ID travels in clear').to.be.greaterThan(0);
          } finally {
            await t.close();
            await srv.close();
          }
        });

        for (const [name, s, groups] of [
          ['first-class', FIRST_CLASS[0], undefined],
          ['hybrid', HYBRID[0], 'X25519:P-256'],
        ] as const) {
          it(`${name}: a client whose KME hands out the key_ID with one bit flipped fails at Finished, never succeeds`, async function () {
            const errP = ecdsa.nextError(8000);
            const before = tap.connections.length;
            const run = await runClient(tap.port, { ciphers: s.suite, qkd: { saeId: 'sae-b', delivery: bitFlipDelivery(dB) }, ...(groups ? { groups } : {}) });
            expect(run.error, 'the handshake must fail').to.be.instanceOf(Error);
            const serverErr = (await errP) as Error & { alert?: string };
            // The server cannot authenticate the client's encrypted Finished: the record MAC fails.
            expect(serverErr.alert, serverErr.message).to.be.oneOf(['bad_record_mac', 'decrypt_error']);
            expect((run.error as Error & { alert?: string; origin?: string }).alert).to.equal(serverErr.alert);
            expect((run.error as Error & { origin?: string }).origin).to.equal('remote');
            const conn = tap.connections[before]!;
            await conn.done;
            const alert = clearAlerts(conn.s2c);
            expect(alert).to.deep.equal([[2, serverErr.alert === 'bad_record_mac' ? 20 : 51]]);
            // The client did get through its QKD work: it sent ClientKeyExchange, CCS and Finished.
            expect(handshakeMessages(Buffer.concat(conn.c2s)).map((m) => m.type)).to.include(16);
            expect(run.alertsIn).to.deep.equal([serverErr.alert]);
          });
        }
      });

      describe('fallback to a classical suite', function () {
        it('a client offering QKD and classical suites to a server without qkd gets ECDHE, and spends no QKD key', async function () {
          const plain = await startQtlsServer({ identity: 'ecdsa' });
          try {
            const rec = recordingDelivery(dB);
            const secure = plain.nextSecure(8000);
            const run = await runClient(plain.port, { qkd: { saeId: 'sae-b', delivery: rec } });
            expectEcho(run);
            await secure;
            expect(suiteByName(run.cipher!.standardName)!.kx).to.equal('ECDHE');
            expect(run.info.qkdKeyId).to.equal(undefined);
            expect(rec.delivered).to.have.length(0);
          } finally {
            await plain.close();
          }
        });

        it('a server with qkd and a client without it agree on ECDHE, and the server asks its KME for nothing', async function () {
          const rec = recordingDelivery(dA);
          const srv = await startQtlsServer({ identity: 'ecdsa', options: { qkd: { saeId: 'sae-a', delivery: rec } } });
          try {
            const secure = srv.nextSecure(8000);
            const run = await runClient(srv.port, {});
            expectEcho(run);
            const s = await secure;
            expect(suiteByName(run.cipher!.standardName)!.kx).to.equal('ECDHE');
            expect(s.getKeyExchangeInfo().qkdKeyId).to.equal(undefined);
            expect(rec.delivered).to.have.length(0);
          } finally {
            await srv.close();
          }
        });

        it(`a client whose KME speaks another API than the server's (${api} vs ${other(api)}) falls back to ECDHE`, async function () {
          const rec = recordingDelivery(q.delivery('sae-b', other(api)));
          const run = await runClient(ecdsa.port, { qkd: { saeId: 'sae-b', delivery: rec } });
          expectEcho(run);
          expect(suiteByName(run.cipher!.standardName)!.kx).to.equal('ECDHE');
          expect(rec.delivered).to.have.length(0);
        });
      });
    });
  }

  describe('afterwards', function () {
    it('no process warning was raised (listener leaks on kept-alive KME connections...)', function () {
      expect(warnings.warnings.map((w) => `${w.name}: ${w.message}`)).to.deep.equal([]);
    });
  });
});

function other(api: Api): Api {
  return api === '014' ? '004' : '014';
}

/** Clear handshake messages of one direction (up to its ChangeCipherSpec), with their raw bytes. */
function handshakeMessages(buf: Buffer): Array<{ type: number; body: Buffer; raw: Buffer }> {
  const parts: Buffer[] = [];
  for (let off = 0; off + 5 <= buf.length; ) {
    const len = buf.readUInt16BE(off + 3);
    if (buf[off] === 20) break;
    if (buf[off] === 22) parts.push(buf.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  const hs = Buffer.concat(parts);
  const out: Array<{ type: number; body: Buffer; raw: Buffer }> = [];
  for (let o = 0; o + 4 <= hs.length; ) {
    const len = hs.readUIntBE(o + 1, 3);
    out.push({ type: hs[o]!, body: hs.subarray(o + 4, o + 4 + len), raw: hs.subarray(o, o + 4 + len) });
    o += 4 + len;
  }
  return out;
}

/** Extension types in a ServerHello body. */
function serverHelloExtensions(body: Buffer): number[] {
  let o = 2 + 32;
  o += 1 + body[o]!; // session_id
  o += 2 + 1; // cipher_suite, compression_method
  if (o + 2 > body.length) return [];
  const end = o + 2 + body.readUInt16BE(o);
  const types: number[] = [];
  for (o += 2; o + 4 <= end; o += 4 + body.readUInt16BE(o + 2)) types.push(body.readUInt16BE(o));
  return types;
}
