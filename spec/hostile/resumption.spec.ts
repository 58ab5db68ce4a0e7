// Session resumption under attack (RFC 5246 §7.3 Figure 2, RFC 5077, RFC 7627 §5.3): forged or
// tampered tickets must only cost a full handshake; a resumed handshake with a wrong Finished, a
// server faking a resumption, or a NewSessionTicket out of place gets the right alert.
import { expect } from 'chai';
import { randomBytes } from '../../lib/crypto/random.js';
import { ExtensionType } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { deriveConnectionKeys } from '../../lib/handshake/key-schedule.js';
import { concat } from '../../lib/wire/bytes.js';
import { HostileClient, type ExtensionList } from './helpers/hostile-client.js';
import { HostileServer, type ServerScript } from './helpers/hostile-server.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { clientCase, expectServerStillServes, serverCase, startQtlsClient, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

const HT = HandshakeType;
const ET = ExtensionType;
const withTicketExt = (d: ExtensionList): ExtensionList => [...d, [ET.session_ticket, new Uint8Array(0)]];

describe('hostile/resumption: tickets and abbreviated handshakes under attack', function () {
  useProcessGuard();

  describe('against the qtls server (tickets on, the default)', () => {
    let srv: QtlsServer;
    let ticket: Uint8Array;
    let master: Uint8Array;
    before(async () => {
      srv = await startQtlsServer();
      const c = await HostileClient.connect(srv.port);
      await c.handshake({ extensions: withTicketExt });
      expect(c.ticket, 'the server issued a ticket').to.be.instanceOf(Uint8Array);
      ticket = c.ticket!;
      master = c.master;
      c.conn.destroy();
    });
    after(() => srv.close());

    /** Offer `t`; the server must decline and complete a full handshake. */
    async function expectFullHandshake(t: Uint8Array, hello = {}): Promise<void> {
      const c = await HostileClient.connect(srv.port);
      try {
        expect(await c.resume({ ticket: t, master, hello })).to.equal('full');
        await c.readServerFlightRest();
        c.sendClientKeyExchange();
        c.sendChangeCipherSpec();
        c.sendFinished();
        await c.readServerFinished();
        c.sendApplicationData('full');
        expect(Buffer.from(await c.conn.readApplicationData(4)).toString()).to.equal('full');
      } finally {
        c.conn.destroy();
      }
    }

    it('the genuine ticket resumes (control)', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        expect(await c.resume({ ticket, master })).to.equal('resumed');
        c.sendApplicationData('resumed');
        expect(Buffer.from(await c.conn.readApplicationData(7)).toString()).to.equal('resumed');
      } finally {
        c.conn.destroy();
      }
    });

    it('a forged ticket (random bytes) → a full handshake, not an error', () => expectFullHandshake(randomBytes(180)));
    it('a ticket of 65535 random bytes → a full handshake', () => expectFullHandshake(randomBytes(0xffff - 200).subarray(0, 60000)));
    it('a ticket shorter than name + nonce + tag → a full handshake', () => expectFullHandshake(randomBytes(20)));
    for (const at of [0, 20, 40, -1]) {
      it(`the genuine ticket with a bit flipped at ${at < 0 ? 'the end' : `byte ${at}`} → a full handshake`, () => {
        const t = ticket.slice();
        t[at < 0 ? t.length - 1 : at]! ^= 0x01;
        return expectFullHandshake(t);
      });
    }
    it('the genuine ticket truncated by one byte → a full handshake', () => expectFullHandshake(ticket.subarray(0, ticket.length - 1)));
    it('the genuine ticket with a trailing byte → a full handshake', () => expectFullHandshake(concat(ticket, new Uint8Array([0]))));
    it('the genuine ticket for another server name → a full handshake', () => expectFullHandshake(ticket, { servername: 'other.example' }));

    it('the genuine ticket without extended_master_secret (RFC 7627 §5.3) → handshake_failure', () =>
      serverCase(
        srv,
        (c) => {
          c.sendClientHello({
            sessionId: randomBytes(32),
            extensions: (d) => [...d.filter(([t]) => t !== ET.extended_master_secret), [ET.session_ticket, ticket]],
          });
        },
        { alert: 'handshake_failure', message: /without the extension \(RFC 7627 §5\.3\)/ },
      ));

    it('resumed, client Finished tampered → decrypt_error (encrypted: the server already switched keys)', () =>
      serverCase(srv, (c) => c.resume({ ticket, master, tamper: (v) => ((v[3]! ^= 8), v) }), {
        alert: 'decrypt_error',
        message: /client Finished verify_data does not match on resumption/,
        encrypted: true,
      }));

    it('resumed with the wrong master secret (a stolen ticket) → bad_record_mac', () =>
      serverCase(
        srv,
        async (c) => {
          const sessionId = randomBytes(32);
          c.sendClientHello({ sessionId, extensions: (d) => [...d, [ET.session_ticket, ticket]] });
          await c.readServerHello();
          // The thief's Finished is under the wrong keys. (The test itself reads the server's records
          // with the real keys, to see the alert it sends.)
          c.conn.setReadKeys(deriveConnectionKeys(c.suite, master, c.clientRandom, c.sh.random).server);
          const wrong = randomBytes(48);
          c.master = wrong;
          c.keys = deriveConnectionKeys(c.suite, wrong, c.clientRandom, c.sh.random);
          c.sendChangeCipherSpec();
          c.sendFinished();
        },
        { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: true },
      ));
  });

  describe('against the qtls client', () => {
    let hs: HostileServer;
    before(async () => (hs = await HostileServer.listen()));
    after(() => hs.close());

    /** A full handshake with the hostile server; the client's session and the master secret. */
    async function session(): Promise<{ session: Buffer; master: Uint8Array; suite: number }> {
      const client = startQtlsClient({ port: hs.port });
      const got = new Promise<Buffer>((r) => client.socket.once('session', r));
      const s = await hs.next();
      try {
        await s.handshake();
        await within(client.secure, 3000, 'secureConnect');
        return { session: await within(got, 3000, "the client's 'session' event"), master: s.master, suite: s.suite.id };
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    }

    it('the genuine session resumes (control)', async () => {
      const { session: sess, master } = await session();
      const client = startQtlsClient({ port: hs.port, session: sess });
      const s = await hs.next();
      try {
        await s.resumeFlight({ master });
        await s.conn.expectChangeCipherSpec();
        await s.conn.readHandshake(HT.finished);
        await within(client.secure, 3000, 'secureConnect');
        expect(client.socket.isSessionReused()).to.equal(true);
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    });

    it('a server faking resumption with the wrong master secret → bad_record_mac (plaintext: the client has not switched keys)', async () => {
      const { session: sess } = await session();
      return clientCase(hs, (s: ServerScript) => s.resumeFlight({ master: randomBytes(48) }), { alert: 'bad_record_mac', message: /record authentication failed/, encrypted: false }, { client: { session: sess } });
    });

    it('resumption with a tampered server Finished → decrypt_error', async () => {
      const { session: sess, master } = await session();
      return clientCase(hs, (s: ServerScript) => s.resumeFlight({ master, finishedTamper: (v) => ((v[0]! ^= 1), v) }), {
        alert: 'decrypt_error',
        message: /server Finished verify_data does not match on resumption/,
        encrypted: false,
      }, { client: { session: sess } });
    });

    it('resumption with another cipher suite → illegal_parameter', async () => {
      const { session: sess, master, suite } = await session();
      const other = suite === 0xc02b ? 0xcca9 : 0xc02b;
      return clientCase(hs, (s: ServerScript) => s.resumeFlight({ master, hello: { suite: other } }), {
        alert: 'illegal_parameter',
        message: /resumed the session with a different cipher suite/,
      }, { client: { session: sess } });
    });

    it('resumption without extended_master_secret (RFC 7627 §5.3) → handshake_failure', async () => {
      const { session: sess, master } = await session();
      return clientCase(hs, (s: ServerScript) => s.resumeFlight({ master, hello: { extensions: (d) => d.filter(([t]) => t !== ET.extended_master_secret) } }), {
        alert: 'handshake_failure',
        message: /extended_master_secret use differs from the resumed session/,
      }, { client: { session: sess } });
    });

    it('a server claiming resumption of a session the client never offered → unexpected_message', () =>
      clientCase(hs, (s: ServerScript) => s.resumeFlight({ master: randomBytes(48) }), { alert: 'unexpected_message', message: /expected certificate, got ChangeCipherSpec/ }));

    it('NewSessionTicket the ServerHello did not announce → unexpected_message', () =>
      clientCase(
        hs,
        async (s: ServerScript) => {
          await s.firstFlight();
          await s.readClientFlight();
          s.conn.sendHandshake(HT.new_session_ticket, new Uint8Array([0, 0, 1, 0, 0, 4, 1, 2, 3, 4]));
        },
        { alert: 'unexpected_message', message: /expected ChangeCipherSpec, got new_session_ticket/ },
      ));

    it('NewSessionTicket malformed (ticket length past the end) → decode_error', () =>
      clientCase(
        hs,
        async (s: ServerScript) => {
          await s.readClientHello();
          s.conn.hold();
          s.sendServerHello({ extensions: (d) => [...d, [ET.session_ticket, new Uint8Array(0)]] });
          s.sendCertificate();
          s.sendServerKeyExchange();
          s.sendServerHelloDone();
          s.conn.flush();
          await s.readClientFlight();
          s.conn.sendHandshake(HT.new_session_ticket, new Uint8Array([0, 0, 1, 0, 0, 40, 1, 2]));
        },
        { alert: 'decode_error', message: /NewSessionTicket: truncated ticket/, encrypted: true },
      ));

    it('session_ticket echoed with a body → decode_error', () =>
      clientCase(hs, async (s: ServerScript) => {
        await s.readClientHello();
        s.sendServerHello({ extensions: (d) => [...d, [ET.session_ticket, new Uint8Array([1])]] });
      }, { alert: 'decode_error', message: /session_ticket in ServerHello must be empty/ }));
  });

  it('the qtls server still serves after all of the above', async () => {
    const srv = await startQtlsServer();
    try {
      await expectServerStillServes(srv.port);
    } finally {
      await srv.close();
    }
  });
});
