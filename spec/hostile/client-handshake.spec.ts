// A hostile server vs the qtls client: malformed server flights, messages out of order, bad
// certificates, forged ServerKeyExchange signatures, invalid key shares, tampered Finished and
// records, renegotiation requests. Each case checks the alert the client put on the wire (decrypted
// when the client had switched keys), the client's error, that the client hung up, and that the next
// qtls client still completes a handshake.
import { expect } from 'chai';
import { p256 } from '@noble/curves/nist.js';
import { EcdhGroup } from '../../lib/crypto/ecdh.js';
import { ExtensionType, encodeAlpn } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { encodeCertificateMessage } from '../../lib/handshake/messages/certificate.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { concat, utf8 } from '../../lib/wire/bytes.js';
import { SUITE, type ExtensionList } from './helpers/hostile-client.js';
import { HostileServer, type ServerScript } from './helpers/hostile-server.js';
import { chainDer, privateKey } from './helpers/fixtures.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { clientCase, expectClientStillWorks, expectWireAlert, startQtlsClient } from './helpers/qtls.js';
import { rawRecord } from './helpers/raw-conn.js';

const CT = ContentType;
const HT = HandshakeType;
const ET = ExtensionType;

/** Read the ClientHello and send a ServerHello body (possibly broken) as one record. */
async function helloWith(s: ServerScript, edit: (body: Uint8Array) => Uint8Array): Promise<void> {
  await s.readClientHello();
  s.conn.write(rawRecord(CT.handshake, frameHandshake(HT.server_hello, edit(s.serverHelloBody()))));
}

/** Everything up to ServerHelloDone, with one step replaced. */
async function flightWith(
  s: ServerScript,
  o: { hello?: Parameters<ServerScript['sendServerHello']>[0]; certificate?: Uint8Array[] | (() => void); ske?: Parameters<ServerScript['sendServerKeyExchange']>[0] } = {},
): Promise<void> {
  await s.readClientHello();
  s.conn.hold();
  s.sendServerHello(o.hello);
  if (typeof o.certificate === 'function') o.certificate();
  else s.sendCertificate(o.certificate);
  s.sendServerKeyExchange(o.ske);
  s.sendServerHelloDone();
  s.conn.flush();
}

describe('hostile/client-handshake: a hostile server against the qtls client', function () {
  useProcessGuard();
  let hs: HostileServer;
  before(async () => (hs = await HostileServer.listen()));
  after(() => hs.close());

  describe('ServerHello', () => {
    it('truncated inside the random → decode_error', () =>
      clientCase(hs, (s) => helloWith(s, (b) => b.subarray(0, 10)), { alert: 'decode_error', message: /ServerHello: truncated random/ }));

    it('trailing bytes after the extensions (overlong) → decode_error', () =>
      clientCase(hs, (s) => helloWith(s, (b) => concat(b, new Uint8Array([0, 0]))), { alert: 'decode_error', message: /ServerHello: 2 trailing byte/ }));

    it('extension length running past the block → decode_error', () =>
      clientCase(
        hs,
        (s) =>
          helloWith(s, (b) => {
            const o = 2 + 32 + 1 + 32 + 2 + 1; // version, random, session_id, suite, compression
            b[o + 2 + 2] = 0x40; // first extension's length high byte
            return b;
          }),
        { alert: 'decode_error', message: /truncated extension data/ },
      ));

    it('session_id of 33 bytes → decode_error', () =>
      clientCase(hs, async (s) => {
        await s.readClientHello();
        s.sendServerHello({ sessionId: new Uint8Array(33) });
      }, { alert: 'decode_error', message: /session_id length 33/ }));

    it('an extension the client did not offer → unsupported_extension', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { extensions: (d: ExtensionList) => [...d, [0x1234, new Uint8Array(0)]] } }), {
        alert: 'unsupported_extension',
        message: /server sent extension 4660, which we did not offer/,
      }));

    it('duplicate extensions → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { extensions: (d: ExtensionList) => [...d, [ET.extended_master_secret, new Uint8Array(0)]] } }), {
        alert: 'illegal_parameter',
        message: /ServerHello: duplicate extension 23/,
      }));

    it('TLS 1.1 chosen → protocol_version', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { version: 0x0302 } }), { alert: 'protocol_version', message: /server chose version 0x302/ }));

    it('a cipher suite the client did not offer → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { suite: 0x009c } }), { alert: 'illegal_parameter', message: /server chose cipher suite 0x009c.*which we did not offer/ }));

    it('compression method 1 → illegal_parameter', () =>
      clientCase(
        hs,
        (s) =>
          helloWith(s, (b) => {
            b[2 + 32 + 1 + 32 + 2] = 1;
            return b;
          }),
        { alert: 'illegal_parameter', message: /compression method 1/ },
      ));

    it('non-empty renegotiation_info on the initial handshake (RFC 5746 §3.4) → handshake_failure', () =>
      clientCase(
        hs,
        (s) =>
          flightWith(s, {
            hello: { extensions: (d: ExtensionList) => [...d.filter(([t]) => t !== ET.renegotiation_info), [ET.renegotiation_info, new Uint8Array([2, 1, 2])]] },
          }),
        { alert: 'handshake_failure', message: /non-empty renegotiation_info on the initial handshake/ },
      ));

    it('extended_master_secret echoed with a body → decode_error', () =>
      clientCase(
        hs,
        (s) =>
          flightWith(s, {
            hello: { extensions: (d: ExtensionList) => [...d.filter(([t]) => t !== ET.extended_master_secret), [ET.extended_master_secret, new Uint8Array([0])]] },
          }),
        { alert: 'decode_error', message: /extended_master_secret extension must be empty/ },
      ));

    it('ec_point_formats without uncompressed → illegal_parameter', () =>
      clientCase(
        hs,
        (s) => flightWith(s, { hello: { extensions: (d: ExtensionList) => [...d.filter(([t]) => t !== ET.ec_point_formats), [ET.ec_point_formats, new Uint8Array([1, 2])]] } }),
        { alert: 'illegal_parameter', message: /server does not accept uncompressed points/ },
      ));
  });

  describe('ALPN (RFC 7301 §3.1)', () => {
    const alpn = (protocols: string[]) => (d: ExtensionList): ExtensionList => [...d, [ET.application_layer_protocol_negotiation, encodeAlpn(protocols)]];

    it('a protocol the client did not offer → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { extensions: alpn(['h3']) } }), { alert: 'illegal_parameter', message: /server selected ALPN protocol \["h3"\], which we did not offer/ }, { client: { ALPNProtocols: ['h2', 'http/1.1'] } }));

    it('two protocols selected → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { extensions: alpn(['h2', 'http/1.1']) } }), { alert: 'illegal_parameter', message: /server selected ALPN protocol/ }, { client: { ALPNProtocols: ['h2', 'http/1.1'] } }));

    it('ALPN in the ServerHello when the client offered none → unsupported_extension', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { extensions: alpn(['h2']) } }), { alert: 'unsupported_extension', message: /server sent extension 16, which we did not offer/ }));
  });

  describe('messages in the wrong order', () => {
    it('ServerHelloDone right after ServerHello (no Certificate) → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendServerHelloDone();
        },
        { alert: 'unexpected_message', message: /expected certificate, got server_hello_done/ },
      ));

    it('ServerKeyExchange before Certificate → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendServerKeyExchange();
        },
        { alert: 'unexpected_message', message: /expected certificate, got server_key_exchange/ },
      ));

    it('Certificate before ServerHello → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendCertificate();
        },
        { alert: 'unexpected_message', message: /expected server_hello, got certificate/ },
      ));

    it('no ServerKeyExchange on an ECDHE suite → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendCertificate();
          s.sendServerHelloDone();
        },
        { alert: 'unexpected_message', message: /requires a ServerKeyExchange/ },
      ));

    it('two ServerHellos → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendServerHello();
        },
        { alert: 'unexpected_message', message: /expected certificate, got server_hello/ },
      ));

    it('Finished without ChangeCipherSpec → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.sendFinished();
        },
        { alert: 'unexpected_message', message: /expected ChangeCipherSpec, got finished/, encrypted: true },
      ));

    it('ChangeCipherSpec before ServerHelloDone → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendCertificate();
          s.conn.sendRecord(CT.change_cipher_spec, new Uint8Array([1]));
        },
        { alert: 'unexpected_message', message: /got ChangeCipherSpec/ },
      ));

    // RFC 5246 §7.4.1.1: a client that is negotiating ignores a HelloRequest (as OpenSSL does); it is
    // not part of the transcript, so the Finished messages still verify.
    it('HelloRequest in the middle of the handshake → ignored, the handshake completes', async () => {
      const client = startQtlsClient({ port: hs.port });
      const s = await hs.next();
      try {
        await s.readClientHello();
        s.conn.hold();
        s.sendServerHello();
        s.conn.sendHandshake(HT.hello_request, new Uint8Array(0), { transcript: false });
        s.sendCertificate();
        s.conn.sendHandshake(HT.hello_request, new Uint8Array(0), { transcript: false });
        s.sendServerKeyExchange();
        s.sendServerHelloDone();
        s.conn.flush();
        await s.readClientFlight();
        s.conn.hold();
        s.sendChangeCipherSpec();
        s.sendFinished();
        s.conn.flush();
        await within(client.secure, 3000, 'secureConnect');
        s.sendApplicationData('negotiated');
        const got = await within(new Promise<Buffer>((r) => client.socket.once('data', r)), 3000, 'data');
        expect(got.toString()).to.equal('negotiated');
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('HelloRequest with a body during the handshake → decode_error', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.conn.sendHandshake(HT.hello_request, new Uint8Array([0]), { transcript: false });
        },
        { alert: 'decode_error', message: /HelloRequest with a 1-byte body/ },
      ));

    it('a stream of HelloRequests during the handshake → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          for (let i = 0; i < 9; i++) s.conn.sendHandshake(HT.hello_request, new Uint8Array(0), { transcript: false });
        },
        { alert: 'unexpected_message', message: /more than 8 HelloRequests during the handshake/ },
      ));
  });

  describe('certificates', () => {
    it('certificate for the wrong host → bad_certificate (as OpenSSL and Go)', () =>
      clientCase(hs, (s) => s.firstFlight(), { alert: 'bad_certificate', message: /server certificate rejected: .*localhost/ }, { identity: 'wrongName' }));

    it('expired certificate → certificate_expired', () =>
      clientCase(hs, (s) => s.firstFlight(), { alert: 'certificate_expired', message: /server certificate rejected: .*expired/i }, { identity: 'expired' }));

    it('certificate from an unknown CA → unknown_ca', () =>
      clientCase(hs, (s) => s.firstFlight(), { alert: 'unknown_ca', message: /server certificate rejected/ }, { identity: 'unknownCa' }));

    it('leaf without its intermediate → unknown_ca', () =>
      clientCase(hs, (s) => flightWith(s, { certificate: [chainDer('ecdsa-p256-chain.pem')[0]!] }), { alert: 'unknown_ca', message: /server certificate rejected/ }));

    it('a certificate that does not parse → bad_certificate', () =>
      clientCase(hs, (s) => flightWith(s, { certificate: [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])] }), {
        alert: 'bad_certificate',
        message: /server certificate #0 does not parse/,
      }));

    it('a certificate with one byte flipped in the signature → bad_certificate', () =>
      clientCase(
        hs,
        (s) => {
          const chain = chainDer('ecdsa-p256-chain.pem').map((c) => c.slice());
          chain[0]![chain[0]!.length - 3]! ^= 0x01;
          return flightWith(s, { certificate: chain });
        },
        { alert: 'bad_certificate', message: /server certificate rejected/ },
      ));

    it('empty certificate list → decode_error', () =>
      clientCase(hs, (s) => flightWith(s, { certificate: [] }), { alert: 'decode_error', message: /empty Certificate message/ }));

    it('certificate_list length wrong → decode_error', () =>
      clientCase(
        hs,
        (s) =>
          flightWith(s, {
            certificate: () => {
              const body = encodeCertificateMessage(s.chain);
              body[2]! += 1;
              s.conn.sendHandshake(HT.certificate, body);
            },
          }),
        { alert: 'decode_error', message: /Certificate/ },
      ));

    it('a certificate entry of length 0 → decode_error', () =>
      clientCase(hs, (s) => flightWith(s, { certificate: () => s.conn.sendHandshake(HT.certificate, new Uint8Array([0, 0, 3, 0, 0, 0])) }), {
        alert: 'decode_error',
        message: /ASN\.1Cert length 0/,
      }));

    it('an RSA certificate on an ECDSA suite → unsupported_certificate', () =>
      clientCase(hs, (s) => flightWith(s, { hello: { suite: SUITE.ECDHE_ECDSA_AES128_GCM }, certificate: chainDer('rsa-chain.pem') }), {
        alert: 'unsupported_certificate',
        message: /server certificate key \(rsa\) cannot authenticate/,
      }));
  });

  describe('ServerKeyExchange', () => {
    it('signature by the wrong key (a key of another certificate) → decrypt_error', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { signWith: privateKey('unknown-ca-key.pem') } }), {
        alert: 'decrypt_error',
        message: /ServerKeyExchange signature \(ecdsa_secp256r1_sha256\) does not verify/,
      }));

    it('signature with one bit flipped → decrypt_error', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { tamperSignature: (sig) => ((sig[sig.length - 1]! ^= 1), sig) } }), {
        alert: 'decrypt_error',
        message: /does not verify/,
      }));

    it('params changed after signing (a different ECDH key) → decrypt_error', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { tamperParams: (p) => ((p[p.length - 1]! ^= 1), p) } }), { alert: 'decrypt_error', message: /does not verify/ }));

    it('RSA-PSS signature re-signed with the wrong key on an RSA suite → decrypt_error', () =>
      clientCase(
        hs,
        (s) => flightWith(s, { ske: { tamperSignature: (sig) => ((sig[5]! ^= 0x40), sig) } }),
        { alert: 'decrypt_error', message: /ServerKeyExchange signature \(rsa_pss_rsae_sha256\) does not verify/ },
        { identity: 'rsa' },
      ));

    it('signature scheme the client did not offer (ecdsa_sha1) → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { scheme: 0x0203 } }), { alert: 'illegal_parameter', message: /server signed with ecdsa_sha1, which we did not offer/ }));

    it('signature scheme that does not fit the certificate key (RSA scheme, ECDSA cert) → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { scheme: 0x0804, signWith: privateKey('rsa-key.pem') } }), {
        alert: 'illegal_parameter',
        message: /does not match the certificate's ec key/,
      }));

    it('empty signature → decode_error', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { tamperSignature: () => new Uint8Array(0) } }), { alert: 'decode_error', message: /signature length 0/ }));

    it('trailing byte after the signature → decode_error', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendCertificate();
          s.conn.sendHandshake(HT.server_key_exchange, concat(s.serverKeyExchangeBody(), new Uint8Array([0])));
          s.sendServerHelloDone();
        },
        { alert: 'decode_error', message: /ServerKeyExchange: 1 trailing byte/ },
      ));

    it('P-256 point not on the curve (validly signed) → illegal_parameter', () =>
      clientCase(
        hs,
        (s) => {
          const pt = p256.getPublicKey(p256.utils.randomSecretKey(), false);
          pt[40]! ^= 0x01;
          return flightWith(s, { ske: { group: EcdhGroup.secp256r1, publicKey: pt } });
        },
        { alert: 'illegal_parameter', message: /secp256r1 public key is not a valid point on the curve/ },
      ));

    it('compressed P-256 point (validly signed) → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { group: EcdhGroup.secp256r1, publicKey: p256.getPublicKey(p256.utils.randomSecretKey(), true) } }), {
        alert: 'illegal_parameter',
        message: /secp256r1 public key is compressed/,
      }));

    it('x25519 low-order point (validly signed) → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { group: EcdhGroup.x25519, publicKey: concat(new Uint8Array([1]), new Uint8Array(31)) } }), {
        alert: 'illegal_parameter',
        message: /x25519/,
      }));

    it('a group the client did not offer (secp521r1) → illegal_parameter', () =>
      clientCase(hs, (s) => flightWith(s, { ske: { group: 25 } }), { alert: 'illegal_parameter', message: /server chose group unknown_group\(25\), which we did not offer/ }));

    it('explicit curve parameters (curve_type 1) → illegal_parameter', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendCertificate();
          // Signed correctly: the signature covers the explicit curve_type.
          s.conn.sendHandshake(HT.server_key_exchange, s.serverKeyExchangeBody({ editParams: (p) => ((p[0] = 1), p) }));
          s.sendServerHelloDone();
        },
        { alert: 'illegal_parameter', message: /curve_type 1 is not named_curve/ },
      ));

    it('ServerHelloDone with a body → decode_error', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.sendServerHello();
          s.sendCertificate();
          s.sendServerKeyExchange();
          s.conn.sendHandshake(HT.server_hello_done, new Uint8Array([0]));
        },
        { alert: 'decode_error', message: /ServerHelloDone must be empty/ },
      ));
  });

  describe('Finished and record protection (the client has switched keys: its alerts are encrypted)', () => {
    it('server Finished tampered → decrypt_error', () =>
      clientCase(
        hs,
        async (s) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.conn.hold();
          s.sendChangeCipherSpec();
          s.sendFinished({ tamper: (v) => ((v[11]! ^= 0x80), v) });
        },
        { alert: 'decrypt_error', message: /server Finished verify_data does not match/, encrypted: true },
      ));

    it('server Finished record MAC tampered → bad_record_mac', () =>
      clientCase(
        hs,
        async (s) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.conn.hold();
          s.sendChangeCipherSpec();
          s.sendFinished();
          s.conn.held!.at(-1)![10]! ^= 0x04;
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('server Finished sent in plaintext after ChangeCipherSpec → bad_record_mac', () =>
      clientCase(
        hs,
        async (s) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.conn.hold();
          s.conn.sendChangeCipherSpec(); // no key switch: Finished goes out unprotected
          s.sendFinished();
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('application data instead of Finished → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.conn.hold();
          s.sendChangeCipherSpec();
          s.sendApplicationData('HTTP/1.1 200 OK\r\n');
        },
        { alert: 'unexpected_message', message: /application data before the handshake completed/, encrypted: true },
      ));

    it('after the handshake: application record MAC tampered → bad_record_mac', () =>
      clientCase(
        hs,
        async (s) => {
          await s.handshake();
          const rec = s.conn.encodeRecord(CT.application_data, utf8('hello'));
          rec[rec.length - 1]! ^= 1;
          s.conn.write(rec);
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('after the handshake: oversized record → record_overflow', () =>
      clientCase(
        hs,
        async (s) => {
          await s.handshake();
          s.conn.write(rawRecord(CT.application_data, new Uint8Array((1 << 14) + 2049)));
        },
        { alert: 'record_overflow', message: /exceeds 18432/, encrypted: true },
      ));

    it('after the handshake: 33 empty records → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.handshake();
          for (let i = 0; i < 33; i++) s.sendApplicationData(new Uint8Array(0));
        },
        { alert: 'unexpected_message', message: /more than 32 consecutive empty records/, encrypted: true },
      ));
  });

  describe('garbage from the server', () => {
    it('an HTTP response instead of a ServerHello → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.conn.write(utf8('HTTP/1.1 400 Bad Request\r\n\r\n'));
        },
        { alert: 'unexpected_message', message: /unknown record content type 72/ },
      ));

    it('oversized plaintext record → record_overflow', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.conn.write(rawRecord(CT.handshake, new Uint8Array((1 << 14) + 1)));
        },
        { alert: 'record_overflow', message: /record length 16385 exceeds 16384/ },
      ));

    it('handshake message over the size limit → illegal_parameter', () =>
      clientCase(
        hs,
        async (s) => {
          await s.readClientHello();
          s.conn.write(rawRecord(CT.handshake, new Uint8Array([HT.certificate, 0x7f, 0xff, 0xff])));
        },
        { alert: 'illegal_parameter', message: /certificate of 8388607 bytes exceeds/ },
      ));
  });

  describe('renegotiation (RFC 5746 §4.2: refused with a warning, the connection continues)', () => {
    it('HelloRequest after the handshake → warning no_renegotiation (encrypted), data still flows', async () => {
      const client = startQtlsClient({ port: hs.port });
      const s = await hs.next();
      try {
        await s.handshake();
        await within(client.secure, 3000, 'secureConnect');
        s.conn.sendHandshake(HT.hello_request, new Uint8Array(0), { transcript: false });
        expectWireAlert(await s.conn.expectAlert(), { alert: 'no_renegotiation', level: 'warning', message: /./, encrypted: true });
        s.sendApplicationData('still here');
        const got = await within(new Promise<Buffer>((r) => client.socket.once('data', r)), 3000, 'data after the refusal');
        expect(got.toString()).to.equal('still here');
        client.socket.write('me too');
        expect(Buffer.from(await s.conn.readApplicationData(6)).toString()).to.equal('me too');
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('a ServerHello after the handshake → unexpected_message', () =>
      clientCase(
        hs,
        async (s) => {
          await s.handshake();
          s.conn.sendHandshake(HT.server_hello, s.serverHelloBody(), { transcript: false });
        },
        { alert: 'unexpected_message', message: /unexpected handshake message type 2 after the handshake/, encrypted: true },
      ));
  });

  it('the client stack still works after all of the above', () => expectClientStillWorks(hs));
});

