// Hostile clients vs the qtls server, record layer (RFC 5246 §6.2, §7.1, §7.2): garbage, bad headers,
// bad sizes, misplaced content types, and the same once the connection is encrypted. Each case checks
// the alert bytes on the wire, the server's error, that the server hung up, and that it still serves.
import { expect } from 'chai';
import { AlertDescription } from '../../lib/alert.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';
import { ContentType } from '../../lib/record/content-type.js';
import { utf8 } from '../../lib/wire/bytes.js';
import { HostileClient, clientHelloBody, clientHelloRecord } from './helpers/hostile-client.js';
import { useProcessGuard } from './helpers/guard.js';
import { serverCase, startQtlsServer, type QtlsServer } from './helpers/qtls.js';
import { rawRecord } from './helpers/raw-conn.js';

const CT = ContentType;

describe('hostile/server-records: record-layer attacks on the qtls server', function () {
  useProcessGuard();
  let srv: QtlsServer;
  before(async () => (srv = await startQtlsServer()));
  after(() => srv.close());

  describe('before any keys', () => {
    it('non-TLS garbage: an HTTP request to the TLS port → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(utf8('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')), {
        alert: 'unexpected_message',
        message: /plaintext HTTP request, not TLS/,
        encrypted: false,
      }));

    it('non-TLS garbage: a single byte that is no content type is refused at once → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(new Uint8Array([0x80])), { alert: 'unexpected_message', message: /unknown record content type 128/ }));

    it('record version 2.0 (not 3.x) → protocol_version', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.handshake, frameHandshake(1, clientHelloBody()), 0x0200)), {
        alert: 'protocol_version',
        message: /record version 0x0200 is not TLS/,
      }));

    it('record version 4.1 → protocol_version', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.handshake, frameHandshake(1, clientHelloBody()), 0x0401)), {
        alert: 'protocol_version',
        message: /record version 0x0401 is not TLS/,
      }));

    it('unknown record type 24 (heartbeat) → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(24, new Uint8Array([1, 0, 16, ...new Uint8Array(16)]))), {
        alert: 'unexpected_message',
        message: /unknown record content type 24/,
      }));

    it('unknown record type 255 after a valid ClientHello → unexpected_message', () =>
      serverCase(
        srv,
        (c) => {
          c.sendClientHello();
          c.conn.write(rawRecord(255, new Uint8Array([0])));
        },
        { alert: 'unexpected_message', message: /unknown record content type 255/ },
      ));

    for (const [name, type] of [['handshake', CT.handshake], ['alert', CT.alert], ['change_cipher_spec', CT.change_cipher_spec]] as const) {
      it(`zero-length ${name} record → unexpected_message`, () =>
        serverCase(srv, (c) => c.conn.write(rawRecord(type, new Uint8Array(0))), {
          alert: 'unexpected_message',
          message: new RegExp(`empty ${name} record`),
        }));
    }

    it('zero-length application-data record before the handshake → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.application_data, new Uint8Array(0))), {
        alert: 'unexpected_message',
        message: /application data before the handshake completed/,
      }));

    it('oversized plaintext record (2^14 + 1 bytes) → record_overflow', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.handshake, new Uint8Array((1 << 14) + 1))), {
        alert: 'record_overflow',
        message: /record length 16385 exceeds 16384/,
      }));

    it('oversized record length 0xffff, header only → record_overflow at once (no waiting for 64 KiB)', () =>
      serverCase(srv, (c) => c.conn.write(new Uint8Array([CT.handshake, 3, 1, 0xff, 0xff])), {
        alert: 'record_overflow',
        message: /record length 65535 exceeds 16384/,
      }));

    it('application data before the handshake → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.application_data, utf8('GET /'))), {
        alert: 'unexpected_message',
        message: /application data before the handshake completed/,
      }));

    it('application data between ClientHello and Finished → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.conn.write(rawRecord(CT.application_data, utf8('early')));
        },
        { alert: 'unexpected_message', message: /application data before the handshake completed/ },
      ));

    it('ChangeCipherSpec with a 2-byte body → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([1, 1])));
        },
        { alert: 'decode_error', message: /malformed ChangeCipherSpec/ },
      ));

    it('ChangeCipherSpec with value 2 → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([2])));
        },
        { alert: 'decode_error', message: /malformed ChangeCipherSpec/ },
      ));

    it('ChangeCipherSpec as the very first record → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([1]))), {
        alert: 'unexpected_message',
        message: /expected client_hello, got ChangeCipherSpec/,
      }));

    it('ChangeCipherSpec before the keys (right after ClientHello, no ClientKeyExchange) → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([1])));
        },
        { alert: 'unexpected_message', message: /expected client_key_exchange, got ChangeCipherSpec/ },
      ));

    it('ChangeCipherSpec in the same segment as the ClientHello → unexpected_message', () =>
      serverCase(
        srv,
        (c) => {
          c.conn.hold();
          c.sendClientHello();
          c.conn.write(rawRecord(CT.change_cipher_spec, new Uint8Array([1])));
          c.conn.flush();
        },
        { alert: 'unexpected_message', message: /expected client_key_exchange, got ChangeCipherSpec/ },
      ));

    it('two ChangeCipherSpecs → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          c.sendClientHello();
          await c.readServerFlight();
          c.sendClientKeyExchange();
          c.sendChangeCipherSpec();
          c.conn.sendRecord(CT.change_cipher_spec, new Uint8Array([1])); // encrypted, as the keys are now on
        },
        { alert: 'unexpected_message', message: /expected finished, got ChangeCipherSpec/ },
      ));

    for (const len of [1, 3]) {
      it(`alert record of ${len} byte(s) → decode_error`, () =>
        serverCase(
          srv,
          (c) => {
            c.sendClientHello();
            c.conn.write(rawRecord(CT.alert, new Uint8Array(len).fill(2)));
          },
          { alert: 'decode_error', message: new RegExp(`alert record of ${len} bytes`) },
        ));
    }

    it('alert with level 3 → illegal_parameter', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.alert, new Uint8Array([3, 40]))), {
        alert: 'illegal_parameter',
        message: /alert level 3/,
      }));

    it('handshake message larger than the limit (header says 4 MiB) → illegal_parameter before buffering it', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.handshake, new Uint8Array([HandshakeType.client_hello, 0x40, 0, 0]), 0x0301)), {
        alert: 'illegal_parameter',
        message: /client_hello of 4194304 bytes exceeds the 262144-byte limit/,
      }));

    it('handshake message of unknown type 99 → unexpected_message', () =>
      serverCase(srv, (c) => c.conn.write(rawRecord(CT.handshake, frameHandshake(99, new Uint8Array(8)), 0x0301)), {
        alert: 'unexpected_message',
        message: /unknown handshake message type 99/,
      }));

    it('a handshake message split over records with an alert in between → unexpected_message', () =>
      serverCase(
        srv,
        (c) => {
          const msg = frameHandshake(HandshakeType.client_hello, clientHelloBody());
          c.conn.write(rawRecord(CT.handshake, msg.subarray(0, 20), 0x0301));
          c.conn.write(rawRecord(CT.alert, new Uint8Array([1, 100])));
        },
        { alert: 'unexpected_message', message: /alert record in the middle of a fragmented handshake message/ },
      ));

    it('a ClientHello fragmented into 1-byte records is accepted (not an attack; checks reassembly)', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        const rec = clientHelloRecord({ random: c.clientRandom });
        const msg = rec.subarray(5);
        for (const b of msg) c.conn.write(rawRecord(CT.handshake, new Uint8Array([b]), 0x0301));
        c.conn.transcript.add(msg);
        await c.readServerFlight();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
        c.sendFinished();
        await c.readServerFinished();
      } finally {
        c.conn.destroy();
      }
    });

    it('a fatal alert from the client during the handshake → error with origin remote, no alert back', async () => {
      const errP = srv.nextError();
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello();
        await c.readServerFlight();
        c.conn.sendAlert(2, AlertDescription.handshake_failure);
        const err = await errP;
        expect(err.message).to.match(/peer sent alert handshake_failure/);
        expect((err as { origin?: string }).origin).to.equal('remote');
        await c.conn.waitClosed();
        expect(c.conn.log.filter((r) => r.type === CT.alert), 'no alert answers a fatal alert').to.have.length(0);
      } finally {
        c.conn.destroy();
      }
    });

    it('a fatal alert with an unknown description (255) → the connection ends; qtls answers illegal_parameter', () =>
      serverCase(
        srv,
        (c) => {
          c.sendClientHello();
          c.conn.sendAlert(2, 255);
        },
        { alert: 'illegal_parameter', message: /peer sent unknown alert 255/ },
      ));

    it('a warning alert other than no_renegotiation during the handshake → error (origin remote), no alert back', async () => {
      const errP = srv.nextError();
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello();
        await c.readServerFlight();
        c.conn.sendAlert(1, AlertDescription.user_canceled);
        const err = await errP;
        expect(err.message).to.match(/peer sent alert user_canceled/);
        await c.conn.waitClosed();
        expect(c.conn.log.filter((r) => r.type === CT.alert)).to.have.length(0);
      } finally {
        c.conn.destroy();
      }
    });

    it('a flood of warning no_renegotiation alerts during the handshake → unexpected_message', () =>
      serverCase(
        srv,
        (c) => {
          c.sendClientHello();
          for (let i = 0; i < 9; i++) c.conn.sendAlert(1, AlertDescription.no_renegotiation);
        },
        { alert: 'unexpected_message', message: /too many warning alerts/ },
      ));
  });

  describe('under encryption (after the handshake)', () => {
    const established = async (c: HostileClient) => {
      await c.handshake();
    };

    it('record MAC tampered (one bit of application data flipped) → bad_record_mac, encrypted', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          const rec = c.conn.encodeRecord(CT.application_data, utf8('hello'));
          rec[rec.length - 20]! ^= 0x01;
          c.conn.write(rec);
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('record authentication tag tampered → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          const rec = c.conn.encodeRecord(CT.application_data, utf8('hello'));
          rec[rec.length - 1]! ^= 0x80;
          c.conn.write(rec);
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('record content type rewritten in the header (authenticated data) → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          const rec = c.conn.encodeRecord(CT.application_data, utf8('hello'));
          rec[0] = CT.handshake;
          c.conn.write(rec);
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('replayed record (the same ciphertext twice) → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          const rec = c.conn.encodeRecord(CT.application_data, utf8('pay 100'));
          c.conn.write(rec);
          await c.conn.readApplicationData(7); // the echo: the first copy was accepted
          c.conn.write(rec);
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('encrypted record shorter than nonce + tag → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.write(rawRecord(CT.application_data, new Uint8Array(10)));
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));

    it('oversized ciphertext (2^14 + 2049 bytes) → record_overflow', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.write(rawRecord(CT.application_data, new Uint8Array((1 << 14) + 2049)));
        },
        { alert: 'record_overflow', message: /record length 18433 exceeds 18432/, encrypted: true },
      ));

    it('ciphertext within 2^14 + 2048 but plaintext over 2^14 → record_overflow', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.write(rawRecord(CT.application_data, new Uint8Array((1 << 14) + 1 + 24)));
        },
        { alert: 'record_overflow', message: /decrypted record of 16385 bytes exceeds 2\^14/, encrypted: true },
      ));

    it('record version changed after negotiation (3.1 instead of 3.3) → protocol_version', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.records.writeVersion = 0x0301;
          c.sendApplicationData('x');
        },
        { alert: 'protocol_version', message: /record version 0x301 after negotiating 0x303/, encrypted: true },
      ));

    it('empty application-data records: 32 are tolerated, data still flows', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        await c.handshake();
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 32; i++) c.sendApplicationData(new Uint8Array(0));
          c.sendApplicationData('ok');
          expect(Buffer.from(await c.conn.readApplicationData(2)).toString()).to.equal('ok');
        }
      } finally {
        c.conn.destroy();
      }
    });

    it('empty application-data record flood (33 in a row) → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          for (let i = 0; i < 33; i++) c.sendApplicationData(new Uint8Array(0));
        },
        { alert: 'unexpected_message', message: /more than 32 consecutive empty records/, encrypted: true },
      ));

    it('zero-length encrypted handshake record → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.sendRecord(CT.handshake, new Uint8Array(0));
        },
        { alert: 'unexpected_message', message: /empty handshake record/, encrypted: true },
      ));

    it('ChangeCipherSpec after the handshake → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.sendRecord(CT.change_cipher_spec, new Uint8Array([1]));
        },
        { alert: 'unexpected_message', message: /ChangeCipherSpec after the handshake/, encrypted: true },
      ));

    it('alert record of 3 bytes, encrypted → decode_error', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.sendRecord(CT.alert, new Uint8Array([1, 0, 0]));
        },
        { alert: 'decode_error', message: /alert record of 3 bytes/, encrypted: true },
      ));

    it('HelloRequest sent by a client → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.sendHandshake(HandshakeType.hello_request, new Uint8Array(0), { transcript: false });
        },
        { alert: 'unexpected_message', message: /unexpected handshake message type 0 after the handshake/, encrypted: true },
      ));

    it('a Finished after the handshake → unexpected_message', () =>
      serverCase(
        srv,
        async (c) => {
          await established(c);
          c.conn.sendHandshake(HandshakeType.finished, new Uint8Array(12), { transcript: false });
        },
        { alert: 'unexpected_message', message: /after the handshake/, encrypted: true },
      ));
  });
});
