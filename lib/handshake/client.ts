// The client side of the TLS 1.2 handshake (RFC 5246 §7.3 Figure 1), as straight-line async code:
// the position in this function is the state.
import { TLSError } from '../alert.js';
import { keylogLine } from '../debug/keylog.js';
import { timingSafeEqual } from '../crypto/ct.js';
import { randomBytes } from '../crypto/random.js';
import { algorithmFitsKey, schemeName, schemeToAlgorithm, signData, verifySignature } from '../crypto/signature.js';
import type { KxContext } from '../kx/key-exchange.js';
import '../kx/index.js';
import { keyExchangeProvider } from '../kx/registry.js';
import type { Certificate } from '../pki/x509.js';
import { parseCertificate } from '../pki/x509.js';
import { TLS10, TLS12 } from '../record/content-type.js';
import { suiteById, type CipherSuite } from '../suites.js';
import { concat, equalBytes } from '../wire/bytes.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { pickCertificate, type CertifiedKey } from './config.js';
import type { Engine } from './engine.js';
import {
  EC_POINT_FORMATS_UNCOMPRESSED, EMPTY_RENEGOTIATION_INFO, ExtensionType, OCSP_STATUS_REQUEST, encodeAlpn, encodeServerName,
  encodeU16List, parseAlpn, parseEcPointFormats, parseRenegotiationInfo, requireEmpty,
} from './extensions.js';
import { HandshakeType } from './handshake-type.js';
import { computeMasterSecret, deriveConnectionKeys, verifyData } from './key-schedule.js';
import { encodeCertificateMessage, parseCertificateMessage } from './messages/certificate.js';
import { ClientCertificateType, parseCertificateRequest, type CertificateRequest } from './messages/certificate-request.js';
import { parseCertificateStatus } from './messages/certificate-status.js';
import { encodeClientHello } from './messages/client-hello.js';
import { readDigitallySigned, writeDigitallySigned } from './messages/digitally-signed.js';
import { parseFinished } from './messages/finished.js';
import { parseServerHello, type ServerHello } from './messages/server-hello.js';
import { authFailure, authenticatePeer, parsePeerCertificates, type CheckServerIdentity } from './peer-auth.js';
import type { HandshakeResult } from './session.js';
import { parseNewSessionTicket } from './messages/new-session-ticket.js';
import { isExpired, type SessionState } from './session-state.js';

export interface ClientConfig {
  suites: CipherSuite[];
  groups: number[];
  signatureSchemes: number[];
  alpnProtocols: string[];
  /** SNI to send (omitted for IP addresses, RFC 6066 §3). */
  servername: string | undefined;
  /** Host to check the certificate against. */
  verifyHost: string | undefined;
  trustAnchors: () => Certificate[];
  rejectUnauthorized: boolean;
  checkServerIdentity?: CheckServerIdentity;
  /** Client certificates, to answer a CertificateRequest. */
  certificates: CertifiedKey[];
  /** Raw user options, handed to key exchanges. */
  options: Readonly<Record<string, unknown>>;
  /** The socket, handed to user callbacks (pskCallback). */
  socket?: unknown;
  signal: AbortSignal;
  onKeylog?: (line: string) => void;
  /** A session to resume (node: the `session` option). */
  session?: SessionState;
  /** Ask for RFC 5077 tickets (default true). */
  tickets: boolean;
  /** Ask for the server's OCSP response (RFC 6066 §8 status_request; node: requestOCSP). */
  requestOCSP: boolean;
  /**
   * With requestOCSP, called once per full handshake after the server's first flight (as OpenSSL's
   * status callback, so before our Finished): the stapled DER OCSP response, or null when none came.
   * Not validated here: the application must check it.
   */
  onOCSPResponse?: (response: Uint8Array | null) => void;
}

export async function clientHandshake(engine: Engine, cfg: ClientConfig): Promise<HandshakeResult> {
  const offered = cfg.suites.filter((s) => keyExchangeProvider(s.kx)?.clientCanOffer(cfg.options));
  if (offered.length === 0) throw new TLSError('internal_error', 'no cipher suite can be offered with this configuration');
  const clientRandom = randomBytes(32);
  // A session is offered only if its suite is still one we offer and it has not expired.
  const session = cfg.session && !isExpired(cfg.session) && offered.some((s) => s.id === cfg.session!.suiteId) ? cfg.session : undefined;
  // RFC 5077 §3.4: with a ticket, send a fresh session ID so the server's echo tells us it resumed.
  const offeredSessionId = session ? (session.ticket.length ? randomBytes(32) : session.sessionId) : new Uint8Array(0);

  // --- ClientHello (§7.4.1.2) ---
  const exts: Array<[number, Uint8Array]> = [];
  if (cfg.servername) exts.push([ExtensionType.server_name, encodeServerName(cfg.servername)]);
  if (cfg.requestOCSP) exts.push([ExtensionType.status_request, OCSP_STATUS_REQUEST]);
  exts.push([ExtensionType.extended_master_secret, new Uint8Array(0)]);
  exts.push([ExtensionType.renegotiation_info, EMPTY_RENEGOTIATION_INFO]);
  exts.push([ExtensionType.supported_groups, encodeU16List(cfg.groups)]);
  exts.push([ExtensionType.ec_point_formats, EC_POINT_FORMATS_UNCOMPRESSED]);
  exts.push([ExtensionType.signature_algorithms, encodeU16List(cfg.signatureSchemes)]);
  if (cfg.alpnProtocols.length) exts.push([ExtensionType.application_layer_protocol_negotiation, encodeAlpn(cfg.alpnProtocols)]);
  // Extensions contributed by the offered exchanges (e.g. QKD's qkd_sae), once each.
  for (const name of new Set(offered.map((s) => s.kx))) {
    for (const [type, data] of keyExchangeProvider(name)?.clientHelloExtensions?.(cfg.options) ?? []) {
      if (!exts.some(([t]) => t === type)) exts.push([type, data]);
    }
  }
  if (cfg.tickets || session?.ticket.length) exts.push([ExtensionType.session_ticket, session?.ticket ?? new Uint8Array(0)]);
  const sentExtensions = new Map(exts);
  // Many servers expect the first record to say TLS 1.0 (RFC 5246 Appendix E.1).
  engine.records.writeVersion = TLS10;
  engine.sendHandshake(
    HandshakeType.client_hello,
    encodeClientHello({
      version: TLS12,
      random: clientRandom,
      sessionId: offeredSessionId,
      cipherSuites: offered.map((s) => s.id),
      compressionMethods: [0],
      extensions: exts,
    }),
  );
  engine.records.writeVersion = TLS12;

  // --- ServerHello (§7.4.1.3) ---
  const sh = parseServerHello((await engine.expect(HandshakeType.server_hello)).body);
  if (sh.version !== TLS12) throw new TLSError('protocol_version', `server chose version 0x${sh.version.toString(16)}; only TLS 1.2 (0x0303) is supported`);
  const suite = offered.find((s) => s.id === sh.cipherSuite);
  if (!suite) throw new TLSError('illegal_parameter', `server chose cipher suite 0x${sh.cipherSuite.toString(16).padStart(4, '0')}${suiteById(sh.cipherSuite) ? ` (${suiteById(sh.cipherSuite)!.name})` : ''}, which we did not offer`);
  const negotiated = checkServerExtensions(sh, sentExtensions, cfg.alpnProtocols);
  engine.records.setNegotiatedVersion(TLS12);
  engine.transcript.setHash(suite.prf);
  const ticketExpected = sh.extensions.has(ExtensionType.session_ticket);
  if (ticketExpected && sh.extensions.get(ExtensionType.session_ticket)!.length !== 0) throw new TLSError('decode_error', 'session_ticket in ServerHello must be empty');

  if (session && offeredSessionId.length > 0 && equalBytes(sh.sessionId, offeredSessionId)) {
    return resumeSession(engine, cfg, session, suite, clientRandom, sh, negotiated, ticketExpected);
  }

  const provider = keyExchangeProvider(suite.kx)!;
  const kx = provider.create();
  const info: Record<string, unknown> = {};
  const ctx: KxContext = {
    role: 'client', suite, clientRandom, serverRandom: sh.random, clientGroups: cfg.groups, groups: cfg.groups,
    clientExtensions: sentExtensions, servername: cfg.servername, options: cfg.options, socket: cfg.socket, signal: cfg.signal, info,
  };

  // --- server Certificate (§7.4.2) ---
  const certAuth = suite.auth === 'ECDSA' || suite.auth === 'RSA';
  let peerCertificates: Certificate[] = [];
  let auth = { authorized: false, authorizationError: undefined as Error | undefined, verifiedChain: undefined as Certificate[] | undefined };
  if (certAuth) {
    const certs = parseCertificateMessage((await engine.expect(HandshakeType.certificate)).body);
    if (certs.length === 0) throw new TLSError('decode_error', 'server sent an empty Certificate message');
    peerCertificates = parsePeerCertificates(certs, 'server');
    const leaf = peerCertificates[0]!;
    if (!leaf.publicKey || !keyFitsAuthPublic(leaf, suite)) throw new TLSError('unsupported_certificate', `server certificate key (${leaf.publicKey?.type ?? 'unsupported'}) cannot authenticate ${suite.name}`);
    const res = authenticatePeer(peerCertificates, {
      trustAnchors: cfg.trustAnchors(), purpose: 'server', host: cfg.verifyHost, checkServerIdentity: cfg.checkServerIdentity,
    });
    if (!res.authorized && cfg.rejectUnauthorized) throw authFailure(res, 'server');
    auth = res;
  }

  // --- CertificateStatus (RFC 6066 §8): only after a status_request in ServerHello (else, like any message
  // out of place, unexpected_message), right after Certificate, and optional even then ---
  const statusExpected = certAuth && negotiated.statusRequest;
  let msg = await engine.expect(
    ...(statusExpected ? [HandshakeType.certificate_status] : []), HandshakeType.server_key_exchange, HandshakeType.certificate_request, HandshakeType.server_hello_done,
  );
  let ocspResponse: Uint8Array | null = null;
  if (msg.type === HandshakeType.certificate_status) {
    ocspResponse = parseCertificateStatus(msg.body);
    msg = await engine.expect(HandshakeType.server_key_exchange, HandshakeType.certificate_request, HandshakeType.server_hello_done);
  }

  // --- ServerKeyExchange (§7.4.3), optional for some exchanges ---
  let peerSignatureScheme: number | undefined;
  if (msg.type === HandshakeType.server_key_exchange) {
    const r = new Reader(msg.body, 'ServerKeyExchange');
    kx.readServerParams(r);
    const params = msg.body.subarray(0, r.offset);
    if (certAuth) {
      const ds = readDigitallySigned(r);
      r.end();
      peerSignatureScheme = ds.scheme;
      verifyServerSignature(ds.scheme, ds.signature, peerCertificates[0]!, cfg.signatureSchemes, concat(clientRandom, sh.random, params));
    } else {
      r.end();
    }
    await kx.processServerParams(ctx, params);
    msg = await engine.expect(HandshakeType.certificate_request, HandshakeType.server_hello_done);
  } else {
    if (!provider.serverKeyExchangeOptional) throw new TLSError('unexpected_message', `${suite.name} requires a ServerKeyExchange`);
    await kx.processServerParams(ctx, undefined);
  }

  // --- CertificateRequest (§7.4.4) ---
  let certRequest: CertificateRequest | undefined;
  if (msg.type === HandshakeType.certificate_request) {
    if (!certAuth) throw new TLSError('unexpected_message', 'CertificateRequest on a suite without server certificate');
    certRequest = parseCertificateRequest(msg.body);
    msg = await engine.expect(HandshakeType.server_hello_done);
  }
  // --- ServerHelloDone (§7.4.5) ---
  if (msg.body.length !== 0) throw new TLSError('decode_error', 'ServerHelloDone must be empty');
  // node's 'OCSPResponse' comes here, where OpenSSL calls its status callback: after the server's flight.
  if (cfg.requestOCSP) cfg.onOCSPResponse?.(ocspResponse);

  // --- client Certificate (§7.4.6) ---
  let clientCert: { cert: CertifiedKey; scheme: number } | undefined;
  if (certRequest) {
    // §7.4.6: the certificate must be of a type the server listed in certificate_types.
    const types = certRequest.certificateTypes;
    const candidates = preferNamedAuthorities(cfg.certificates, certRequest.authorities);
    clientCert =
      (types.includes(ClientCertificateType.ecdsa_sign) ? pickCertificate(candidates, 'ECDSA', certRequest.signatureSchemes) : undefined) ??
      (types.includes(ClientCertificateType.rsa_sign) ? pickCertificate(candidates, 'RSA', certRequest.signatureSchemes) : undefined);
    engine.sendHandshake(HandshakeType.certificate, encodeCertificateMessage(clientCert ? clientCert.cert.chain : []));
  }

  // --- ClientKeyExchange (§7.4.7) ---
  const { message: ckeBody, premaster } = await kx.clientKeyExchange(ctx);
  engine.sendHandshake(HandshakeType.client_key_exchange, ckeBody);
  const ems = negotiated.ems;
  const master = computeMasterSecret(suite, premaster, clientRandom, sh.random, ems ? engine.transcript.hash() : undefined);
  premaster.fill(0);
  cfg.onKeylog?.(keylogLine(clientRandom, master));

  // --- CertificateVerify (§7.4.8) ---
  if (clientCert) {
    const alg = schemeToAlgorithm(clientCert.scheme)!;
    const sig = signData(alg, clientCert.cert.key, engine.transcript.bytes());
    engine.sendHandshake(HandshakeType.certificate_verify, writeDigitallySigned(new Writer(), { scheme: clientCert.scheme, signature: sig }).finish());
  }

  // --- ChangeCipherSpec + Finished (§7.1, §7.4.9) ---
  const keys = deriveConnectionKeys(suite, master, clientRandom, sh.random);
  engine.sendChangeCipherSpec(keys.client);
  engine.sendHandshake(HandshakeType.finished, verifyData(suite, master, 'client', engine.transcript.hash()));
  const ticket = ticketExpected ? parseNewSessionTicket((await engine.expect(HandshakeType.new_session_ticket)).body) : undefined;
  await engine.expectChangeCipherSpec(keys.server);
  const expected = verifyData(suite, master, 'server', engine.transcript.hash());
  const got = parseFinished((await engine.expect(HandshakeType.finished)).body);
  if (!timingSafeEqual(expected, got)) throw new TLSError('decrypt_error', 'server Finished verify_data does not match (transcript or key mismatch)');

  engine.transcript.release();
  return {
    suite, version: 'TLSv1.2', sessionId: sh.sessionId, masterSecret: master, extendedMasterSecret: ems, clientRandom,
    serverRandom: sh.random, alpnProtocol: negotiated.alpn, servername: cfg.servername, peerCertificates,
    verifiedChain: auth.verifiedChain, authorized: auth.authorized, authorizationError: auth.authorizationError,
    kxInfo: info, peerSignatureScheme, resumed: false, ticket, localCertificate: clientCert?.cert.leaf,
    // OpenSSL's shared list on a client: the server's CertificateRequest order, filtered by ours.
    sharedSignatureSchemes: certRequest?.signatureSchemes.filter((s) => cfg.signatureSchemes.includes(s)) ?? [],
  };
}

/** RFC 5246 §7.3 Figure 2 from the client: [NewSessionTicket], CCS, Finished from the server, then ours. */
async function resumeSession(
  engine: Engine, cfg: ClientConfig, session: SessionState, suite: CipherSuite, clientRandom: Uint8Array, sh: ServerHello,
  negotiated: { ems: boolean; alpn: string | false }, ticketExpected: boolean,
): Promise<HandshakeResult> {
  if (sh.cipherSuite !== session.suiteId) throw new TLSError('illegal_parameter', 'server resumed the session with a different cipher suite');
  // RFC 7627 §5.3: the resumed handshake must agree with the original session's EMS use.
  if (session.extendedMasterSecret !== negotiated.ems) throw new TLSError('handshake_failure', 'extended_master_secret use differs from the resumed session (RFC 7627 §5.3)');
  const master = session.masterSecret;
  cfg.onKeylog?.(keylogLine(clientRandom, master));
  const ticket = ticketExpected ? parseNewSessionTicket((await engine.expect(HandshakeType.new_session_ticket)).body) : undefined;
  const keys = deriveConnectionKeys(suite, master, clientRandom, sh.random);
  await engine.expectChangeCipherSpec(keys.server);
  const expected = verifyData(suite, master, 'server', engine.transcript.hash());
  const got = parseFinished((await engine.expect(HandshakeType.finished)).body);
  if (!timingSafeEqual(expected, got)) throw new TLSError('decrypt_error', 'server Finished verify_data does not match on resumption');
  engine.sendChangeCipherSpec(keys.client);
  engine.sendHandshake(HandshakeType.finished, verifyData(suite, master, 'client', engine.transcript.hash()));
  engine.transcript.release();

  // The server proved it holds the session's master secret; re-check the stored chain against today's policy.
  const peerCertificates = session.peerCertificates.map((d) => parseCertificate(d));
  const auth = peerCertificates.length
    ? authenticatePeer(peerCertificates, { trustAnchors: cfg.trustAnchors(), purpose: 'server', host: cfg.verifyHost, checkServerIdentity: cfg.checkServerIdentity })
    : { authorized: false, authorizationError: undefined, verifiedChain: undefined };
  if (!auth.authorized && cfg.rejectUnauthorized && peerCertificates.length) throw authFailure(auth, 'server');
  return {
    suite, version: 'TLSv1.2', sessionId: sh.sessionId, masterSecret: master, extendedMasterSecret: session.extendedMasterSecret,
    clientRandom, serverRandom: sh.random, alpnProtocol: negotiated.alpn, servername: cfg.servername, peerCertificates,
    verifiedChain: auth.verifiedChain, authorized: auth.authorized, authorizationError: auth.authorizationError,
    kxInfo: { resumed: true }, peerSignatureScheme: undefined, resumed: true,
    ticket: ticket ?? (session.ticket.length ? { ticket: session.ticket, lifetimeHint: session.lifetime } : undefined),
  };
}

/**
 * §7.4.4 certificate_authorities: certificates whose chain was issued by (or contains) a CA the server
 * named come first; the others stay as a fallback, as OpenSSL does when nothing matches.
 */
function preferNamedAuthorities(certs: CertifiedKey[], authorities: Uint8Array[]): CertifiedKey[] {
  if (authorities.length === 0 || certs.length < 2) return certs;
  const named = (c: CertifiedKey) =>
    c.chain.some((der) => {
      try {
        const x = parseCertificate(der);
        return authorities.some((a) => equalBytes(a, x.issuer.der) || equalBytes(a, x.subject.der));
      } catch {
        return false;
      }
    });
  return [...certs.filter(named), ...certs.filter((c) => !named(c))];
}

function keyFitsAuthPublic(leaf: Certificate, suite: CipherSuite): boolean {
  const t = leaf.publicKey?.type;
  return suite.auth === 'ECDSA' ? t === 'ec' || t === 'ed25519' : suite.auth === 'RSA' ? t === 'rsa' : false;
}

/** RFC 5246 §7.4.3: the signature covers client_random + server_random + params. */
function verifyServerSignature(scheme: number, signature: Uint8Array, leaf: Certificate, offered: number[], signed: Uint8Array): void {
  // §7.4.1.4.1: the server must use one of the algorithms we offered.
  if (!offered.includes(scheme)) throw new TLSError('illegal_parameter', `server signed with ${schemeName(scheme)}, which we did not offer`);
  const alg = schemeToAlgorithm(scheme);
  const key = leaf.publicKey!;
  if (!alg || !algorithmFitsKey(alg, key)) throw new TLSError('illegal_parameter', `signature scheme ${schemeName(scheme)} does not match the certificate's ${key.type} key`);
  if (!verifySignature(alg, key, signed, signature)) throw new TLSError('decrypt_error', `ServerKeyExchange signature (${schemeName(scheme)}) does not verify with the server certificate`);
}

/** §7.4.1.4: a server may only answer extensions we sent; check the ones that carry meaning. */
function checkServerExtensions(sh: ServerHello, sent: Map<number, Uint8Array>, alpnOffered: string[]): { ems: boolean; alpn: string | false; statusRequest: boolean } {
  for (const type of sh.extensions.keys()) {
    if (!sent.has(type)) throw new TLSError('unsupported_extension', `server sent extension ${type}, which we did not offer`);
  }
  const ri = sh.extensions.get(ExtensionType.renegotiation_info);
  // RFC 5746 §3.4: on an initial handshake the server's renegotiated_connection must be empty.
  if (ri && parseRenegotiationInfo(ri).length !== 0) throw new TLSError('handshake_failure', 'non-empty renegotiation_info on the initial handshake');
  const emsExt = sh.extensions.get(ExtensionType.extended_master_secret);
  if (emsExt) requireEmpty(emsExt, 'extended_master_secret');
  const pf = sh.extensions.get(ExtensionType.ec_point_formats);
  if (pf && !parseEcPointFormats(pf).includes(0)) throw new TLSError('illegal_parameter', 'server does not accept uncompressed points');
  let alpn: string | false = false;
  const a = sh.extensions.get(ExtensionType.application_layer_protocol_negotiation);
  if (a) {
    const list = parseAlpn(a);
    // RFC 7301 §3.1: exactly one protocol, one we offered.
    if (list.length !== 1 || !alpnOffered.includes(list[0]!)) throw new TLSError('illegal_parameter', `server selected ALPN protocol ${JSON.stringify(list)}, which we did not offer`);
    alpn = list[0]!;
  }
  const sni = sh.extensions.get(ExtensionType.server_name);
  if (sni && sni.length !== 0) throw new TLSError('decode_error', 'server_name in ServerHello must be empty');
  // RFC 6066 §8: the server's status_request is empty; it announces a CertificateStatus.
  const status = sh.extensions.get(ExtensionType.status_request);
  if (status) requireEmpty(status, 'status_request');
  return { ems: emsExt !== undefined, alpn, statusRequest: status !== undefined };
}
