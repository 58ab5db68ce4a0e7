// Hostile clients against a qtls server that requests client certificates (RFC 5246 §7.4.4, §7.4.6,
// §7.4.8): wrong or missing CertificateVerify, certificates the server can't trust, messages out of
// place. Each case checks the alert on the wire, the server's error, and that the server still serves
// a well-behaved client with a certificate.
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { HostileClient } from './helpers/hostile-client.js';
import { chainDer, pem, privateKey } from './helpers/fixtures.js';
import { useProcessGuard } from './helpers/guard.js';
import { serverCase, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

const HT = HandshakeType;
const ECDSA_SHA256 = 0x0403;

describe('hostile/server-client-auth: client certificates under attack', function () {
  useProcessGuard();
  let srv: QtlsServer;
  before(async () => (srv = await startQtlsServer({ options: { requestCert: true, ca: pem('ca.pem') } })));
  after(() => srv.close());
  const goodClient = { cert: pem('client-chain.pem'), key: pem('client-key.pem') };
  const clientChain = () => chainDer('client-chain.pem');
  const clientKey = () => privateKey('client-key.pem');

  /** Up to (and including) ClientKeyExchange, with our certificate chain. */
  async function upToKeyExchange(c: HostileClient, chain = clientChain()): Promise<void> {
    c.sendClientHello();
    await c.readServerFlight();
    if (!c.certificateRequested) throw new Error('the server did not request a certificate');
    c.sendCertificate(chain);
    c.sendClientKeyExchange();
  }
  const run = (act: (c: HostileClient) => Promise<void>, want: Parameters<typeof serverCase>[2]) => serverCase(srv, act, want, { goodClient });

  it('a correct client certificate handshake completes (control)', async () => {
    const c = await HostileClient.connect(srv.port);
    try {
      await upToKeyExchange(c);
      c.sendCertificateVerify({ key: clientKey(), scheme: ECDSA_SHA256 });
      c.sendChangeCipherSpec();
      c.sendFinished();
      await c.readServerFinished();
    } finally {
      c.conn.destroy();
    }
  });

  it('CertificateVerify signed by another key → decrypt_error', () =>
    run(async (c) => {
      await upToKeyExchange(c);
      c.sendCertificateVerify({ key: privateKey('ecdsa-p256-key.pem'), scheme: ECDSA_SHA256 });
    }, { alert: 'decrypt_error', message: /client CertificateVerify signature does not verify/ }));

  it('CertificateVerify with a bit flipped → decrypt_error', () =>
    run(async (c) => {
      await upToKeyExchange(c);
      c.sendCertificateVerify({ key: clientKey(), scheme: ECDSA_SHA256, tamper: (s) => ((s[s.length - 2]! ^= 4), s) });
    }, { alert: 'decrypt_error', message: /does not verify/ }));

  it('CertificateVerify with a scheme the server did not offer (ecdsa_sha1) → illegal_parameter', () =>
    run(async (c) => {
      await upToKeyExchange(c);
      c.sendCertificateVerify({ key: clientKey(), scheme: 0x0203 });
    }, { alert: 'illegal_parameter', message: /client signed with ecdsa_sha1, which we did not offer/ }));

  it('CertificateVerify with an RSA scheme for an ECDSA certificate → illegal_parameter', () =>
    run(async (c) => {
      await upToKeyExchange(c);
      c.sendCertificateVerify({ key: privateKey('rsa-key.pem'), scheme: 0x0804 });
    }, { alert: 'illegal_parameter', message: /does not fit the client certificate key/ }));

  it('CertificateVerify missing (ChangeCipherSpec after ClientKeyExchange) → unexpected_message', () =>
    run(async (c) => {
      await upToKeyExchange(c);
      c.sendChangeCipherSpec();
    }, { alert: 'unexpected_message', message: /expected certificate_verify, got ChangeCipherSpec/ }));

  it('CertificateVerify before ClientKeyExchange → unexpected_message', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate(clientChain());
      c.sendCertificateVerify({ key: clientKey(), scheme: ECDSA_SHA256 });
    }, { alert: 'unexpected_message', message: /expected client_key_exchange, got certificate_verify/ }));

  it('ClientKeyExchange without the requested Certificate → unexpected_message', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendClientKeyExchange();
    }, { alert: 'unexpected_message', message: /expected certificate, got client_key_exchange/ }));

  it('an empty certificate list (rejectUnauthorized) → handshake_failure', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate([]);
    }, { alert: 'handshake_failure', message: /client certificate required but the client sent none/ }));

  it('a client certificate from an unknown CA → unknown_ca', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate(chainDer('unknown-ca-cert.pem'));
    }, { alert: 'unknown_ca', message: /client certificate rejected/ }));

  it('an expired client certificate → certificate_expired', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate(chainDer('expired-chain.pem'));
    }, { alert: 'certificate_expired', message: /client certificate rejected/ }));

  it('a server certificate (no clientAuth EKU) as client certificate → certificate rejected', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate(chainDer('ecdsa-p256-chain.pem'));
    }, { alert: 'unsupported_certificate', message: /client certificate rejected/ }));

  it('a client certificate that does not parse → bad_certificate', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.sendCertificate([new Uint8Array([0x30, 0x82, 0x01])]);
    }, { alert: 'bad_certificate', message: /client certificate #0 does not parse/ }));

  it('Certificate message with a wrong inner length → decode_error', () =>
    run(async (c) => {
      c.sendClientHello();
      await c.readServerFlight();
      c.conn.sendHandshake(HT.certificate, new Uint8Array([0, 0, 9, 0, 0, 3, 1, 2, 3]));
    }, { alert: 'decode_error', message: /Certificate/ }));
});
