// Hostile clients vs the qtls server, handshake layer (RFC 5246 §7.4, RFC 8422, RFC 5746, RFC 7627):
// malformed ClientHellos, bad extensions, messages out of order, tampered Finished, bad key shares,
// renegotiation. Each case checks the alert bytes on the wire, the server's error, that the server hung
// up, and that it still completes a handshake with the next client.
import { expect } from 'chai';
import { p256 } from '@noble/curves/nist.js';
import { EcdhGroup } from '../../lib/crypto/ecdh.js';
import { ExtensionType, encodeAlpn, encodeU16List } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { concat } from '../../lib/wire/bytes.js';
import { Writer } from '../../lib/wire/writer.js';
import { HostileClient, SUITE, clientHelloBody, type ClientHelloOptions, type ExtensionList } from './helpers/hostile-client.js';
import { useProcessGuard } from './helpers/guard.js';
import { expectServerStillServes, expectWireAlert, serverCase, startQtlsServer, type QtlsServer } from './helpers/qtls.js';
import { rawRecord } from './helpers/raw-conn.js';

const CT = ContentType;
const HT = HandshakeType;
const ET = ExtensionType;

/** Send a ClientHello body (possibly broken) as one record. */
const sendHelloBody = (c: HostileClient, body: Uint8Array) => c.conn.write(rawRecord(CT.handshake, frameHandshake(HT.client_hello, body), 0x0301));

/** Replace the data of extension `type` in the default list. */
const withExt = (type: number, data: Uint8Array): ClientHelloOptions['extensions'] => (d: ExtensionList) => [...d.filter(([t]) => t !== type), [type, data]];

/** Offsets inside a default ClientHello body: version 2, random 32, session_id 1, suites 2+2n, compression 1+1. */
function extensionsOffset(body: Uint8Array): number {
  let o = 2 + 32;
  o += 1 + body[o]!;
  o += 2 + ((body[o]! << 8) | body[o + 1]!);
  o += 1 + body[o]!;
  return o;
}

describe('hostile/server-handshake: handshake-message attacks on the qtls server', function () {
  useProcessGuard();
  let srv: QtlsServer;
  before(async () => (srv = await startQtlsServer()));
  after(() => srv.close());

  describe('truncated and overlong messages', () => {
    it('ClientHello truncated inside the random → decode_error', () =>
      serverCase(srv, (c) => sendHelloBody(c, clientHelloBody().subarray(0, 20)), { alert: 'decode_error', message: /ClientHello: truncated random/ }));

    it('ClientHello truncated inside the cipher suites → decode_error', () =>
      serverCase(srv, (c) => sendHelloBody(c, clientHelloBody().subarray(0, 2 + 32 + 1 + 3)), {
        alert: 'decode_error',
        message: /ClientHello: truncated cipher_suites/,
      }));

    it('ClientHello truncated inside the extensions → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const body = clientHelloBody();
          sendHelloBody(c, body.subarray(0, body.length - 3));
        },
        { alert: 'decode_error', message: /ClientHello(\.[\w.]+)?: truncated/ },
      ));

    it('ClientHello with trailing bytes after the extensions (overlong) → decode_error', () =>
      serverCase(srv, (c) => sendHelloBody(c, clientHelloBody({ trailing: new Uint8Array([0, 0, 0]) })), {
        alert: 'decode_error',
        message: /ClientHello: 3 trailing byte\(s\)/,
      }));

    it('ClientHello with a single trailing byte where an extensions block would start → decode_error', () =>
      serverCase(srv, (c) => sendHelloBody(c, clientHelloBody({ extensions: [], trailing: new Uint8Array([7]) })), {
        alert: 'decode_error',
        message: /ClientHello: truncated ClientHello\.extensions/,
      }));

    it('handshake length longer than the data, then the client closes → error, not a hang', async () => {
      const errP = srv.nextError();
      const c = await HostileClient.connect(srv.port);
      try {
        const msg = frameHandshake(HT.client_hello, clientHelloBody());
        msg[3]! += 10; // claims 10 more bytes than follow
        c.conn.write(rawRecord(CT.handshake, msg, 0x0301));
        c.conn.end();
        const err = await errP;
        expect(err.message).to.match(/disconnected before secure TLS connection was established/);
        await c.conn.waitClosed();
        await expectServerStillServes(srv.port);
      } finally {
        c.conn.destroy();
      }
    });

    it('session_id of 33 bytes → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ sessionId: new Uint8Array(33) }), { alert: 'decode_error', message: /session_id length 33 outside 0\.\.32/ }));

    it('odd-length cipher_suites → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const body = clientHelloBody({ suites: [SUITE.ECDHE_ECDSA_AES128_GCM] });
          // cipher_suites length 2 → 3, and drop nothing: the vector now swallows the compression length byte.
          body[2 + 32 + 1 + 1] = 3;
          sendHelloBody(c, body);
        },
        { alert: 'decode_error', message: /cipher_suites has odd length/ },
      ));

    it('empty cipher_suites → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ suites: [] }), { alert: 'decode_error', message: /cipher_suites needs at least 1 entries/ }));

    it('ClientKeyExchange with trailing bytes → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange({ body: concat(new Writer().vec8(new Uint8Array(32).fill(9)).finish(), new Uint8Array([0])) });
        },
        { alert: 'decode_error', message: /ClientKeyExchange: 1 trailing byte/ },
      ));

    it('Finished of 13 bytes (overlong) → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.sendFinished({ tamper: (v) => concat(v, new Uint8Array([0])) });
        },
        { alert: 'decode_error', message: /Finished: 1 trailing byte/ },
      ));

    it('Finished of 11 bytes (truncated) → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.sendFinished({ tamper: (v) => v.subarray(0, 11) });
        },
        { alert: 'decode_error', message: /Finished: truncated verify_data/ },
      ));
  });

  describe('wrong lengths inside extensions', () => {
    it('extension data length runs past the extensions block → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const body = clientHelloBody();
          const o = extensionsOffset(body) + 2; // first extension: type(2) length(2)
          body[o + 2] = 0x7f; // its length now exceeds the block
          sendHelloBody(c, body);
        },
        { alert: 'decode_error', message: /truncated extension data/ },
      ));

    it('extensions block length larger than the message → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const body = clientHelloBody();
          body[extensionsOffset(body)] = 0x7f;
          sendHelloBody(c, body);
        },
        { alert: 'decode_error', message: /truncated ClientHello\.extensions/ },
      ));

    it('extensions block length shorter than its content → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const body = clientHelloBody();
          const o = extensionsOffset(body);
          const len = (body[o]! << 8) | body[o + 1]!;
          body[o] = (len - 1) >> 8;
          body[o + 1] = (len - 1) & 0xff;
          sendHelloBody(c, body);
        },
        { alert: 'decode_error', message: /ClientHello/ },
      ));

    it('supported_groups inner list length larger than the extension → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.supported_groups, new Uint8Array([0, 8, 0, 29])) }), {
        alert: 'decode_error',
        message: /supported_groups/,
      }));

    it('supported_groups inner list length shorter than the extension → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.supported_groups, new Uint8Array([0, 2, 0, 29, 0, 23])) }), {
        alert: 'decode_error',
        message: /supported_groups: 2 trailing byte/,
      }));

    it('supported_groups with odd length → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.supported_groups, new Uint8Array([0, 3, 0, 29, 0])) }), {
        alert: 'decode_error',
        message: /supported_groups has odd length/,
      }));

    it('server_name list length wrong → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.server_name, new Uint8Array([0, 40, 0, 0, 3, 0x61, 0x62, 0x63])) }), {
        alert: 'decode_error',
        message: /server_name/,
      }));

    it('server_name host name length wrong → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.server_name, new Uint8Array([0, 6, 0, 0, 9, 0x61, 0x62, 0x63])) }), {
        alert: 'decode_error',
        message: /server_name/,
      }));

    it('server_name with a NUL byte in the host name → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.server_name, new Uint8Array([0, 6, 0, 0, 3, 0x61, 0x00, 0x63])) }), {
        alert: 'decode_error',
        message: /host name has non-printable bytes/,
      }));

    it('signature_algorithms empty list → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.signature_algorithms, new Uint8Array([0, 0])) }), {
        alert: 'decode_error',
        message: /signature_algorithms needs at least 1 entries/,
      }));

    it('ec_point_formats empty → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.ec_point_formats, new Uint8Array([0])) }), {
        alert: 'decode_error',
        message: /ec_point_format_list length 0/,
      }));

    it('ALPN with an empty protocol name → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.application_layer_protocol_negotiation, new Uint8Array([0, 3, 0, 1, 0x68])) }), {
        alert: 'decode_error',
        message: /ProtocolName length 0/,
      }));

    it('ALPN list length wrong → decode_error', () =>
      serverCase(
        srv,
        (c) => {
          const alpn = encodeAlpn(['h2']);
          alpn[1]! += 1;
          c.sendClientHello({ extensions: withExt(ET.application_layer_protocol_negotiation, alpn) });
        },
        { alert: 'decode_error', message: /protocol_name_list/ },
      ));

    it('extended_master_secret with a body → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.extended_master_secret, new Uint8Array([0])) }), {
        alert: 'decode_error',
        message: /extended_master_secret extension must be empty/,
      }));

    it('renegotiation_info inner length wrong → decode_error', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.renegotiation_info, new Uint8Array([5, 1])) }), {
        alert: 'decode_error',
        message: /renegotiation_info/,
      }));

    it('duplicate extensions (supported_groups twice) → illegal_parameter', () =>
      serverCase(
        srv,
        (c) => c.sendClientHello({ extensions: (d) => [...d, [ET.supported_groups, encodeU16List([EcdhGroup.secp256r1])]] }),
        { alert: 'illegal_parameter', message: /duplicate extension 10/ },
      ));

    it('duplicate unknown extensions → illegal_parameter', () =>
      serverCase(
        srv,
        (c) => c.sendClientHello({ extensions: (d) => [...d, [0x4444, new Uint8Array(0)], [0x4444, new Uint8Array(1)]] }),
        { alert: 'illegal_parameter', message: /duplicate extension 17476/ },
      ));
  });

  describe('negotiation', () => {
    for (const v of [0x0301, 0x0302]) {
      it(`ClientHello offering only TLS 1.${v - 0x0301} → protocol_version`, () =>
        serverCase(srv, (c) => c.sendClientHello({ version: v }), {
          alert: 'protocol_version',
          message: new RegExp(`client offers at most version 0x${v.toString(16)}; this server requires TLS 1.2`),
        }));
    }

    it('ClientHello offering SSL 3.0 → protocol_version', () =>
      serverCase(srv, (c) => c.sendClientHello({ version: 0x0300 }), { alert: 'protocol_version', message: /0x300/ }));

    it('ClientHello with a TLS 1.3-style version 0x0304 is negotiated down to TLS 1.2 (not an error)', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        await c.handshake({ version: 0x0304 });
        expect(c.sh.version).to.equal(0x0303);
      } finally {
        c.conn.destroy();
      }
    });

    it('no common cipher suite → handshake_failure', () =>
      serverCase(srv, (c) => c.sendClientHello({ suites: [0x009c, 0x002f, 0x0035] }), {
        alert: 'handshake_failure',
        message: /no cipher suite in common/,
      }));

    it('ECDHE suites but no common group → handshake_failure', () =>
      serverCase(srv, (c) => c.sendClientHello({ groups: [25, 30] }), { alert: 'handshake_failure', message: /no cipher suite in common/ }));

    it('only RSA-authenticated suites against an ECDSA certificate → handshake_failure', () =>
      serverCase(srv, (c) => c.sendClientHello({ suites: [SUITE.ECDHE_RSA_AES128_GCM] }), { alert: 'handshake_failure', message: /no cipher suite in common/ }));

    it('no null compression method → illegal_parameter', () =>
      serverCase(srv, (c) => c.sendClientHello({ compression: [1] }), { alert: 'illegal_parameter', message: /does not offer null compression/ }));

    it('ec_point_formats without uncompressed → illegal_parameter', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.ec_point_formats, new Uint8Array([1, 1])) }), {
        alert: 'illegal_parameter',
        message: /does not accept uncompressed points/,
      }));

    it('non-empty renegotiation_info on an initial handshake (RFC 5746 §3.6) → handshake_failure', () =>
      serverCase(srv, (c) => c.sendClientHello({ extensions: withExt(ET.renegotiation_info, new Uint8Array([12, ...new Uint8Array(12).fill(0xaa)])) }), {
        alert: 'handshake_failure',
        message: /non-empty renegotiation_info in the initial ClientHello/,
      }));
  });

  describe('ALPN (RFC 7301 §3.2)', () => {
    let alpnSrv: QtlsServer;
    before(async () => (alpnSrv = await startQtlsServer({ options: { ALPNProtocols: ['h2'] } })));
    after(() => alpnSrv.close());

    it('no protocol in common → no_application_protocol', () =>
      serverCase(alpnSrv, (c) => c.sendClientHello({ extensions: withExt(ET.application_layer_protocol_negotiation, encodeAlpn(['http/1.1', 'spdy/3'])) }), {
        alert: 'no_application_protocol',
        message: /no ALPN protocol in common \(client offered http\/1\.1, spdy\/3\)/,
      }));

    it('an empty protocol_name_list → decode_error', () =>
      serverCase(alpnSrv, (c) => c.sendClientHello({ extensions: withExt(ET.application_layer_protocol_negotiation, new Uint8Array([0, 0])) }), {
        alert: 'decode_error',
        message: /protocol_name_list length 0/,
      }));
  });

  describe('handshake messages in the wrong order', () => {
    for (const [name, type, body] of [
      ['Finished', HT.finished, new Uint8Array(12)],
      ['ClientKeyExchange', HT.client_key_exchange, new Uint8Array([32, ...new Uint8Array(32)])],
      ['ServerHello', HT.server_hello, new Uint8Array(40)],
      ['HelloRequest', HT.hello_request, new Uint8Array(0)],
    ] as const) {
      it(`${name} as the first message → unexpected_message`, () =>
        serverCase(srv, (c) => c.conn.sendHandshake(type, body), {
          alert: 'unexpected_message',
          message: new RegExp(`expected client_hello, got ${name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}`),
        }));
    }

    it('Finished instead of ClientKeyExchange → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.conn.sendHandshake(HT.finished, new Uint8Array(12));
        },
        { alert: 'unexpected_message', message: /expected client_key_exchange, got finished/ },
      ));

    it('a second ClientHello during the handshake → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.conn.sendHandshake(HT.client_hello, clientHelloBody()); // record version 3.3, as negotiated
        },
        { alert: 'unexpected_message', message: /expected client_key_exchange, got client_hello/ },
      ));

    it('an unrequested client Certificate → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.conn.sendHandshake(HT.certificate, new Uint8Array([0, 0, 0]));
        },
        { alert: 'unexpected_message', message: /expected client_key_exchange, got certificate/ },
      ));

    it('ClientKeyExchange, then Finished without ChangeCipherSpec → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendFinished();
        },
        { alert: 'unexpected_message', message: /expected ChangeCipherSpec, got finished/ },
      ));

    it('ClientKeyExchange sent twice → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendClientKeyExchange();
        },
        { alert: 'unexpected_message', message: /expected ChangeCipherSpec, got client_key_exchange/ },
      ));

    it('after ChangeCipherSpec, an encrypted ClientKeyExchange instead of Finished → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.conn.sendHandshake(HT.client_key_exchange, new Uint8Array([32, ...new Uint8Array(32).fill(1)]));
        },
        { alert: 'unexpected_message', message: /expected finished, got client_key_exchange/ },
      ));
  });

  describe('Finished and record protection', () => {
    it('Finished tampered (one bit of verify_data) → decrypt_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.sendFinished({ tamper: (v) => ((v[0]! ^= 1), v) });
        },
        { alert: 'decrypt_error', message: /client Finished verify_data does not match/, encrypted: false },
      ));

    it('Finished computed over a different transcript (a message the server never saw) → decrypt_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.conn.transcript.add(frameHandshake(HT.certificate_verify, new Uint8Array(8)));
          c.sendChangeCipherSpec();
          c.sendFinished();
        },
        { alert: 'decrypt_error', message: /client Finished verify_data does not match/ },
      ));

    it('Finished record MAC tampered (bit flip in the encrypted Finished) → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.conn.hold();
          c.sendFinished();
          const rec = c.conn.held!.at(-1)!;
          rec[rec.length - 5]! ^= 0x10;
          c.conn.flush();
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: false },
      ));

    it('Finished under keys from a wrong premaster (valid x25519 share, wrong secret) → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello({ groups: [EcdhGroup.x25519] });
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: new Uint8Array(32).fill(9) }); // valid point, our secret is random
          c.sendChangeCipherSpec();
          c.sendFinished();
        },
        { alert: 'bad_record_mac', message: /record authentication failed/ },
      ));
  });

  describe('invalid key shares (RFC 8422 §5.11, RFC 7748 §6.1)', () => {
    const p256Hello = { groups: [EcdhGroup.secp256r1] };
    const validP256 = () => p256.getPublicKey(p256.utils.randomSecretKey(), false);

    it('P-256 point not on the curve → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello(p256Hello);
          await c.readServerFlight();
          expect(c.group).to.equal(EcdhGroup.secp256r1);
          const pt = validP256();
          pt[64]! ^= 1; // y changes: no longer on the curve
          c.sendClientKeyExchange({ publicKey: pt });
        },
        { alert: 'illegal_parameter', message: /secp256r1 public key is not a valid point on the curve/ },
      ));

    it('P-256 point with x ≥ p → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello(p256Hello);
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: concat(new Uint8Array([4]), new Uint8Array(64).fill(0xff)) });
        },
        { alert: 'illegal_parameter', message: /secp256r1 public key is not a valid point/ },
      ));

    it('compressed P-256 point → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello(p256Hello);
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: p256.getPublicKey(p256.utils.randomSecretKey(), true) });
        },
        { alert: 'illegal_parameter', message: /secp256r1 public key is compressed/ },
      ));

    it('P-256 point at infinity (single 0x00) → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello(p256Hello);
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: new Uint8Array([0]) });
        },
        { alert: 'illegal_parameter', message: /secp256r1 public key is malformed/ },
      ));

    it('x25519 low-order point (all zeros) → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello({ groups: [EcdhGroup.x25519] });
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: new Uint8Array(32) });
        },
        { alert: 'illegal_parameter', message: /x25519/ },
      ));

    it('x25519 key of 31 bytes → illegal_parameter', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello({ groups: [EcdhGroup.x25519] });
          await c.readServerFlight();
          c.sendClientKeyExchange({ publicKey: new Uint8Array(31).fill(5) });
        },
        { alert: 'illegal_parameter', message: /x25519 public key must be 32 bytes, got 31/ },
      ));

    it('empty ClientKeyExchange key → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange({ body: new Uint8Array([0]) });
        },
        { alert: 'decode_error', message: /ecdh_Yc length 0/ },
      ));
  });

  describe('renegotiation (RFC 5746 §4.4: refused with a warning, the connection continues)', () => {
    it('ClientHello after the handshake → warning no_renegotiation (encrypted), data still flows', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        await c.handshake();
        c.conn.sendHandshake(HT.client_hello, clientHelloBody(), { transcript: false });
        const alert = await c.conn.expectAlert();
        expectWireAlert(alert, { alert: 'no_renegotiation', level: 'warning', message: /./, encrypted: true });
        c.sendApplicationData('after renegotiation');
        expect(Buffer.from(await c.conn.readApplicationData(19)).toString()).to.equal('after renegotiation');
        expect(srv.connErrors).to.have.length(0);
      } finally {
        c.conn.destroy();
      }
    });

    it('a ClientHello fragmented over several encrypted records after the handshake → still one no_renegotiation', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        await c.handshake();
        const msg = frameHandshake(HT.client_hello, clientHelloBody());
        c.conn.sendRecord(CT.handshake, msg.subarray(0, 10));
        c.conn.sendRecord(CT.handshake, msg.subarray(10));
        expectWireAlert(await c.conn.expectAlert(), { alert: 'no_renegotiation', level: 'warning', message: /./ });
        c.sendApplicationData('ok');
        expect(Buffer.from(await c.conn.readApplicationData(2)).toString()).to.equal('ok');
      } finally {
        c.conn.destroy();
      }
    });
  });

  it('the server still serves after every case above', () => expectServerStillServes(srv.port));
  it('no error from the cases above leaked onto an established connection unexpectedly', () => {
    for (const e of srv.connErrors) expect(e.message).to.not.match(/internal_error/);
  });
});
