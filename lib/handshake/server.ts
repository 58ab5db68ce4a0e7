// The server side of the TLS 1.2 handshake (RFC 5246 §7.3 Figure 1):
// processClientHello → pickCipherSuite → full handshake → establish keys → read Finished → send Finished.
import { TLSError } from '../alert.js';
import { keylogLine } from '../debug/keylog.js';
import { timingSafeEqual } from '../crypto/ct.js';
import { randomBytes } from '../crypto/random.js';
import { algorithmFitsKey, schemeName, schemeToAlgorithm, signData, verifySignature } from '../crypto/signature.js';
import type { KeyExchangeProvider, KxContext } from '../kx/key-exchange.js';
import '../kx/index.js';
import { keyExchangeProvider } from '../kx/registry.js';
import { pickDhGroup } from '../kx/dhe.js';
import { parseCertificate, type Certificate } from '../pki/x509.js';
import { TLS12 } from '../record/content-type.js';
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, type CipherSuite } from '../suites.js';
import { concat } from '../wire/bytes.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { pickCertificate, type CertifiedKey } from './config.js';
import type { Engine } from './engine.js';
import {
  EC_POINT_FORMATS_UNCOMPRESSED, EMPTY_RENEGOTIATION_INFO, ExtensionType, encodeAlpn, parseAlpn, parseEcPointFormats,
  parseRenegotiationInfo, parseServerName, parseStatusRequest, parseU16List, requireEmpty,
} from './extensions.js';
import { HandshakeType } from './handshake-type.js';
import { computeMasterSecret, deriveConnectionKeys, verifyData } from './key-schedule.js';
import { encodeCertificateMessage, parseCertificateMessage } from './messages/certificate.js';
import { ClientCertificateType, encodeCertificateRequest } from './messages/certificate-request.js';
import { encodeCertificateStatus } from './messages/certificate-status.js';
import { parseClientHello, type ClientHello } from './messages/client-hello.js';
import { readDigitallySigned, writeDigitallySigned } from './messages/digitally-signed.js';
import { parseFinished } from './messages/finished.js';
import { encodeServerHello } from './messages/server-hello.js';
import { authFailure, authenticatePeer, parsePeerCertificates, type PeerAuthResult } from './peer-auth.js';
import type { HandshakeResult } from './session.js';
import { suiteResumable } from '../kx/qkd-options.js';
import { encodeNewSessionTicket } from './messages/new-session-ticket.js';
import type { SessionStore } from './session-cache.js';
import { encodeSessionState, isExpired, nowSeconds, type SessionState } from './session-state.js';
import type { TicketKeys } from './tickets.js';

/**
 * A secure context chosen by SNI (node: the context an SNICallback answers with, or an addContext()
 * entry): its certificates, and the trust that applies to client certificates on that connection in
 * place of the server's own (node sets the context's certificate store and client-CA list on the
 * connection).
 */
export interface SelectedContext {
  certificates: CertifiedKey[];
  /** The context's `ca`, or the default store when it has none (not the server's `ca`). */
  trustAnchors: () => Certificate[];
  /** Name trustAnchors in CertificateRequest.certificate_authorities: true for a `ca` option, false for the default store (node names none). */
  nameTrustAnchors: boolean;
}

export interface ServerConfig {
  suites: CipherSuite[];
  groups: number[];
  signatureSchemes: number[];
  alpnProtocols: string[];
  /**
   * Chooses among the client's ALPN protocols instead of alpnProtocols (node: ALPNCallback); called only
   * when the client offers ALPN. undefined refuses them all (no_application_protocol).
   */
  selectAlpn?: (servername: string | undefined, protocols: string[]) => string | undefined;
  certificates: CertifiedKey[];
  /** Prefer our suite order over the client's (node: honorCipherOrder). */
  honorCipherOrder: boolean;
  requireExtendedMasterSecret: boolean;
  /** Client certificates (RFC 5246 §7.4.4). */
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** Verify client certificates against these (node: the `ca` option, else the default store). */
  trustAnchors: () => Certificate[];
  /**
   * List trustAnchors in CertificateRequest.certificate_authorities. As node: the names of a `ca` option;
   * none for the default store (an empty list, which lets the client send any certificate).
   */
  nameTrustAnchors: boolean;
  options: Readonly<Record<string, unknown>>;
  /** The socket, handed to user callbacks (pskCallback). */
  socket?: unknown;
  signal: AbortSignal;
  onKeylog?: (line: string) => void;
  /** Session-ID resumption (RFC 5246 §7.3); undefined disables it. */
  sessionStore?: SessionStore;
  /** Session tickets (RFC 5077); undefined disables them. */
  ticketKeys?: TicketKeys;
  /** Seconds a session stays resumable (node: sessionTimeout). */
  sessionLifetime: number;
  /**
   * Called with the SNI before the certificate is chosen, on full handshakes only (node: SNICallback,
   * or addContext()'s table); may return another context, whose certificates are served and whose
   * trust applies to the client certificate. undefined: the server's own.
   */
  selectCertificates?: (servername: string | undefined) => Promise<SelectedContext | undefined>;
  /**
   * The same selection, when it runs no user code (addContext()'s table; may throw like it): consulted
   * when a session is resumed, to check its client certificate against the trust its SNI selects
   * today. Absent with an SNICallback, which node never calls on resumption: without it, a server that
   * requires a verified client certificate does a full handshake for a session with an SNI.
   */
  selectForResumption?: (servername: string) => SelectedContext | undefined;
  /**
   * The OCSP response to staple for the chosen certificate (node: the 'OCSPRequest' event), asked only on
   * full handshakes whose client sent status_request for OCSP; undefined staples nothing. The handshake
   * waits for it (the handshake timeout still runs).
   */
  ocspResponse?: (certificate: CertifiedKey) => Promise<Uint8Array | undefined>;
}

/** What the client offered, decoded once. */
interface ClientOffer {
  hello: ClientHello;
  servername: string | undefined;
  groups: number[];
  /** undefined: the extension was absent (RFC 5246 §7.4.1.4.1 defaults apply). */
  signatureSchemes: number[] | undefined;
  alpn: string[] | undefined;
  ems: boolean;
  secureRenegotiation: boolean;
  /** RFC 5077: the client supports tickets; the ticket it presented (may be empty). */
  ticket: Uint8Array | undefined;
  pointFormats: number[] | undefined;
  /** RFC 6066 §8: the client asks for an OCSP response. */
  statusRequest: boolean;
}

export async function serverHandshake(engine: Engine, cfg: ServerConfig): Promise<HandshakeResult> {
  // --- ClientHello (§7.4.1.2) ---
  const offer = readClientOffer(parseClientHello((await engine.expect(HandshakeType.client_hello)).body));
  const ch = offer.hello;
  if (cfg.requireExtendedMasterSecret && !offer.ems) throw new TLSError('handshake_failure', 'client does not support the extended master secret (RFC 7627), which this server requires');

  const resumable = await findResumableSession(cfg, offer);
  if (resumable) return abbreviatedHandshake(engine, cfg, offer, resumable);

  // As node: a context chosen by SNI brings its certificates and its trust for client certificates.
  const selected = await cfg.selectCertificates?.(offer.servername);
  const certificates = selected?.certificates ?? cfg.certificates;
  const trust: ClientTrust = selected ?? cfg;
  const choice = pickSuite(cfg, offer, certificates);
  const { suite, provider, cert } = choice;
  const alpn = negotiateAlpn(cfg, offer);
  // RFC 6066 §8: a response to staple, asked for the certificate we will send (a PSK suite sends none).
  const answer = cert && offer.statusRequest && cfg.ocspResponse ? await cfg.ocspResponse(cert.cert) : undefined;
  // OCSPResponse is opaque<1..2^24-1>: an empty answer staples nothing (node does the same).
  const staple = answer?.length ? answer : undefined;

  // --- ServerHello (§7.4.1.3) ---
  const serverRandom = randomBytes(32);
  const sessionId = randomBytes(32);
  const exts: Array<[number, Uint8Array]> = [];
  if (offer.secureRenegotiation) exts.push([ExtensionType.renegotiation_info, EMPTY_RENEGOTIATION_INFO]);
  if (offer.ems) exts.push([ExtensionType.extended_master_secret, new Uint8Array(0)]);
  if (offer.servername !== undefined) exts.push([ExtensionType.server_name, new Uint8Array(0)]);
  if (alpn) exts.push([ExtensionType.application_layer_protocol_negotiation, encodeAlpn([alpn])]);
  // RFC 6066 §8: an empty status_request announces the CertificateStatus; only sent when we have one.
  if (staple) exts.push([ExtensionType.status_request, new Uint8Array(0)]);
  if (offer.pointFormats && (suite.kx.startsWith('ECDHE') || suite.auth === 'ECDSA')) exts.push([ExtensionType.ec_point_formats, EC_POINT_FORMATS_UNCOMPRESSED]);
  const cacheable = suiteResumable(suite.kx, cfg.options);
  const issueTicket = cfg.ticketKeys !== undefined && offer.ticket !== undefined && cacheable;
  if (issueTicket) exts.push([ExtensionType.session_ticket, new Uint8Array(0)]);
  engine.sendHandshake(HandshakeType.server_hello, encodeServerHello({ version: TLS12, random: serverRandom, sessionId, cipherSuite: suite.id, extensions: exts }));
  engine.records.setNegotiatedVersion(TLS12);
  engine.transcript.setHash(suite.prf);

  const info: Record<string, unknown> = {};
  const ctx: KxContext = {
    role: 'server', suite, clientRandom: ch.random, serverRandom, clientGroups: offer.groups, groups: cfg.groups, preferClientGroups: !cfg.honorCipherOrder,
    clientExtensions: ch.extensions, servername: offer.servername, options: cfg.options, socket: cfg.socket, signal: cfg.signal, info,
  };
  const kx = provider.create();

  // --- Certificate (§7.4.2) ---
  if (cert) engine.sendHandshake(HandshakeType.certificate, encodeCertificateMessage(cert.cert.chain));
  // --- CertificateStatus (RFC 6066 §8) ---
  if (staple) engine.sendHandshake(HandshakeType.certificate_status, encodeCertificateStatus(staple));

  // --- ServerKeyExchange (§7.4.3): params signed with the certificate key when the suite says so ---
  const params = await kx.serverParams(ctx);
  if (params) {
    const w = new Writer().bytes(params);
    if (cert) {
      const sig = signData(schemeToAlgorithm(cert.scheme)!, cert.cert.key, concat(ch.random, serverRandom, params));
      writeDigitallySigned(w, { scheme: cert.scheme, signature: sig });
    }
    engine.sendHandshake(HandshakeType.server_key_exchange, w.finish());
  }

  // --- CertificateRequest (§7.4.4) ---
  const wantClientCert = cfg.requestCert && cert !== undefined;
  let trustAnchors: Certificate[] = [];
  if (wantClientCert) {
    trustAnchors = trust.trustAnchors();
    engine.sendHandshake(
      HandshakeType.certificate_request,
      encodeCertificateRequest({
        certificateTypes: [ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign],
        signatureSchemes: cfg.signatureSchemes,
        authorities: trust.nameTrustAnchors ? trustAnchors.map((c) => c.subject.der) : [],
      }),
    );
  }
  engine.sendHandshake(HandshakeType.server_hello_done, new Uint8Array(0));

  // --- client Certificate (§7.4.6) ---
  let peerCertificates: Certificate[] = [];
  let auth = { authorized: false, authorizationError: undefined as Error | undefined, verifiedChain: undefined as Certificate[] | undefined };
  if (wantClientCert) {
    const certs = parseCertificateMessage((await engine.expect(HandshakeType.certificate)).body);
    peerCertificates = parsePeerCertificates(certs, 'client');
    if (peerCertificates.length === 0) {
      // §7.4.6: an empty list; with rejectUnauthorized the server insists (handshake_failure, as OpenSSL).
      auth.authorizationError = noClientCertificate();
      if (cfg.rejectUnauthorized) throw new TLSError('handshake_failure', 'client certificate required but the client sent none');
    } else {
      const res = authenticatePeer(peerCertificates, { trustAnchors, purpose: 'client' });
      if (!res.authorized && cfg.rejectUnauthorized) throw authFailure(res, 'client');
      auth = res;
    }
  }

  // --- ClientKeyExchange (§7.4.7) ---
  const cke = await engine.expect(HandshakeType.client_key_exchange);
  const premaster = await kx.serverPremaster(ctx, cke.body);
  const master = computeMasterSecret(suite, premaster, ch.random, serverRandom, offer.ems ? engine.transcript.hash() : undefined);
  premaster.fill(0);
  cfg.onKeylog?.(keylogLine(ch.random, master));

  // --- CertificateVerify (§7.4.8): signs every handshake message so far ---
  let peerSignatureScheme: number | undefined;
  if (peerCertificates.length > 0) {
    const signed = engine.transcript.bytes();
    const cv = await engine.expect(HandshakeType.certificate_verify);
    const r = new Reader(cv.body, 'CertificateVerify');
    const ds = readDigitallySigned(r);
    r.end();
    if (!cfg.signatureSchemes.includes(ds.scheme)) throw new TLSError('illegal_parameter', `client signed with ${schemeName(ds.scheme)}, which we did not offer`);
    const alg = schemeToAlgorithm(ds.scheme);
    const key = peerCertificates[0]!.publicKey;
    if (!alg || !key || !algorithmFitsKey(alg, key)) throw new TLSError('illegal_parameter', `CertificateVerify scheme ${schemeName(ds.scheme)} does not fit the client certificate key`);
    if (!verifySignature(alg, key, signed, ds.signature)) throw new TLSError('decrypt_error', 'client CertificateVerify signature does not verify');
    peerSignatureScheme = ds.scheme;
  }

  // --- ChangeCipherSpec + Finished (§7.1, §7.4.9) ---
  const keys = deriveConnectionKeys(suite, master, ch.random, serverRandom);
  await engine.expectChangeCipherSpec(keys.client);
  const expected = verifyData(suite, master, 'client', engine.transcript.hash());
  const got = parseFinished((await engine.expect(HandshakeType.finished)).body);
  if (!timingSafeEqual(expected, got)) throw new TLSError('decrypt_error', 'client Finished verify_data does not match (transcript or key mismatch)');

  const state: SessionState = {
    suiteId: suite.id, extendedMasterSecret: offer.ems, masterSecret: master, created: nowSeconds(), lifetime: cfg.sessionLifetime,
    peerCertificates: peerCertificates.map((c) => c.der), servername: offer.servername ?? '', alpn: alpn ?? '',
    pskIdentity: typeof info.pskIdentity === 'string' ? info.pskIdentity : '',
    sessionId: new Uint8Array(0), ticket: new Uint8Array(0),
    ...(peerCertificates.length > 0 ? { clientVerdict: verdictOf(auth) } : {}),
  };
  // Sessions are only cached once the client proved it holds the keys (its Finished verified).
  if (cfg.sessionStore && cacheable) await cfg.sessionStore.store(sessionId, state, encodeSessionState(state));
  if (issueTicket) sendTicket(engine, cfg, state);
  engine.sendChangeCipherSpec(keys.server);
  engine.sendHandshake(HandshakeType.finished, verifyData(suite, master, 'server', engine.transcript.hash()));

  engine.transcript.release();
  return {
    suite, version: 'TLSv1.2', sessionId, masterSecret: master, extendedMasterSecret: offer.ems, clientRandom: ch.random,
    serverRandom, alpnProtocol: alpn ?? false, servername: offer.servername, peerCertificates,
    verifiedChain: auth.verifiedChain, authorized: auth.authorized, authorizationError: auth.authorizationError,
    kxInfo: info, peerSignatureScheme, resumed: false, localCertificate: cert?.cert.leaf,
    sharedSignatureSchemes: sharedSchemes(cfg, offer),
  };
}

/**
 * A session the client asked to resume and that we may resume: a valid ticket (RFC 5077 §3.4) or a
 * cached session ID (RFC 5246 §7.4.1.2), with a suite the client still offers and we still allow, the
 * same SNI (RFC 6066 §3) and compatible extended-master-secret use (RFC 7627 §5.3). Anything else falls
 * back to a full handshake.
 */
async function findResumableSession(cfg: ServerConfig, offer: ClientOffer): Promise<Resumable | undefined> {
  let state: SessionState | undefined;
  let renewTicket = false;
  if (offer.ticket && offer.ticket.length > 0 && cfg.ticketKeys) {
    const opened = cfg.ticketKeys.open(offer.ticket);
    if (opened) {
      state = opened.state;
      renewTicket = opened.renew;
    }
  }
  if (!state && offer.hello.sessionId.length > 0 && cfg.sessionStore) state = await cfg.sessionStore.lookup(offer.hello.sessionId);
  if (!state || isExpired(state)) return undefined;
  if (!offer.hello.cipherSuites.includes(state.suiteId) || !cfg.suites.some((s) => s.id === state.suiteId)) return undefined;
  // One fresh QKD key per connection unless the user allows resumption (qkd.allowResumption).
  if (!suiteResumable(cfg.suites.find((s) => s.id === state.suiteId)!.kx, cfg.options)) return undefined;
  if (state.servername !== (offer.servername ?? '')) return undefined;
  // RFC 7627 §5.3: an EMS session must not be resumed without EMS (abort); a non-EMS session is not
  // resumed at all (we fall back to a full handshake rather than resume insecurely).
  if (state.extendedMasterSecret && !offer.ems) throw new TLSError('handshake_failure', 'client resumes an extended-master-secret session without the extension (RFC 7627 §5.3)');
  if (!state.extendedMasterSecret) return undefined;
  // The session must meet today's client-authentication policy: a server that requires a verified client
  // certificate never resumes a session without one, or with one that no longer verifies under the trust
  // that applies to the session's SNI today. (Tickets sealed with shared ticketKeys by a server that asked
  // for no certificate or trusted other CAs, or a store shared through newSession/resumeSession, would
  // otherwise skip client authentication; node does not re-check.) Full handshake instead, also when
  // that trust cannot be known without running an SNICallback.
  let clientAuth: PeerAuthResult | undefined;
  if (cfg.requestCert && cfg.rejectUnauthorized) {
    clientAuth = sessionClientAuth(cfg, state);
    if (!clientAuth?.authorized) return undefined;
  }
  // A session of the older format carries no verdict to report for its client certificate.
  if (cfg.requestCert && !clientAuth && state.peerCertificates.length > 0 && !state.clientVerdict) return undefined;
  // A PSK session resumes only while its identity still resolves (a revoked PSK, or a QKD key_ID the
  // KME has already handed out, means a full handshake).
  if (cfg.suites.find((s) => s.id === state.suiteId)?.auth === 'PSK' && !(await pskStillValid(cfg, state.pskIdentity))) return undefined;
  return { state, renewTicket, clientAuth };
}

/** Where client certificates are checked: the server's own trust, or that of the context SNI selected. */
type ClientTrust = Pick<SelectedContext, 'trustAnchors' | 'nameTrustAnchors'>;

interface Resumable {
  state: SessionState;
  renewTicket: boolean;
  /** The client certificate checked under today's trust (requestCert + rejectUnauthorized only). */
  clientAuth: PeerAuthResult | undefined;
}

async function pskStillValid(cfg: ServerConfig, identity: string): Promise<boolean> {
  const cb = cfg.options.pskCallback as ((socket: unknown, identity: string) => unknown) | undefined;
  if (typeof cb !== 'function' || identity === '') return false;
  try {
    const psk = (await cb(cfg.socket, identity)) as Uint8Array | null | undefined;
    return !!psk && psk.length > 0;
  } catch {
    return false;
  }
}

/**
 * A resumed session's client certificate checked against the trust its SNI selects today; undefined
 * when there is no certificate, it does not parse, or that trust is unknown.
 */
function sessionClientAuth(cfg: ServerConfig, state: SessionState): PeerAuthResult | undefined {
  if (state.peerCertificates.length === 0) return undefined;
  const trust = resumptionTrust(cfg, state.servername);
  if (!trust) return undefined;
  try {
    return authenticatePeer(state.peerCertificates.map((d) => parseCertificate(d)), { trustAnchors: trust.trustAnchors(), purpose: 'client' });
  } catch {
    return undefined;
  }
}

/**
 * The trust a full handshake would apply today to a client with this SNI ('' = none): the server's own
 * without SNI or without a selection hook; the context addContext()'s table selects (or the server's
 * when none matches). undefined when only an SNICallback could tell: node never runs it on resumption,
 * so neither do we — the caller does a full handshake, which runs it.
 */
function resumptionTrust(cfg: ServerConfig, servername: string): ClientTrust | undefined {
  if (servername === '' || !cfg.selectCertificates) return cfg;
  if (!cfg.selectForResumption) return undefined;
  try {
    return cfg.selectForResumption(servername) ?? cfg;
  } catch {
    // A context that cannot serve (no certificate): the full handshake reports it.
    return undefined;
  }
}

/** The authorizationError of a client that sent an empty Certificate (node's code for it). */
function noClientCertificate(): Error {
  return Object.assign(new Error('client sent no certificate'), { code: 'UNABLE_TO_GET_ISSUER_CERT' });
}

/** What a session records about its client certificate (see SessionState.clientVerdict). */
function verdictOf(auth: { authorized: boolean; authorizationError: Error | undefined }): NonNullable<SessionState['clientVerdict']> {
  const e = auth.authorizationError as (Error & { code?: string }) | undefined;
  return { authorized: auth.authorized, code: e?.code ?? '', message: e?.message ?? '' };
}

/**
 * What a resumed session reports about the client, as node (which keeps OpenSSL's verify result in the
 * session and does not verify again): without requestCert nothing (authorized false, no error, the
 * certificate still reported); with it, the verdict of the full handshake, or node's error for no
 * certificate. When we re-checked the certificate (requestCert + rejectUnauthorized), that check.
 */
function resumedClientAuth(cfg: ServerConfig, state: SessionState, checked: PeerAuthResult | undefined): PeerAuthResult {
  if (checked) return checked;
  const none: PeerAuthResult = { authorized: false, authorizationError: undefined, verifiedChain: undefined };
  if (!cfg.requestCert) return none;
  if (state.peerCertificates.length === 0) return { ...none, authorizationError: noClientCertificate() };
  const v = state.clientVerdict;
  // findResumableSession resumes no session with a certificate and without a verdict under requestCert.
  if (!v) return { ...none, authorizationError: noClientCertificate() };
  if (v.authorized) return { ...none, authorized: true };
  return { ...none, authorizationError: Object.assign(new Error(v.message), v.code ? { code: v.code } : {}) };
}

function sendTicket(engine: Engine, cfg: ServerConfig, state: SessionState): void {
  const ticket = cfg.ticketKeys!.seal(state);
  engine.sendHandshake(HandshakeType.new_session_ticket, encodeNewSessionTicket({ lifetimeHint: cfg.sessionLifetime, ticket }));
}

/** RFC 5246 §7.3 Figure 2: ServerHello, [NewSessionTicket], CCS, Finished; then the client's CCS, Finished. */
async function abbreviatedHandshake(engine: Engine, cfg: ServerConfig, offer: ClientOffer, resumable: Resumable): Promise<HandshakeResult> {
  const { state, renewTicket } = resumable;
  const suite = cfg.suites.find((s) => s.id === state.suiteId)!;
  const ch = offer.hello;
  const alpn = negotiateAlpn(cfg, offer);
  const serverRandom = randomBytes(32);
  const exts: Array<[number, Uint8Array]> = [];
  if (offer.secureRenegotiation) exts.push([ExtensionType.renegotiation_info, EMPTY_RENEGOTIATION_INFO]);
  exts.push([ExtensionType.extended_master_secret, new Uint8Array(0)]);
  if (alpn) exts.push([ExtensionType.application_layer_protocol_negotiation, encodeAlpn([alpn])]);
  if (renewTicket) exts.push([ExtensionType.session_ticket, new Uint8Array(0)]);
  // RFC 5077 §3.4: when accepting a ticket the server echoes the client's session ID.
  engine.sendHandshake(HandshakeType.server_hello, encodeServerHello({ version: TLS12, random: serverRandom, sessionId: ch.sessionId, cipherSuite: suite.id, extensions: exts }));
  engine.records.setNegotiatedVersion(TLS12);
  engine.transcript.setHash(suite.prf);
  if (renewTicket) sendTicket(engine, cfg, { ...state, created: nowSeconds() });

  const master = state.masterSecret;
  cfg.onKeylog?.(keylogLine(ch.random, master));
  const keys = deriveConnectionKeys(suite, master, ch.random, serverRandom);
  engine.sendChangeCipherSpec(keys.server);
  engine.sendHandshake(HandshakeType.finished, verifyData(suite, master, 'server', engine.transcript.hash()));
  await engine.expectChangeCipherSpec(keys.client);
  const expected = verifyData(suite, master, 'client', engine.transcript.hash());
  const got = parseFinished((await engine.expect(HandshakeType.finished)).body);
  if (!timingSafeEqual(expected, got)) throw new TLSError('decrypt_error', 'client Finished verify_data does not match on resumption');
  engine.transcript.release();

  const peerCertificates = state.peerCertificates.map((d) => parseCertificate(d));
  const auth = resumedClientAuth(cfg, state, resumable.clientAuth);
  return {
    suite, version: 'TLSv1.2', sessionId: ch.sessionId, masterSecret: master, extendedMasterSecret: true, clientRandom: ch.random,
    serverRandom, alpnProtocol: alpn ?? false, servername: offer.servername, peerCertificates,
    verifiedChain: auth.verifiedChain, authorized: auth.authorized, authorizationError: auth.authorizationError,
    kxInfo: { resumed: true, ...(state.pskIdentity ? { pskIdentity: state.pskIdentity } : {}) }, peerSignatureScheme: undefined, resumed: true,
  };
}

function readClientOffer(hello: ClientHello): ClientOffer {
  // RFC 5246 Appendix E.1: a client that can't do 1.2 gets protocol_version.
  if (hello.version < TLS12) throw new TLSError('protocol_version', `client offers at most version 0x${hello.version.toString(16)}; this server requires TLS 1.2`);
  const e = hello.extensions;
  // RFC 8446 §4.2.1: a client sending supported_versions lists its versions there, not in
  // legacy_version; without TLS 1.2 among them (a TLS 1.3-only client) the answer is protocol_version.
  const svExt = e.get(ExtensionType.supported_versions);
  if (svExt) {
    const r = new Reader(svExt, 'supported_versions');
    const versions = r.u16List(1, 'supported_versions', 1);
    r.end();
    if (!versions.includes(TLS12)) throw new TLSError('protocol_version', `client supports only ${versions.map((v) => `0x${v.toString(16).padStart(4, '0')}`).join(', ')}; this server requires TLS 1.2`);
  }
  const get = (t: number) => e.get(t);
  const groupsExt = get(ExtensionType.supported_groups);
  const sigExt = get(ExtensionType.signature_algorithms);
  const alpnExt = get(ExtensionType.application_layer_protocol_negotiation);
  const emsExt = get(ExtensionType.extended_master_secret);
  if (emsExt) requireEmpty(emsExt, 'extended_master_secret');
  const riExt = get(ExtensionType.renegotiation_info);
  // RFC 5746 §3.6: on an initial handshake renegotiated_connection must be empty.
  if (riExt && parseRenegotiationInfo(riExt).length !== 0) throw new TLSError('handshake_failure', 'non-empty renegotiation_info in the initial ClientHello');
  const pfExt = get(ExtensionType.ec_point_formats);
  const pointFormats = pfExt ? parseEcPointFormats(pfExt) : undefined;
  // RFC 8422 §5.1.2: the list must contain uncompressed.
  if (pointFormats && !pointFormats.includes(0)) throw new TLSError('illegal_parameter', 'client does not accept uncompressed points');
  const sni = get(ExtensionType.server_name);
  const statusExt = get(ExtensionType.status_request);
  return {
    hello,
    servername: sni ? parseServerName(sni) : undefined,
    groups: groupsExt ? parseU16List(groupsExt, 'supported_groups') : [],
    signatureSchemes: sigExt ? parseU16List(sigExt, 'signature_algorithms') : undefined,
    alpn: alpnExt ? parseAlpn(alpnExt) : undefined,
    ems: emsExt !== undefined,
    secureRenegotiation: riExt !== undefined || hello.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
    pointFormats,
    ticket: get(ExtensionType.session_ticket),
    statusRequest: statusExt !== undefined && parseStatusRequest(statusExt),
  };
}

/** Suite selection: the first mutually supported suite whose exchange and authentication can run. */
function pickSuite(
  cfg: ServerConfig,
  offer: ClientOffer,
  certificates: CertifiedKey[],
): { suite: CipherSuite; provider: KeyExchangeProvider; cert: { cert: CertifiedKey; scheme: number } | undefined } {
  const ours = cfg.suites;
  const theirs = offer.hello.cipherSuites;
  const order = cfg.honorCipherOrder ? ours.filter((s) => theirs.includes(s.id)) : theirs.map((id) => ours.find((s) => s.id === id)).filter((s): s is CipherSuite => !!s);
  const schemes = offer.signatureSchemes?.filter((s) => cfg.signatureSchemes.includes(s));
  let noCommonFfdhe = false;
  let curveFallback: ReturnType<typeof pickSuite> | undefined;
  for (const suite of order) {
    const provider = keyExchangeProvider(suite.kx);
    if (!provider) continue;
    const usable = provider.serverCanUse({ clientGroups: offer.groups, groups: cfg.groups, clientExtensions: offer.hello.extensions, options: cfg.options, suite });
    if (!usable) {
      if ((suite.kx === 'DHE' || suite.kx === 'DHE_PSK') && pickDhGroup({ clientGroups: offer.groups, groups: cfg.groups, options: cfg.options }) === undefined) noCommonFfdhe = true;
      continue;
    }
    if (suite.auth === 'PSK') return { suite, provider, cert: undefined };
    const cert = pickCertificate(certificates, suite.auth, schemes, offer.groups);
    if (cert) return { suite, provider, cert };
    // RFC 8422 §5.3: prefer a certificate on a curve the client listed (a multi-certificate server
    // then falls back to RSA, as OpenSSL does); only if no suite has one, ignore the curve.
    const anyCurve = curveFallback ? undefined : pickCertificate(certificates, suite.auth, schemes);
    if (anyCurve) curveFallback = { suite, provider, cert: anyCurve };
  }
  if (curveFallback) return curveFallback;
  // RFC 7919 §4: the client named FFDHE groups, none is acceptable, and no other suite works.
  if (noCommonFfdhe) throw new TLSError('insufficient_security', 'none of the FFDHE groups the client offered is acceptable, and no other cipher suite is in common (RFC 7919 §4)');
  throw new TLSError('handshake_failure', 'no cipher suite in common with the client (check ciphers, groups, signature algorithms and the certificate type)');
}

/**
 * Signature schemes we and the client both accept. As OpenSSL: our order when we honor our own
 * preferences (honorCipherOrder), else the client's; none when the client sent no signature_algorithms.
 */
function sharedSchemes(cfg: ServerConfig, offer: ClientOffer): number[] {
  const theirs = offer.signatureSchemes ?? [];
  return cfg.honorCipherOrder ? cfg.signatureSchemes.filter((s) => theirs.includes(s)) : theirs.filter((s) => cfg.signatureSchemes.includes(s));
}

function negotiateAlpn(cfg: ServerConfig, offer: ClientOffer): string | undefined {
  if (!cfg.selectAlpn) return pickAlpn(cfg.alpnProtocols, offer.alpn);
  if (!offer.alpn) return undefined;
  const offered = offer.alpn.join(', ');
  const p = cfg.selectAlpn(offer.servername, offer.alpn);
  if (p === undefined) throw new TLSError('no_application_protocol', `the ALPN callback accepted none of the client's protocols (${offered})`);
  // A protocol the client did not offer is a bug on our side (node's ERR_TLS_ALPN_CALLBACK_INVALID_RESULT).
  if (typeof p !== 'string' || !offer.alpn.includes(p))
    throw new TLSError('internal_error', `ALPN callback returned a value (${String(p)}) that did not match any of the client's offered protocols (${offered})`, 'local', { code: 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT' });
  return p;
}

/** RFC 7301 §3.2: our first preference the client offered; none in common → no_application_protocol. */
function pickAlpn(ours: string[], theirs: string[] | undefined): string | undefined {
  if (!theirs || ours.length === 0) return undefined;
  const p = ours.find((x) => theirs.includes(x));
  if (!p) throw new TLSError('no_application_protocol', `no ALPN protocol in common (client offered ${theirs.join(', ')})`);
  return p;
}
