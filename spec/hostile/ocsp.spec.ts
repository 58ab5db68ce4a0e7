// OCSP stapling (RFC 6066 §8) under hostile peers. Client side: a scripted server sends CertificateStatus
// unasked, out of place, twice, with the wrong status_type, truncated, empty or with trailing bytes, or
// answers status_request with a body; each must end with the right fatal alert on the wire and a clear
// error. The same script, behaving, staples (or announces and then omits) a response the client accepts,
// so the failures are the edits'. Server side: malformed status_request extensions in a ClientHello.
import { expect } from 'chai';
import { ExtensionType, OCSP_STATUS_REQUEST } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { encodeCertificateStatus } from '../../lib/handshake/messages/certificate-status.js';
import { parseCertificateMessage } from '../../lib/handshake/messages/certificate.js';
import { Writer } from '../../lib/wire/writer.js';
import { HostileClient, type ExtensionList } from './helpers/hostile-client.js';
import { HostileServer, type ServerScript } from './helpers/hostile-server.js';
import { chainDer } from './helpers/fixtures.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { clientCase, serverCase, startQtlsClient, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

const HT = HandshakeType;
const ET = ExtensionType;

/** Stands in for a DER OCSPResponse: the client carries the bytes, it does not parse them. */
const RESPONSE = Uint8Array.from([0x30, 0x03, 0x0a, 0x01, 0x00]);

/** The ServerHello extensions a correct server sends, plus an empty status_request (the announcement). */
const announce = (d: ExtensionList): ExtensionList => [...d, [ET.status_request, new Uint8Array(0)]];

interface FlightEdits {
  hello?: (d: ExtensionList) => ExtensionList;
  /** Sent right after Certificate (where CertificateStatus belongs). */
  afterCertificate?: () => void;
  /** Sent right after ServerKeyExchange. */
  afterSke?: () => void;
}

/** ServerHello … ServerHelloDone in one write, with the edits. */
async function flight(s: ServerScript, o: FlightEdits): Promise<void> {
  await s.readClientHello();
  s.conn.hold();
  s.sendServerHello({ extensions: o.hello });
  s.sendCertificate();
  o.afterCertificate?.();
  s.sendServerKeyExchange();
  o.afterSke?.();
  s.sendServerHelloDone();
  s.conn.flush();
}

/** A CertificateStatus handshake message with this body (the length in the header is right). */
const sendStatus = (s: ServerScript, body: Uint8Array) => () => void s.conn.sendHandshake(HT.certificate_status, body);

describe('hostile/ocsp: OCSP stapling against hostile peers', function () {
  useProcessGuard();

  describe('a hostile server against the qtls client', () => {
    let hs: HostileServer;
    before(async () => (hs = await HostileServer.listen()));
    after(() => hs.close());
    const asking = { client: { requestOCSP: true } };

    /** A whole handshake with the (behaving) script; the client's 'OCSPResponse' events, each tagged with whether secureConnect came first. */
    async function completes(edits: (s: ServerScript) => FlightEdits): Promise<Array<{ response: Buffer | null; afterSecure: boolean }>> {
      const client = startQtlsClient({ port: hs.port, requestOCSP: true });
      const events: Array<{ response: Buffer | null; afterSecure: boolean }> = [];
      let secure = false;
      client.socket.on('OCSPResponse', (response: Buffer | null) => events.push({ response, afterSecure: secure }));
      client.socket.once('secureConnect', () => (secure = true));
      const s = await hs.next();
      try {
        await flight(s, edits(s));
        await s.readClientFlight();
        s.conn.hold();
        s.sendChangeCipherSpec();
        s.sendFinished();
        s.conn.flush();
        await within(client.secure, 3000, 'secureConnect of the qtls client');
        return events;
      } finally {
        client.socket.destroy();
        s.conn.destroy();
      }
    }

    it('control: the script stapling a response completes, and the client emits its bytes once, before secureConnect', async () => {
      const events = await completes((s) => ({ hello: announce, afterCertificate: sendStatus(s, encodeCertificateStatus(RESPONSE)) }));
      expect(events).to.deep.equal([{ response: Buffer.from(RESPONSE), afterSecure: false }]);
    });

    it('status_request announced but no CertificateStatus (RFC 6066 §8 allows it): completes, OCSPResponse null', async () => {
      expect(await completes(() => ({ hello: announce }))).to.deep.equal([{ response: null, afterSecure: false }]);
    });

    it('unsolicited: the client did not ask → unexpected_message', () =>
      clientCase(hs, (s) => flight(s, { afterCertificate: sendStatus(s, encodeCertificateStatus(RESPONSE)) }), {
        alert: 'unexpected_message',
        message: /expected server_key_exchange or certificate_request or server_hello_done, got certificate_status/,
      }));

    it('the client asked, but the ServerHello has no status_request → unexpected_message', () =>
      clientCase(hs, (s) => flight(s, { afterCertificate: sendStatus(s, encodeCertificateStatus(RESPONSE)) }), {
        alert: 'unexpected_message',
        message: /expected server_key_exchange or certificate_request or server_hello_done, got certificate_status/,
      }, asking));

    it('status_request in ServerHello when the client did not ask → unsupported_extension', () =>
      clientCase(hs, (s) => flight(s, { hello: announce }), { alert: 'unsupported_extension', message: /server sent extension 5, which we did not offer/ }));

    it('status_request in ServerHello with a body → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: (d) => [...d, [ET.status_request, OCSP_STATUS_REQUEST]] }), {
        alert: 'decode_error',
        message: /status_request extension must be empty/,
      }, asking));

    it('status_type 2 (ocsp_multi, RFC 6961) → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, new Writer().u8(2).vec24(RESPONSE).finish()) }), {
        alert: 'decode_error',
        message: /CertificateStatus: status_type 2, not ocsp\(1\)/,
      }, asking));

    it('truncated: the response is shorter than its length → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, encodeCertificateStatus(RESPONSE).subarray(0, 6)) }), {
        alert: 'decode_error',
        message: /CertificateStatus: truncated OCSPResponse/,
      }, asking));

    it('truncated: only the status_type → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, Uint8Array.of(1)) }), {
        alert: 'decode_error',
        message: /CertificateStatus: truncated OCSPResponse/,
      }, asking));

    it('an empty body → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, new Uint8Array(0)) }), {
        alert: 'decode_error',
        message: /CertificateStatus: truncated status_type/,
      }, asking));

    it('an empty OCSPResponse (opaque<1..2^24-1>) → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, Uint8Array.of(1, 0, 0, 0)) }), {
        alert: 'decode_error',
        message: /CertificateStatus: OCSPResponse length 0 outside 1\.\.16777215/,
      }, asking));

    it('trailing bytes after the response → decode_error', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterCertificate: sendStatus(s, Uint8Array.of(...encodeCertificateStatus(RESPONSE), 0)) }), {
        alert: 'decode_error',
        message: /CertificateStatus: 1 trailing byte/,
      }, asking));

    it('two CertificateStatus messages → unexpected_message', () =>
      clientCase(hs, (s) => flight(s, {
        hello: announce,
        afterCertificate: () => {
          sendStatus(s, encodeCertificateStatus(RESPONSE))();
          sendStatus(s, encodeCertificateStatus(RESPONSE))();
        },
      }), { alert: 'unexpected_message', message: /expected server_key_exchange or certificate_request or server_hello_done, got certificate_status/ }, asking));

    it('CertificateStatus after ServerKeyExchange → unexpected_message', () =>
      clientCase(hs, (s) => flight(s, { hello: announce, afterSke: sendStatus(s, encodeCertificateStatus(RESPONSE)) }), {
        alert: 'unexpected_message',
        message: /expected certificate_request or server_hello_done, got certificate_status/,
      }, asking));

    it('CertificateStatus before Certificate → unexpected_message', () =>
      clientCase(hs, async (s) => {
        await s.readClientHello();
        s.conn.hold();
        s.sendServerHello({ extensions: announce });
        sendStatus(s, encodeCertificateStatus(RESPONSE))();
        s.sendCertificate();
        s.conn.flush();
      }, { alert: 'unexpected_message', message: /expected certificate, got certificate_status/ }, asking));
  });

  describe('a hostile client against the qtls server (status_request in ClientHello)', () => {
    let srv: QtlsServer;
    const requests: Buffer[] = [];
    before(async () => {
      srv = await startQtlsServer();
      srv.server.on('OCSPRequest', (cert: Buffer, _issuer: Buffer | null, cb: (e: Error | null, r?: Buffer) => void) => {
        requests.push(cert);
        cb(null, Buffer.from(RESPONSE));
      });
    });
    after(() => srv.close());
    beforeEach(() => (requests.length = 0));

    const withStatusRequest = (data: Uint8Array) => (d: ExtensionList): ExtensionList => [...d, [ET.status_request, data]];
    const hello = (data: Uint8Array) => (c: HostileClient) => c.sendClientHello({ extensions: withStatusRequest(data) });
    /** A malformed request fails the handshake before anyone is asked for a response. */
    const refused = async (data: Uint8Array, message: RegExp) => {
      await serverCase(srv, hello(data), { alert: 'decode_error', message });
      expect(requests, 'OCSPRequest emitted').to.have.length(0);
    };

    it('control: a well-formed request gets ServerHello with status_request, Certificate, CertificateStatus', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello({ extensions: withStatusRequest(OCSP_STATUS_REQUEST) });
        const sh = await c.readServerHello();
        expect(sh.extensions.get(ET.status_request)).to.deep.equal(new Uint8Array(0));
        const certs = parseCertificateMessage((await c.conn.readHandshake(HT.certificate)).body);
        expect(certs).to.deep.equal(chainDer('ecdsa-p256-chain.pem'));
        expect((await c.conn.readHandshake(HT.certificate_status)).body).to.deep.equal(encodeCertificateStatus(RESPONSE));
        await c.conn.readHandshake(HT.server_key_exchange);
        expect(requests).to.have.length(1);
      } finally {
        c.conn.destroy();
      }
    });

    it('a request for another status_type is ignored, as OpenSSL: no status_request back, no OCSPRequest', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        c.sendClientHello({ extensions: withStatusRequest(Uint8Array.of(2, 0xde, 0xad)) });
        const sh = await c.readServerHello();
        expect(sh.extensions.has(ET.status_request)).to.equal(false);
        await c.conn.readHandshake(HT.certificate);
        await c.conn.readHandshake(HT.server_key_exchange);
        expect(requests).to.have.length(0);
      } finally {
        c.conn.destroy();
      }
    });

    it('responder IDs and request extensions are accepted (and not used)', async () => {
      const c = await HostileClient.connect(srv.port);
      try {
        const req = new Writer().u8(1).block(2, (w) => w.vec16(Uint8Array.of(0xa1, 0x00)).vec16(Uint8Array.of(0xa2, 0x00))).vec16(Uint8Array.of(0x30, 0x00)).finish();
        c.sendClientHello({ extensions: withStatusRequest(req) });
        expect((await c.readServerHello()).extensions.has(ET.status_request)).to.equal(true);
      } finally {
        c.conn.destroy();
      }
    });

    it('an empty status_request → decode_error', () =>
      refused(new Uint8Array(0), /status_request: truncated status_type/));

    it('responder_id_list running past the extension → decode_error', () =>
      refused(Uint8Array.of(1, 0, 9, 0, 1), /status_request: truncated responder_id_list/));

    it('an empty ResponderID (opaque<1..2^16-1>) → decode_error', () =>
      refused(Uint8Array.of(1, 0, 2, 0, 0, 0, 0), /status_request\.responder_id_list: ResponderID length 0 outside 1\.\.65535/));

    it('request_extensions missing → decode_error', () =>
      refused(Uint8Array.of(1, 0, 0), /status_request: truncated request_extensions/));

    it('trailing bytes → decode_error', () =>
      refused(Uint8Array.of(...OCSP_STATUS_REQUEST, 7), /status_request: 1 trailing byte/));
  });
});
