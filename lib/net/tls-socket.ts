// TLSSocket: a stream.Duplex of plaintext over a transport Duplex of TLS records (node:tls-shaped).
import { X509Certificate } from 'node:crypto';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { TLSError } from '../alert.js';
import { writeKeylogFile } from '../debug/keylog.js';
import { clientHandshake, type ClientConfig } from '../handshake/client.js';
import { Engine, type TraceEvent } from '../handshake/engine.js';
import { HandshakeType } from '../handshake/handshake-type.js';
import { serverHandshake, type ServerConfig } from '../handshake/server.js';
import type { HandshakeResult } from '../handshake/session.js';
import { toPeerCertificate } from '../pki/peer-certificate.js';
import { AlertDescription, AlertLevel } from '../alert.js';
import { encodeSessionState, nowSeconds, type SessionState } from '../handshake/session-state.js';
import { prf } from '../crypto/prf.js';
import { traceWriter } from '../debug/trace.js';
import type { CertifiedKey } from '../handshake/config.js';
import type { Certificate } from '../pki/x509.js';
import { couldIssue } from '../pki/chain.js';
import { MAX_PLAINTEXT } from '../record/content-type.js';
import { nodeSigalgName } from './sigalg-names.js';
import { validateInt32 } from './validate.js';

/** How long a transport may linger, discarding input, after we sent a fatal alert. */
const LINGER_AFTER_ALERT_MS = 1000;

/** Clients keep a session at most this long whatever the server's hint says (RFC 5077 §5.6 spirit). */
const MAX_CLIENT_SESSION_LIFETIME = 7 * 24 * 3600;

function clientSessionState(r: HandshakeResult): SessionState {
  const hint = r.ticket?.lifetimeHint ?? 0;
  return {
    suiteId: r.suite.id, extendedMasterSecret: r.extendedMasterSecret, masterSecret: r.masterSecret, created: nowSeconds(),
    lifetime: hint > 0 ? Math.min(hint, MAX_CLIENT_SESSION_LIFETIME) : 300,
    peerCertificates: r.peerCertificates.map((c) => c.der), servername: r.servername ?? '', alpn: r.alpnProtocol || '',
    pskIdentity: typeof r.kxInfo.pskIdentity === 'string' ? r.kxInfo.pskIdentity : '',
    sessionId: r.sessionId, ticket: r.ticket?.ticket ?? new Uint8Array(0),
  };
}

/**
 * The issuers node's getPeerCertificate(true) links to a leaf (GetPeerCert): from the other certificates
 * the peer sent, each time the one that issued the last (X509_check_issued), then from `store` (node:
 * its context's certificate store, SSL_CTX_get_issuer) until a self-issued certificate or none is found.
 */
function nodeIssuerChain(leaf: Certificate, sent: Certificate[], store: () => Certificate[]): Certificate[] {
  const rest = [...sent];
  const out: Certificate[] = [];
  let last = leaf;
  for (let i = rest.findIndex((c) => couldIssue(c, last)); i >= 0; i = rest.findIndex((c) => couldIssue(c, last))) {
    last = rest.splice(i, 1)[0]!;
    out.push(last);
  }
  while (!last.selfIssued) {
    const ca = store().find((a) => couldIssue(a, last));
    if (!ca || out.includes(ca)) break;
    out.push(ca);
    last = ca;
  }
  return out;
}

export type HandshakeRunner =
  | { role: 'client'; config: (signal: AbortSignal, onKeylog: (l: string) => void) => ClientConfig }
  | { role: 'server'; config: (signal: AbortSignal, onKeylog: (l: string) => void) => ServerConfig };

export class TLSSocket extends Duplex {
  readonly encrypted = true;
  /** The transport (usually a net.Socket). */
  readonly socket: Duplex;
  authorized = false;
  /** As node:tls: the verification error's code (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID…). */
  authorizationError: string | undefined;
  /** The verification error itself, with its message. */
  authorizationErrorDetails: Error | undefined;
  alpnProtocol: string | false | null = null;
  servername: string | false | undefined;
  /** Set once the handshake completed. */
  session: HandshakeResult | undefined;

  private readonly engine: Engine;
  private readonly abort = new AbortController();
  private readonly role: 'client' | 'server';
  private secure = false;
  private readonly pendingWrites: Array<{ chunk: Uint8Array; cb: (e?: Error | null) => void }> = [];
  private pendingError: Error | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private transportEnded = false;
  private clientSession: Buffer | undefined;
  private remote: { address: string | undefined; port: number | undefined } | undefined;
  private forwardsTimeout = false;
  /** The first certificate of our configuration (getCertificate() when we sent none). */
  private configuredCertificate: Certificate | undefined;
  /** Server: the trust anchors of its own context (see getPeerCertificate). */
  private issuerStore: (() => Certificate[]) | undefined;

  constructor(transport: Duplex, runner: HandshakeRunner, opts: { handshakeTimeout?: number; trace?: (e: TraceEvent) => void } = {}) {
    super({ allowHalfOpen: false });
    this.socket = transport;
    this.role = runner.role;
    const sock = transport as Partial<Socket>;
    // Without TCP_NODELAY a flight can stall ~40 ms on Nagle + delayed ACK.
    sock.setNoDelay?.(true);
    // A destroyed net.Socket forgets its peer; remember it so error reports can still name it.
    const remember = () => {
      if (sock.remoteAddress) this.remote = { address: sock.remoteAddress, port: sock.remotePort };
    };
    remember();
    transport.once('connect', remember);

    // During the handshake a flight goes out in one transport write: the writes of one flight are
    // corked until the next tick. A peer that fails on an early message of a flight (an empty client
    // Certificate, say) then has the whole flight read when it closes, so its kernel sends FIN, not an
    // RST that would make us lose its alert (we used to report EPIPE instead of handshake_failure).
    let corked = false;
    const uncork = () => {
      corked = false;
      if (!transport.destroyed) transport.uncork();
    };
    this.engine = new Engine({
      write: (bytes) => {
        if (transport.destroyed || transport.writableEnded) return;
        if (!this.secure && !corked) {
          corked = true;
          transport.cork();
          process.nextTick(uncork);
        }
        transport.write(bytes);
      },
      onApplicationData: (data) => {
        if (!this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) (transport as Socket).pause?.();
      },
      onCloseNotify: () => {
        this.push(null);
      },
      onFatal: (err) => this.fatal(err),
      onWarning: () => {},
      onPostHandshake: (msg) => this.postHandshake(msg.type),
      trace: opts.trace,
    }, this.role);

    transport.on('data', (chunk: Buffer) => this.engine.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    transport.on('end', () => this.transportEnd());
    transport.on('error', (err: Error) => this.transportError(err));
    transport.on('close', () => {
      if (!this.secure && !this.destroyed) this.transportEnd();
    });

    if (opts.handshakeTimeout && opts.handshakeTimeout > 0) {
      this.handshakeTimer = setTimeout(() => {
        const e = Object.assign(new Error(`TLS handshake timeout after ${opts.handshakeTimeout} ms`), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
        this.destroy(e);
      }, opts.handshakeTimeout);
      this.handshakeTimer.unref?.();
    }

    const onKeylog = (line: string) => {
      writeKeylogFile(line);
      this.emit('keylog', Buffer.from(line));
    };
    // Start on the next tick so callers can attach listeners first.
    process.nextTick(() => this.runHandshake(runner, onKeylog));
  }

  private async runHandshake(runner: HandshakeRunner, onKeylog: (l: string) => void): Promise<void> {
    try {
      const result =
        runner.role === 'client'
          ? await clientHandshake(this.engine, this.noteConfig({ ...runner.config(this.abort.signal, onKeylog), socket: this, onOCSPResponse: (r) => this.emitOCSPResponse(r) }))
          : await serverHandshake(this.engine, this.noteServerConfig(this.noteConfig({ ...runner.config(this.abort.signal, onKeylog), socket: this })));
      if (this.engine.error || this.destroyed) return;
      clearTimeout(this.handshakeTimer);
      this.session = result;
      this.authorized = result.authorized;
      const ae = result.authorizationError as (Error & { code?: string }) | undefined;
      this.authorizationError = ae ? (ae.code ?? ae.message) : undefined;
      this.authorizationErrorDetails = ae;
      this.alpnProtocol = result.alpnProtocol;
      this.servername = result.servername ?? false;
      this.secure = true;
      this.engine.handshakeComplete = true;
      for (const w of this.pendingWrites.splice(0)) this.writeNow(w.chunk, w.cb);
      this.emit(this.role === 'client' ? 'secureConnect' : 'secure');
      if (this.role === 'client' && (!result.resumed || result.ticket)) {
        this.clientSession = Buffer.from(encodeSessionState(clientSessionState(result)));
        this.emit('session', this.clientSession);
      }
      // Only now read what the peer sent behind its Finished, so 'data' follows 'secureConnect'.
      this.engine.complete();
    } catch (err) {
      // Errors from the engine are already recorded; others (config errors, bugs) become fatal here.
      this.engine.fail(err);
    }
  }

  /** node's 'OCSPResponse' (client, requestOCSP): the stapled DER response as a Buffer, or null. */
  private emitOCSPResponse(response: Uint8Array | null): void {
    this.emit('OCSPResponse', response ? Buffer.from(response) : null);
  }

  private noteConfig<T extends { certificates: CertifiedKey[] }>(cfg: T): T {
    this.configuredCertificate = cfg.certificates[0]?.leaf;
    return cfg;
  }

  /** The server's own trust store, where node looks up the issuers getPeerCertificate(true) shows. */
  private noteServerConfig(cfg: ServerConfig): ServerConfig {
    this.issuerStore = cfg.trustAnchors;
    return cfg;
  }

  private postHandshake(type: number): void {
    // RFC 5746 §4.2 / §4.4: we never renegotiate; refuse politely with a warning (§7.2.2).
    if ((this.role === 'client' && type === HandshakeType.hello_request) || (this.role === 'server' && type === HandshakeType.client_hello)) {
      this.engine.sendAlert(AlertLevel.warning, AlertDescription.no_renegotiation);
      return;
    }
    throw new TLSError('unexpected_message', `unexpected handshake message type ${type} after the handshake`);
  }

  private fatal(err: TLSError): void {
    clearTimeout(this.handshakeTimer);
    this.abort.abort(err);
    // Let the alert reach the wire, then close the transport.
    if (!this.socket.destroyed) this.socket.end();
    for (const w of this.pendingWrites.splice(0)) w.cb(err);
    if (this.readableLength > 0 && this.secure) {
      // Keep application data already received readable; fail once it has been consumed.
      this.pendingError = err;
      return;
    }
    this.destroy(err);
  }

  private transportEnd(): void {
    if (this.transportEnded) return;
    this.transportEnded = true;
    if (this.engine.error || this.destroyed) return;
    if (!this.secure) {
      // No alert was received: the transport just ended (node:tls reports this as ECONNRESET).
      this.engine.fail(new TLSError('close_notify', 'Client network socket disconnected before secure TLS connection was established', 'remote', { code: 'ECONNRESET' }));
      return;
    }
    // EOF without close_notify after the handshake: as node:tls, treat as end of stream.
    if (!this.engine.peerClosed) this.push(null);
  }

  private transportError(err: Error): void {
    if (this.destroyed) return;
    this.abort.abort(err);
    if (this.engine.peerClosed) {
      // The peer already closed cleanly (close_notify) and then dropped the TCP connection, so sending
      // our own close_notify hit EPIPE/ECONNRESET. The connection ended well: no error, and the data
      // received before the close_notify is still delivered before 'close'.
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
      return;
    }
    this.destroy(err);
  }

  // ---------- Duplex ----------

  override _read(): void {
    (this.socket as Socket).resume?.();
    this.raisePendingError();
  }

  // A fatal error behind buffered data waits until the data is consumed. _read() alone can't tell us:
  // a Readable calls it once and not again until something is pushed, which never happens after the
  // error, so a paused reader draining the buffer with read() would wait forever for the 'error'.
  override read(size?: number): any {
    const chunk = super.read(size);
    this.raisePendingError();
    return chunk;
  }

  private raisePendingError(): void {
    const e = this.pendingError;
    if (!e || this.readableLength > 0) return;
    this.pendingError = undefined;
    process.nextTick(() => {
      if (!this.destroyed) this.destroy(e);
    });
  }

  /**
   * After a fatal alert every later write fails with that same TLSError (node's streams would report a
   * generic ERR_STREAM_DESTROYED, hiding why the connection died).
   */
  override write(chunk: unknown, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    const err = this.engine.error;
    if (err && err.alert !== 'close_notify' && this.destroyed) {
      const callback = typeof encoding === 'function' ? encoding : cb;
      process.nextTick(() => callback?.(err));
      return false;
    }
    return typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding as BufferEncoding, cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.engine.error) return cb(this.engine.error);
    if (!this.secure) {
      this.pendingWrites.push({ chunk, cb });
      return;
    }
    this.writeNow(chunk, cb);
  }

  private writeNow(chunk: Uint8Array, cb: (e?: Error | null) => void): void {
    try {
      this.engine.sendApplicationData(chunk);
    } catch (e) {
      return cb(e as Error);
    }
    // Backpressure: complete the write when the transport has room again.
    if (this.socket.writableNeedDrain) this.socket.once('drain', () => cb());
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    const finish = () => {
      this.engine.close();
      if (!this.socket.destroyed) this.socket.end();
      cb();
    };
    if (!this.secure && !this.engine.error) this.once('secure', finish).once('secureConnect', finish);
    else finish();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.handshakeTimer);
    if (!this.abort.signal.aborted) this.abort.abort(err ?? new Error('socket destroyed'));
    if (!this.engine.error && err) this.engine.fail(err instanceof TLSError ? err : new TLSError('internal_error', err.message, 'local', { cause: err }));
    if (!this.socket.destroyed) {
      if (this.engine.error?.origin === 'local' && this.engine.error.alert !== 'close_notify') this.lingerAfterAlert();
      // Give a pending fatal alert a chance to leave before tearing down the transport.
      else if (this.socket.writableLength > 0 && !this.socket.writableEnded) this.socket.end(() => this.socket.destroy());
      else this.socket.destroy();
    }
    cb(err);
  }

  /**
   * After we sent a fatal alert: close the write side and keep reading (and discarding) until the peer
   * closes or a second passes. Destroying at once would make the kernel answer the peer's in-flight
   * data with an RST, which can overtake our alert so the peer sees ECONNRESET instead of the reason.
   */
  private lingerAfterAlert(): void {
    const t = this.socket;
    if (!t.writableEnded) t.end();
    (t as Socket).resume?.();
    const timer = setTimeout(() => t.destroy(), LINGER_AFTER_ALERT_MS);
    timer.unref?.();
    t.once('close', () => clearTimeout(timer));
    t.once('end', () => t.destroy());
  }

  // ---------- node:tls-shaped accessors ----------

  getProtocol(): string | null {
    return this.session ? 'TLSv1.2' : null;
  }

  getCipher(): { name: string; standardName: string; version: string } | undefined {
    const s = this.session?.suite;
    return s && { name: s.opensslName, standardName: s.name, version: 'TLSv1.2' };
  }

  getPeerCertificate(detailed = false): Record<string, unknown> {
    const certs = this.session?.peerCertificates ?? [];
    const leaf = certs[0];
    if (!leaf) return {};
    if (!detailed) return toPeerCertificate(leaf) as unknown as Record<string, unknown>;
    // Server: node's chain (GetPeerCert) — what the client sent (a resumed session keeps only the leaf,
    // as OpenSSL's), completed from the server's own store, also when an SNI context verified it.
    const issuers = this.role === 'server' && this.issuerStore
      ? nodeIssuerChain(leaf, this.session!.resumed ? [] : certs.slice(1), this.issuerStore)
      : (this.session?.verifiedChain ?? certs).slice(1);
    return toPeerCertificate(leaf, issuers) as unknown as Record<string, unknown>;
  }

  /** Our own certificate, in getPeerCertificate()'s shape (node: getCertificate); {} when we have none. */
  getCertificate(): Record<string, unknown> {
    const own = this.ownCertificate();
    return own ? (toPeerCertificate(own) as unknown as Record<string, unknown>) : {};
  }

  /** The peer's certificate as a node:crypto X509Certificate; undefined when it sent none. */
  getPeerX509Certificate(): X509Certificate | undefined {
    const leaf = this.session?.peerCertificates[0];
    return leaf && new X509Certificate(leaf.der);
  }

  /** Our own certificate as a node:crypto X509Certificate; undefined when we have none. */
  getX509Certificate(): X509Certificate | undefined {
    const own = this.ownCertificate();
    return own && new X509Certificate(own.der);
  }

  /**
   * The certificate we sent; if we sent none (not asked for, resumed, PSK) the first one configured:
   * OpenSSL, and so node, report the certificate the connection would use rather than nothing.
   */
  private ownCertificate(): Certificate | undefined {
    return this.session?.localCertificate ?? this.configuredCertificate;
  }

  /**
   * Signature algorithms both sides accept, most preferred first, named as node names them
   * ('ECDSA+SHA256', 'RSA-PSS+SHA256', 'Ed25519+UNDEF'…). As with OpenSSL: a server lists those its
   * ClientHello shares with ours; a client those of the server's CertificateRequest (none without one);
   * a resumed session none.
   */
  getSharedSigalgs(): string[] {
    return (this.session?.sharedSignatureSchemes ?? []).map(nodeSigalgName).filter((n): n is string => n !== undefined);
  }

  /**
   * Largest plaintext per record from now on, handshake records included (node: setMaxSendFragment).
   * false, and no change, outside OpenSSL's range 512..16384.
   */
  setMaxSendFragment(size: number): boolean {
    validateInt32(size, 'size');
    if (size < 512 || size > MAX_PLAINTEXT) return false;
    this.engine.records.maxFragment = size;
    return true;
  }

  /** node: { type: 'ECDH', name: 'X25519', size: 253 } on the client; we report it on both sides. */
  getEphemeralKeyInfo(): Record<string, unknown> {
    const info = this.session?.kxInfo ?? {};
    const group = info.group as string | undefined;
    if (!group) return {};
    const sizes: Record<string, number> = { x25519: 253, secp256r1: 256, secp384r1: 384, ffdhe2048: 2048, ffdhe3072: 3072, ffdhe4096: 4096 };
    const names: Record<string, string> = { x25519: 'X25519', secp256r1: 'prime256v1', secp384r1: 'secp384r1' };
    // Finite-field groups: ffdheNNNN, modpNNNN (RFC 3526), or custom-NNNN for any other dhparam (lib/kx/dhe.ts).
    const dh = /^(?:ffdhe|modp|custom-)(\d+)$/.exec(group);
    if (dh) return { type: 'DH', name: group, size: Number(dh[1]) };
    return { type: 'ECDH', name: names[group] ?? group, size: sizes[group] };
  }

  /** Non-secret facts from the key exchange (group, PSK identity, QKD key_ID and KME...). */
  getKeyExchangeInfo(): Record<string, unknown> {
    return { ...(this.session?.kxInfo ?? {}) };
  }

  /** The session to pass as `session` to a later connect() (client side), as node:tls. */
  getSession(): Buffer | undefined {
    return this.clientSession;
  }

  /** The ticket the server issued (client side), as node:tls. */
  getTLSTicket(): Buffer | undefined {
    const t = this.session?.ticket?.ticket;
    return t ? Buffer.from(t) : undefined;
  }

  /** The verify_data of our latest Finished (node: getFinished), e.g. for tls-unique channel binding. */
  getFinished(): Buffer | undefined {
    const f = this.engine.finishedSent;
    return f && this.secure ? Buffer.from(f) : undefined;
  }

  /** The verify_data of the peer's latest Finished (node: getPeerFinished). */
  getPeerFinished(): Buffer | undefined {
    const f = this.engine.finishedReceived;
    return f && this.secure ? Buffer.from(f) : undefined;
  }

  /**
   * RFC 5705 keying material exporter (node: exportKeyingMaterial): PRF(master_secret, label,
   * client_random ‖ server_random [‖ uint16 len ‖ context]).
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Buffer {
    const s = this.session;
    if (!s) throw new Error('exportKeyingMaterial: the handshake has not completed');
    if (!Number.isInteger(length) || length <= 0 || length > 65535) throw new RangeError('exportKeyingMaterial: length must be 1..65535');
    // RFC 5705 §4: labels used by TLS itself must not be exported under.
    if (/^(client finished|server finished|master secret|extended master secret|key expansion)$/.test(label))
      throw new TypeError(`exportKeyingMaterial: label "${label}" is reserved by TLS`);
    let seed = Buffer.concat([s.clientRandom, s.serverRandom]);
    if (context !== undefined) {
      if (context.length > 65535) throw new RangeError('exportKeyingMaterial: context longer than 65535 bytes');
      seed = Buffer.concat([seed, Buffer.from([context.length >> 8, context.length & 0xff]), context]);
    }
    return Buffer.from(prf(s.suite.prf, s.masterSecret, label, seed, length));
  }

  /** Print a readable trace of this connection to stderr (node: enableTrace). */
  enableTrace(): void {
    this.engine.setTrace(traceWriter((l) => process.stderr.write(l), `[${this.role}] `));
  }

  /** Renegotiation is refused by design (RFC 5746 support is signalled, never used). */
  renegotiate(_options: unknown, callback?: (err: Error | null) => void): boolean {
    const err = new Error('qtls does not renegotiate (TLS 1.2 renegotiation is refused by design)');
    if (callback) process.nextTick(callback, err);
    return false;
  }

  /**
   * node: disableRenegotiation(). A no-op: qtls refuses every renegotiation request anyway, with a
   * no_renegotiation warning alert (OpenSSL peers then abort). node, after this call, lets the
   * renegotiation start and emits 'error' ERR_TLS_RENEGOTIATION_DISABLED on the socket instead.
   */
  disableRenegotiation(): void {}

  isSessionReused(): boolean {
    return this.session?.resumed ?? false;
  }

  /** The TLS error that ended this connection, if any. */
  get tlsError(): TLSError | undefined {
    return this.engine.error;
  }

  setNoDelay(noDelay = true): this {
    (this.socket as Socket).setNoDelay?.(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    (this.socket as Socket).setKeepAlive?.(enable, delay);
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    (this.socket as Socket).setTimeout?.(ms);
    if (cb) this.once('timeout', cb);
    // Forward the transport's 'timeout' events once per socket, not once per call: node:http calls
    // setTimeout() for every request on a kept-alive connection (the ETSI 014 KME listener).
    if (!this.forwardsTimeout) {
      this.forwardsTimeout = true;
      (this.socket as Socket).on('timeout', () => this.emit('timeout'));
    }
    return this;
  }
  address(): ReturnType<Socket['address']> | {} {
    return (this.socket as Socket).address?.() ?? {};
  }
  get remoteAddress(): string | undefined {
    return (this.socket as Socket).remoteAddress ?? this.remote?.address;
  }
  get remotePort(): number | undefined {
    return (this.socket as Socket).remotePort ?? this.remote?.port;
  }
  get localAddress(): string | undefined {
    return (this.socket as Socket).localAddress;
  }
  get localPort(): number | undefined {
    return (this.socket as Socket).localPort;
  }
  ref(): this {
    (this.socket as Socket).ref?.();
    return this;
  }
  unref(): this {
    (this.socket as Socket).unref?.();
    return this;
  }
}

