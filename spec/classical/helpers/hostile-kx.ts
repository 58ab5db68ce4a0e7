// Scripted hostile peers for the classical key exchanges, built on the hostile-input engineer's
// RawConn / HostileClient / ServerScript (spec/hostile/helpers, used as they are): a DHE server that
// sends chosen ServerDHParams (properly signed, so only the values are wrong), a DHE client that sends a
// chosen dh_Yc, and a client that authenticates with a certificate and a CertificateVerify over bytes
// of its choosing.
import { i2osp, os2ip } from '../../../lib/crypto/bigint.js';
import { dhSharedSecret, generateDhKeyPair } from '../../../lib/crypto/dh.js';
import { ecdhSharedSecret, generateEcdhKeyPair, type EcdhGroupCode } from '../../../lib/crypto/ecdh.js';
import { schemeToAlgorithm, signData } from '../../../lib/crypto/signature.js';
import { HandshakeType } from '../../../lib/handshake/handshake-type.js';
import { computeMasterSecret, deriveConnectionKeys } from '../../../lib/handshake/key-schedule.js';
import { encodeCertificateMessage, parseCertificateMessage } from '../../../lib/handshake/messages/certificate.js';
import { writeDigitallySigned } from '../../../lib/handshake/messages/digitally-signed.js';
import { ExtensionType } from '../../../lib/handshake/extensions.js';
import { parseServerHello } from '../../../lib/handshake/messages/server-hello.js';
import { suiteById } from '../../../lib/suites.js';
import { concat } from '../../../lib/wire/bytes.js';
import { Reader } from '../../../lib/wire/reader.js';
import { Writer } from '../../../lib/wire/writer.js';
import { chainDer, privateKey } from '../../hostile/helpers/fixtures.js';
import { HostileClient, type ClientHelloOptions } from '../../hostile/helpers/hostile-client.js';
import type { ServerScript } from '../../hostile/helpers/hostile-server.js';

export const DHE_RSA_AES128_GCM = 0x009e;
export const ECDHE_ECDSA_AES128_GCM = 0xc02b;

/** Big-endian bytes of n, at least `len` long. */
export function be(n: bigint, len: number): Uint8Array {
  return i2osp(n, Math.max(len, Math.ceil(n.toString(2).length / 8)));
}

// ---------- a DHE server with chosen parameters (attacks the qtls client) ----------

export interface DhServerParams {
  p: bigint;
  g: bigint;
  /** The server's public value as sent; default g^x mod p for a fresh x. */
  ys?: Uint8Array;
}

/**
 * ClientHello in; ServerHello (DHE_RSA), Certificate (RSA identity), a signed ServerKeyExchange with
 * `params`, ServerHelloDone out. The script must have been created with the 'rsa' identity.
 */
export async function dheFirstFlight(s: ServerScript, params: DhServerParams): Promise<void> {
  await s.readClientHello();
  s.conn.hold();
  s.sendServerHello({ suite: DHE_RSA_AES128_GCM });
  s.sendCertificate();
  const pLen = Math.ceil(params.p.toString(2).length / 8);
  const ys = params.ys ?? generateDhKeyPair(params.p, params.g, 256).publicKey;
  const dhParams = new Writer().vec16(be(params.p, pLen)).vec16(be(params.g, 1)).vec16(ys).finish();
  const scheme = 0x0804; // rsa_pss_rsae_sha256, which the qtls client offers
  const sig = signData(schemeToAlgorithm(scheme)!, s.key, concat(s.ch.random, s.serverRandom, dhParams));
  s.conn.sendHandshake(HandshakeType.server_key_exchange, new Writer().bytes(dhParams).u16(scheme).vec16(sig).finish());
  s.sendServerHelloDone();
  s.conn.flush();
}

// ---------- a DHE client with a chosen dh_Yc (attacks the qtls server) ----------

export interface DhServerFlight {
  p: bigint;
  g: bigint;
  ys: Uint8Array;
}

/** ClientHello (DHE_RSA only, FFDHE groups offered), then the server's flight up to ServerHelloDone. */
export async function dheClientStart(port: number, hello: ClientHelloOptions = {}): Promise<{ client: HostileClient; server: DhServerFlight }> {
  const c = await HostileClient.connect(port);
  c.sendClientHello({ suites: [DHE_RSA_AES128_GCM], groups: [256, 257, 258], ...hello });
  c.sh = parseServerHello((await c.conn.readHandshake(HandshakeType.server_hello)).body);
  c.suite = suiteById(c.sh.cipherSuite)!;
  c.ems = c.offeredEms && c.sh.extensions.has(ExtensionType.extended_master_secret);
  c.conn.transcript.setHash(c.suite.prf);
  c.serverCertificates = parseCertificateMessage((await c.conn.readHandshake(HandshakeType.certificate)).body);
  const ske = await c.conn.readHandshake(HandshakeType.server_key_exchange);
  const r = new Reader(ske.body, 'ServerKeyExchange');
  const p = os2ip(r.vec16('dh_p'));
  const g = os2ip(r.vec16('dh_g'));
  const ys = r.vec16('dh_Ys').slice();
  await c.conn.readHandshake(HandshakeType.server_hello_done);
  return { client: c, server: { p, g, ys } };
}

/** A well-formed DHE ClientKeyExchange: fresh key, real premaster, keys installed. */
export function dheClientKeyExchange(c: HostileClient, server: DhServerFlight): void {
  const kp = generateDhKeyPair(server.p, server.g, 256);
  const premaster = dhSharedSecret(server.p, server.ys, kp.x);
  c.conn.sendHandshake(HandshakeType.client_key_exchange, new Writer().vec16(kp.publicKey).finish());
  c.master = computeMasterSecret(c.suite, premaster, c.clientRandom, c.sh.random, c.ems ? c.conn.transcript.hash() : undefined);
  c.keys = deriveConnectionKeys(c.suite, c.master, c.clientRandom, c.sh.random);
  c.conn.setReadKeys(c.keys.server);
}

// ---------- a client certificate with a chosen CertificateVerify (attacks the qtls server) ----------

/**
 * A full ECDHE_ECDSA handshake as a client authenticating with fixtures/pki/client-*: the server must
 * request a certificate. `signed` chooses the bytes the CertificateVerify signs, given the correct
 * ones (the transcript so far) and the messages sent and received, raw, in order.
 */
export async function clientAuthHandshake(port: number, signed: (correct: Uint8Array, messages: Uint8Array[]) => Uint8Array): Promise<HostileClient> {
  const c = await HostileClient.connect(port);
  const messages: Uint8Array[] = [];
  const read = async (type: number) => {
    const m = await c.conn.readHandshake(type);
    messages.push(m.raw);
    return m;
  };
  const send = (type: number, body: Uint8Array) => messages.push(c.conn.sendHandshake(type, body));
  const hello = c.sendClientHello({ suites: [ECDHE_ECDSA_AES128_GCM] });
  messages.push(concat(new Uint8Array([HandshakeType.client_hello, 0, hello.length >> 8, hello.length & 0xff]), hello));
  c.sh = parseServerHello((await read(HandshakeType.server_hello)).body);
  c.suite = suiteById(c.sh.cipherSuite)!;
  c.ems = c.offeredEms && c.sh.extensions.has(ExtensionType.extended_master_secret);
  c.conn.transcript.setHash(c.suite.prf);
  await read(HandshakeType.certificate);
  const ske = await read(HandshakeType.server_key_exchange);
  const r = new Reader(ske.body, 'ServerKeyExchange');
  r.u8('curve_type');
  c.group = r.u16('named_curve') as EcdhGroupCode;
  c.serverPublic = r.vec8('public').slice();
  await read(HandshakeType.certificate_request);
  await read(HandshakeType.server_hello_done);

  c.conn.hold();
  send(HandshakeType.certificate, encodeCertificateMessage(chainDer('client-chain.pem')));
  const kp = generateEcdhKeyPair(c.group);
  const premaster = ecdhSharedSecret(c.group, kp.privateKey, c.serverPublic);
  send(HandshakeType.client_key_exchange, new Writer().vec8(kp.publicKey).finish());
  c.master = computeMasterSecret(c.suite, premaster, c.clientRandom, c.sh.random, c.ems ? c.conn.transcript.hash() : undefined);
  c.keys = deriveConnectionKeys(c.suite, c.master, c.clientRandom, c.sh.random);
  c.conn.setReadKeys(c.keys.server);
  const toSign = signed(c.conn.transcript.bytes(), [...messages]);
  const sig = signData(schemeToAlgorithm(0x0403)!, privateKey('client-key.pem'), toSign);
  send(HandshakeType.certificate_verify, writeDigitallySigned(new Writer(), { scheme: 0x0403, signature: sig }).finish());
  c.sendChangeCipherSpec();
  c.sendFinished();
  c.conn.flush();
  return c;
}
