// A scriptable TLS 1.2 client for attacking a qtls server: it can complete a real ECDHE handshake
// (using the stack's key schedule and record protection) and stop or deviate at any step.
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { EcdhGroup, ecdhSharedSecret, generateEcdhKeyPair, type EcdhGroupCode } from '../../../lib/crypto/ecdh.js';
import { timingSafeEqual } from '../../../lib/crypto/ct.js';
import { randomBytes } from '../../../lib/crypto/random.js';
import { EMPTY_RENEGOTIATION_INFO, ExtensionType, encodeServerName, encodeU16List } from '../../../lib/handshake/extensions.js';
import { HandshakeType } from '../../../lib/handshake/handshake-type.js';
import { computeMasterSecret, deriveConnectionKeys, verifyData, type ConnectionKeys } from '../../../lib/handshake/key-schedule.js';
import { encodeClientHello } from '../../../lib/handshake/messages/client-hello.js';
import { encodeCertificateMessage, parseCertificateMessage } from '../../../lib/handshake/messages/certificate.js';
import type { PrivateKey } from '../../../lib/crypto/keys.js';
import { schemeToAlgorithm, signData } from '../../../lib/crypto/signature.js';
import { parseFinished } from '../../../lib/handshake/messages/finished.js';
import { parseServerHello, type ServerHello } from '../../../lib/handshake/messages/server-hello.js';
import { frameHandshake } from '../../../lib/handshake/reassembler.js';
import { ContentType } from '../../../lib/record/content-type.js';
import { suiteById, type CipherSuite } from '../../../lib/suites.js';
import { utf8 } from '../../../lib/wire/bytes.js';
import { Reader } from '../../../lib/wire/reader.js';
import { Writer } from '../../../lib/wire/writer.js';
import { within } from './guard.js';
import { RawConn, rawRecord } from './raw-conn.js';

export type ExtensionList = Array<[number, Uint8Array]>;

export interface ClientHelloOptions {
  version?: number;
  random?: Uint8Array;
  sessionId?: Uint8Array;
  suites?: number[];
  compression?: number[];
  groups?: number[];
  servername?: string | null;
  /** Replace or edit the default extension list. */
  extensions?: ExtensionList | ((defaults: ExtensionList) => ExtensionList);
  /** Raw bytes appended after the extensions block (overlong message). */
  trailing?: Uint8Array;
}

export const SUITE = {
  ECDHE_ECDSA_AES128_GCM: 0xc02b,
  ECDHE_ECDSA_CHACHA20: 0xcca9,
  ECDHE_RSA_AES128_GCM: 0xc02f,
  ECDHE_RSA_AES256_GCM: 0xc030,
} as const;

export function defaultClientExtensions(o: ClientHelloOptions = {}): ExtensionList {
  const exts: ExtensionList = [];
  const sni = o.servername === undefined ? 'localhost' : o.servername;
  if (sni) exts.push([ExtensionType.server_name, encodeServerName(sni)]);
  exts.push([ExtensionType.extended_master_secret, new Uint8Array(0)]);
  exts.push([ExtensionType.renegotiation_info, EMPTY_RENEGOTIATION_INFO]);
  exts.push([ExtensionType.supported_groups, encodeU16List(o.groups ?? [EcdhGroup.x25519, EcdhGroup.secp256r1, EcdhGroup.secp384r1])]);
  exts.push([ExtensionType.ec_point_formats, new Uint8Array([1, 0])]);
  exts.push([ExtensionType.signature_algorithms, encodeU16List([0x0403, 0x0804, 0x0401])]);
  return exts;
}

/** The body of a ClientHello (without the handshake header). */
export function clientHelloBody(o: ClientHelloOptions = {}): Uint8Array {
  const defaults = defaultClientExtensions(o);
  const exts = typeof o.extensions === 'function' ? o.extensions(defaults) : o.extensions ?? defaults;
  const body = encodeClientHello({
    version: o.version ?? 0x0303,
    random: o.random ?? randomBytes(32),
    sessionId: o.sessionId ?? new Uint8Array(0),
    cipherSuites: o.suites ?? [SUITE.ECDHE_ECDSA_AES128_GCM, SUITE.ECDHE_RSA_AES128_GCM, SUITE.ECDHE_ECDSA_CHACHA20],
    compressionMethods: o.compression ?? [0],
    extensions: exts,
  });
  if (!o.trailing) return body;
  const out = new Uint8Array(body.length + o.trailing.length);
  out.set(body);
  out.set(o.trailing, body.length);
  return out;
}

/** A ClientHello as a complete plaintext record (record version 3.1, as browsers send). */
export function clientHelloRecord(o: ClientHelloOptions = {}): Uint8Array {
  return rawRecord(ContentType.handshake, frameHandshake(HandshakeType.client_hello, clientHelloBody(o)), 0x0301);
}

export function connectRaw(port: number): Promise<RawConn> {
  return within(
    new Promise<RawConn>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port });
      s.setNoDelay(true);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    }),
    3000,
    'TCP connect',
  );
}

export class HostileClient {
  clientRandom = randomBytes(32);
  offeredEms = true;
  sh!: ServerHello;
  suite!: CipherSuite;
  ems = false;
  serverCertificates: Uint8Array[] = [];
  /** The server sent a CertificateRequest. */
  certificateRequested = false;
  group!: EcdhGroupCode;
  serverPublic!: Uint8Array;
  master!: Uint8Array;
  keys!: ConnectionKeys;

  constructor(readonly conn: RawConn) {}

  static async connect(port: number): Promise<HostileClient> {
    return new HostileClient(await connectRaw(port));
  }
  static over(transport: Duplex): HostileClient {
    return new HostileClient(new RawConn(transport));
  }

  sendClientHello(o: ClientHelloOptions = {}): Uint8Array {
    const body = clientHelloBody({ ...o, random: o.random ?? this.clientRandom });
    this.clientRandom = body.subarray(2, 34).slice();
    const exts = typeof o.extensions === 'function' ? o.extensions(defaultClientExtensions(o)) : o.extensions ?? defaultClientExtensions(o);
    this.offeredEms = exts.some(([t]) => t === ExtensionType.extended_master_secret);
    this.conn.records.writeVersion = 0x0301;
    this.conn.sendHandshake(HandshakeType.client_hello, body);
    this.conn.records.writeVersion = 0x0303;
    return body;
  }

  /** ServerHello, Certificate, ServerKeyExchange, ServerHelloDone. */
  async readServerFlight(): Promise<void> {
    await this.readServerHello();
    await this.readServerFlightRest();
  }

  async readServerHello(): Promise<ServerHello> {
    this.sh = parseServerHello((await this.conn.readHandshake(HandshakeType.server_hello)).body);
    const suite = suiteById(this.sh.cipherSuite);
    if (!suite) throw new Error(`server chose unknown suite ${this.sh.cipherSuite}`);
    this.suite = suite;
    this.ems = this.offeredEms && this.sh.extensions.has(ExtensionType.extended_master_secret);
    this.conn.transcript.setHash(suite.prf);
    return this.sh;
  }

  /** Certificate, ServerKeyExchange, ServerHelloDone (after readServerHello). */
  async readServerFlightRest(): Promise<void> {
    this.serverCertificates = parseCertificateMessage((await this.conn.readHandshake(HandshakeType.certificate)).body);
    const ske = await this.conn.readHandshake(HandshakeType.server_key_exchange);
    const r = new Reader(ske.body, 'ServerKeyExchange');
    r.u8('curve_type');
    this.group = r.u16('named_curve') as EcdhGroupCode;
    this.serverPublic = r.vec8('public');
    const next = await this.conn.readHandshake(HandshakeType.certificate_request, HandshakeType.server_hello_done);
    this.certificateRequested = next.type === HandshakeType.certificate_request;
    if (this.certificateRequested) await this.conn.readHandshake(HandshakeType.server_hello_done);
  }

  /**
   * ClientKeyExchange with a fresh key on the server's group, then the master secret and keys. With
   * `publicKey` or `body` the message is the test's, and the secrets are garbage.
   */
  sendClientKeyExchange(o: { publicKey?: Uint8Array; body?: Uint8Array } = {}): void {
    let premaster: Uint8Array;
    let body: Uint8Array;
    if (o.publicKey || o.body) {
      premaster = randomBytes(32);
      body = o.body ?? new Writer().vec8(o.publicKey!).finish();
    } else {
      const kp = generateEcdhKeyPair(this.group);
      premaster = ecdhSharedSecret(this.group, kp.privateKey, this.serverPublic);
      body = new Writer().vec8(kp.publicKey).finish();
    }
    this.conn.sendHandshake(HandshakeType.client_key_exchange, body);
    this.master = computeMasterSecret(this.suite, premaster, this.clientRandom, this.sh.random, this.ems ? this.conn.transcript.hash() : undefined);
    this.keys = deriveConnectionKeys(this.suite, this.master, this.clientRandom, this.sh.random);
    this.conn.setReadKeys(this.keys.server);
  }

  sendChangeCipherSpec(): void {
    this.conn.sendChangeCipherSpec(this.keys.client);
  }

  /** Our Certificate (RFC 5246 §7.4.6), in answer to a CertificateRequest. */
  sendCertificate(chain: Uint8Array[]): void {
    this.conn.sendHandshake(HandshakeType.certificate, encodeCertificateMessage(chain));
  }

  /** CertificateVerify (§7.4.8) over the transcript so far, signed with `key` under `scheme`. */
  sendCertificateVerify(o: { key: PrivateKey; scheme: number; tamper?: (sig: Uint8Array) => Uint8Array }): void {
    let sig = signData(schemeToAlgorithm(o.scheme)!, o.key, this.conn.transcript.bytes());
    if (o.tamper) sig = o.tamper(sig.slice());
    this.conn.sendHandshake(HandshakeType.certificate_verify, new Writer().u16(o.scheme).vec16(sig).finish());
  }

  /** Our Finished; `tamper` edits verify_data (the transcript still records what was sent). */
  sendFinished(o: { tamper?: (v: Uint8Array) => Uint8Array } = {}): Uint8Array {
    let v = verifyData(this.suite, this.master, 'client', this.conn.transcript.hash());
    if (o.tamper) v = o.tamper(v.slice());
    this.conn.sendHandshake(HandshakeType.finished, v);
    return v;
  }

  /** The ticket the server issued (RFC 5077), if it announced one in its ServerHello. */
  ticket: Uint8Array | undefined;

  async readServerFinished(): Promise<void> {
    if (this.sh.extensions.has(ExtensionType.session_ticket)) {
      const nst = new Reader((await this.conn.readHandshake(HandshakeType.new_session_ticket)).body, 'NewSessionTicket');
      nst.u32('lifetime');
      this.ticket = nst.vec16('ticket').slice();
    }
    await this.conn.expectChangeCipherSpec();
    const expected = verifyData(this.suite, this.master, 'server', this.conn.transcript.hash());
    const got = parseFinished((await this.conn.readHandshake(HandshakeType.finished)).body);
    if (!timingSafeEqual(expected, got)) throw new Error('hostile client: server Finished does not verify');
  }

  /** A complete, correct handshake. */
  async handshake(o: ClientHelloOptions = {}): Promise<void> {
    this.sendClientHello(o);
    await this.readServerFlight();
    this.sendClientKeyExchange();
    this.sendChangeCipherSpec();
    this.sendFinished();
    await this.readServerFinished();
  }

  /**
   * Offer `ticket` (RFC 5077 §3.4, with a fresh session ID) and, if the server resumes, run the
   * abbreviated handshake with `master`: the server's [NewSessionTicket], CCS, Finished, then ours
   * (`tamper` may edit our verify_data). Returns 'full' when the server declined (ServerHello read;
   * continue with readServerFlightRest()).
   */
  async resume(o: { ticket: Uint8Array; master: Uint8Array; hello?: ClientHelloOptions; tamper?: (v: Uint8Array) => Uint8Array }): Promise<'resumed' | 'full'> {
    const sessionId = randomBytes(32);
    const edit = o.hello?.extensions;
    this.sendClientHello({
      ...o.hello,
      sessionId,
      extensions: (d) => {
        const base = typeof edit === 'function' ? edit(d) : edit ?? d;
        return [...base.filter(([t]) => t !== ExtensionType.session_ticket), [ExtensionType.session_ticket, o.ticket]];
      },
    });
    await this.readServerHello();
    if (!timingSafeEqual(this.sh.sessionId, sessionId)) return 'full';
    this.master = o.master;
    this.keys = deriveConnectionKeys(this.suite, this.master, this.clientRandom, this.sh.random);
    this.conn.setReadKeys(this.keys.server);
    await this.readServerFinished();
    this.sendChangeCipherSpec();
    this.sendFinished({ tamper: o.tamper });
    return 'resumed';
  }

  sendApplicationData(data: string | Uint8Array): void {
    this.conn.sendApplicationData(typeof data === 'string' ? utf8(data) : data);
  }
}
