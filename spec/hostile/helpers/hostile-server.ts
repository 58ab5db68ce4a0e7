// A scriptable TLS 1.2 server for attacking a qtls client: it completes a real ECDHE handshake with
// the fixture certificates (signing ServerKeyExchange with the stack's signature code) and can stop,
// reorder, re-sign or corrupt any message on the way.
import { createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EcdhGroup, ecdhSharedSecret, generateEcdhKeyPair, isEcdhGroup, type EcdhGroupCode, type EcdhKeyPair } from '../../../lib/crypto/ecdh.js';
import { timingSafeEqual } from '../../../lib/crypto/ct.js';
import type { PrivateKey } from '../../../lib/crypto/keys.js';
import { randomBytes } from '../../../lib/crypto/random.js';
import { schemeToAlgorithm, signData } from '../../../lib/crypto/signature.js';
import { EMPTY_RENEGOTIATION_INFO, ExtensionType, parseU16List } from '../../../lib/handshake/extensions.js';
import { HandshakeType } from '../../../lib/handshake/handshake-type.js';
import { computeMasterSecret, deriveConnectionKeys, verifyData, type ConnectionKeys } from '../../../lib/handshake/key-schedule.js';
import { encodeCertificateMessage } from '../../../lib/handshake/messages/certificate.js';
import { parseClientHello, type ClientHello } from '../../../lib/handshake/messages/client-hello.js';
import { parseFinished } from '../../../lib/handshake/messages/finished.js';
import { encodeServerHello } from '../../../lib/handshake/messages/server-hello.js';
import { suiteById, type CipherSuite } from '../../../lib/suites.js';
import { concat, utf8 } from '../../../lib/wire/bytes.js';
import { Reader } from '../../../lib/wire/reader.js';
import { Writer } from '../../../lib/wire/writer.js';
import { IDENTITIES, chainDer, privateKey, type IdentityName } from './fixtures.js';
import { deferred, within } from './guard.js';
import { RawConn } from './raw-conn.js';
import type { ExtensionList } from './hostile-client.js';

/** A TCP listener handing each accepted connection to the test as a ServerScript. */
export class HostileServer {
  private readonly queue: Socket[] = [];
  private waiter: ((s: Socket) => void) | undefined;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly net: NetServer, readonly port: number) {}

  static async listen(): Promise<HostileServer> {
    let self: HostileServer | undefined;
    const pending: Socket[] = [];
    const net = netCreateServer((s) => {
      s.setNoDelay(true);
      if (self) self.accept(s);
      else pending.push(s);
    });
    await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
    self = new HostileServer(net, (net.address() as AddressInfo).port);
    for (const s of pending) self.accept(s);
    return self;
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(s);
    } else this.queue.push(s);
  }

  /** The next accepted connection, wrapped for scripting. */
  async next(identity: IdentityName = 'ecdsa'): Promise<ServerScript> {
    const s =
      this.queue.shift() ??
      (await within(new Promise<Socket>((r) => (this.waiter = r)), 3000, 'the qtls client to connect to the hostile server'));
    return new ServerScript(new RawConn(s), identity);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.net.close(() => r()));
  }
}

export interface ServerHelloOptions {
  version?: number;
  suite?: number;
  sessionId?: Uint8Array;
  random?: Uint8Array;
  extensions?: ExtensionList | ((defaults: ExtensionList) => ExtensionList);
}

export interface ServerKeyExchangeOptions {
  group?: number;
  /** Our ECDH public key as sent (the private key then no longer matches). */
  publicKey?: Uint8Array;
  /** Sign with this key instead of the certificate's. */
  signWith?: PrivateKey;
  scheme?: number;
  /** Edit the signature after signing. */
  tamperSignature?: (sig: Uint8Array) => Uint8Array;
  /** Edit the params before signing (the signature covers the edited bytes). */
  editParams?: (params: Uint8Array) => Uint8Array;
  /** Edit the signed params after signing (the signature then covers other bytes). */
  tamperParams?: (params: Uint8Array) => Uint8Array;
}

export class ServerScript {
  ch!: ClientHello;
  chain: Uint8Array[];
  key: PrivateKey;
  serverRandom = randomBytes(32);
  suite!: CipherSuite;
  group!: EcdhGroupCode;
  ecdh!: EcdhKeyPair;
  ems = false;
  master!: Uint8Array;
  keys!: ConnectionKeys;

  constructor(readonly conn: RawConn, identity: IdentityName = 'ecdsa') {
    this.chain = chainDer(IDENTITIES[identity].chain);
    this.key = privateKey(IDENTITIES[identity].key);
  }

  static over(transport: Duplex, identity: IdentityName = 'ecdsa'): ServerScript {
    return new ServerScript(new RawConn(transport), identity);
  }

  async readClientHello(): Promise<ClientHello> {
    this.ch = parseClientHello((await this.conn.readHandshake(HandshakeType.client_hello)).body);
    return this.ch;
  }

  /** The ServerHello body a correct server would send (the test may edit it before framing). */
  serverHelloBody(o: ServerHelloOptions = {}): Uint8Array {
    const wantEcdsa = this.key.type !== 'rsa';
    const suiteId = o.suite ?? this.ch.cipherSuites.find((id) => suiteById(id)?.kx === 'ECDHE' && (suiteById(id)?.auth === 'ECDSA') === wantEcdsa);
    if (suiteId === undefined) throw new Error('hostile server: no usable suite in the ClientHello');
    const suite = suiteById(suiteId);
    if (suite) this.suite = suite;
    this.ems = this.ch.extensions.has(ExtensionType.extended_master_secret);
    const defaults: ExtensionList = [];
    if (this.ch.extensions.has(ExtensionType.renegotiation_info)) defaults.push([ExtensionType.renegotiation_info, EMPTY_RENEGOTIATION_INFO]);
    if (this.ems) defaults.push([ExtensionType.extended_master_secret, new Uint8Array(0)]);
    if (this.ch.extensions.has(ExtensionType.ec_point_formats)) defaults.push([ExtensionType.ec_point_formats, new Uint8Array([1, 0])]);
    const exts = typeof o.extensions === 'function' ? o.extensions(defaults) : o.extensions ?? defaults;
    this.ems = exts.some(([t]) => t === ExtensionType.extended_master_secret);
    if (o.random) this.serverRandom = o.random;
    return encodeServerHello({ version: o.version ?? 0x0303, random: this.serverRandom, sessionId: o.sessionId ?? randomBytes(32), cipherSuite: suiteId, extensions: exts });
  }

  sendServerHello(o: ServerHelloOptions = {}): void {
    this.conn.sendHandshake(HandshakeType.server_hello, this.serverHelloBody(o));
    if (this.suite) this.conn.transcript.setHash(this.suite.prf);
  }

  sendCertificate(chain: Uint8Array[] = this.chain): void {
    this.conn.sendHandshake(HandshakeType.certificate, encodeCertificateMessage(chain));
  }

  /** The client's preferred group we support (its first offer). */
  private pickGroup(): EcdhGroupCode {
    const ext = this.ch.extensions.get(ExtensionType.supported_groups);
    const offered = ext ? parseU16List(ext, 'supported_groups') : [EcdhGroup.secp256r1];
    const g = offered.find(isEcdhGroup);
    if (g === undefined) throw new Error('hostile server: no ECDH group offered');
    return g;
  }

  serverKeyExchangeBody(o: ServerKeyExchangeOptions = {}): Uint8Array {
    this.group = (o.group ?? this.pickGroup()) as EcdhGroupCode;
    this.ecdh = generateEcdhKeyPair(isEcdhGroup(this.group) ? this.group : EcdhGroup.x25519);
    let params = new Writer().u8(3).u16(this.group).vec8(o.publicKey ?? this.ecdh.publicKey).finish();
    if (o.editParams) params = o.editParams(params);
    const scheme = o.scheme ?? (this.key.type === 'rsa' ? 0x0804 : this.key.type === 'ed25519' ? 0x0807 : 0x0403);
    const signer = o.signWith ?? this.key;
    let sig = signData(schemeToAlgorithm(scheme)!, signer, concat(this.ch.random, this.serverRandom, params));
    if (o.tamperSignature) sig = o.tamperSignature(sig.slice());
    if (o.tamperParams) params = o.tamperParams(params.slice());
    return new Writer().bytes(params).u16(scheme).vec16(sig).finish();
  }

  /** A ServerKeyExchange body for any params (DHE, ...): params || signature over randoms + params. */
  signedParams(params: Uint8Array, o: Pick<ServerKeyExchangeOptions, 'scheme' | 'signWith'> = {}): Uint8Array {
    const scheme = o.scheme ?? (this.key.type === 'rsa' ? 0x0804 : this.key.type === 'ed25519' ? 0x0807 : 0x0403);
    const sig = signData(schemeToAlgorithm(scheme)!, o.signWith ?? this.key, concat(this.ch.random, this.serverRandom, params));
    return new Writer().bytes(params).u16(scheme).vec16(sig).finish();
  }

  sendServerKeyExchange(o: ServerKeyExchangeOptions = {}): void {
    this.conn.sendHandshake(HandshakeType.server_key_exchange, this.serverKeyExchangeBody(o));
  }

  sendServerHelloDone(): void {
    this.conn.sendHandshake(HandshakeType.server_hello_done, new Uint8Array(0));
  }

  /** ClientHello in, ServerHello..ServerHelloDone out (in one TCP write). */
  async firstFlight(o: { hello?: ServerHelloOptions; ske?: ServerKeyExchangeOptions } = {}): Promise<void> {
    await this.readClientHello();
    this.conn.hold();
    this.sendServerHello(o.hello);
    this.sendCertificate();
    this.sendServerKeyExchange(o.ske);
    this.sendServerHelloDone();
    this.conn.flush();
  }

  /** ClientKeyExchange, ChangeCipherSpec, Finished from the client, all verified. */
  async readClientFlight(): Promise<void> {
    const cke = await this.conn.readHandshake(HandshakeType.client_key_exchange);
    const r = new Reader(cke.body, 'ClientKeyExchange');
    const pub = r.vec8('ecdh_Yc', 1);
    r.end();
    const premaster = ecdhSharedSecret(this.group, this.ecdh.privateKey, pub);
    this.master = computeMasterSecret(this.suite, premaster, this.ch.random, this.serverRandom, this.ems ? this.conn.transcript.hash() : undefined);
    this.keys = deriveConnectionKeys(this.suite, this.master, this.ch.random, this.serverRandom);
    this.conn.setReadKeys(this.keys.client);
    await this.conn.expectChangeCipherSpec();
    const expected = verifyData(this.suite, this.master, 'client', this.conn.transcript.hash());
    const got = parseFinished((await this.conn.readHandshake(HandshakeType.finished)).body);
    if (!timingSafeEqual(expected, got)) throw new Error('hostile server: client Finished does not verify');
  }

  sendChangeCipherSpec(): void {
    this.conn.sendChangeCipherSpec(this.keys.server);
  }

  sendFinished(o: { tamper?: (v: Uint8Array) => Uint8Array } = {}): Uint8Array {
    let v = verifyData(this.suite, this.master, 'server', this.conn.transcript.hash());
    if (o.tamper) v = o.tamper(v.slice());
    this.conn.sendHandshake(HandshakeType.finished, v);
    return v;
  }

  /** A complete, correct handshake. */
  async handshake(): Promise<void> {
    await this.firstFlight();
    await this.readClientFlight();
    this.conn.hold();
    this.sendChangeCipherSpec();
    this.sendFinished();
    this.conn.flush();
  }

  /**
   * Claim resumption (RFC 5246 §7.3 Figure 2): echo the client's session ID and send CCS + Finished
   * keyed by `master`. `finishedTamper` edits our verify_data; `hello` edits the ServerHello.
   */
  async resumeFlight(o: { master: Uint8Array; hello?: ServerHelloOptions; finishedTamper?: (v: Uint8Array) => Uint8Array }): Promise<void> {
    await this.readClientHello();
    this.conn.hold();
    this.sendServerHello({ sessionId: this.ch.sessionId, ...o.hello });
    this.master = o.master;
    this.keys = deriveConnectionKeys(this.suite, this.master, this.ch.random, this.serverRandom);
    this.conn.setReadKeys(this.keys.client);
    this.sendChangeCipherSpec();
    this.sendFinished({ tamper: o.finishedTamper });
    this.conn.flush();
  }

  sendApplicationData(data: string | Uint8Array): void {
    this.conn.sendApplicationData(typeof data === 'string' ? utf8(data) : data);
  }
}

export { deferred };
