// node:tls-shaped options → handshake configuration.
import { isIP } from 'node:net';
import { loadCertifiedKeys, parseAlpnOption, resolveSuites } from '../handshake/config.js';
import type { ClientConfig } from '../handshake/client.js';
import { decodeSessionState, type SessionState } from '../handshake/session-state.js';
import type { SelectedContext, ServerConfig } from '../handshake/server.js';
import type { TraceEvent } from '../handshake/engine.js';
import type { CheckServerIdentity } from '../handshake/peer-auth.js';
import type { ClientPskCallback, ServerPskCallback } from '../kx/psk.js';
import { minDhSize } from '../kx/dhe.js';
import { ffdheGroup } from '../crypto/dh.js';
import type { QkdOptions } from '../kx/qkd-options.js';
import type { ALPNCallback } from './alpn-callback.js';
import { caTrust, optionsContextParts, qtlsContextParts, type ContextParts, type SecureContext } from './secure-context.js';

export interface CommonOptions {
  cert?: string | Buffer | Array<string | Buffer>;
  key?: string | Buffer | Array<string | Buffer | { pem: string | Buffer }>;
  ca?: string | Buffer | Array<string | Buffer>;
  /** IANA or OpenSSL names, colon-separated. */
  ciphers?: string;
  /** Colon-separated group names (node: ecdhCurve). */
  ecdhCurve?: string;
  groups?: string;
  sigalgs?: string;
  ALPNProtocols?: string[] | Buffer[] | Uint8Array[] | Buffer | Uint8Array;
  rejectUnauthorized?: boolean;
  minVersion?: string;
  maxVersion?: string;
  /** Called for every record-level event (handshake messages, CCS, alerts, data); see lib/debug/trace.ts. */
  trace?: (e: TraceEvent) => void;
  /** Milliseconds allowed for the handshake (node's server default is 120 s). */
  handshakeTimeout?: number;
  /** QKD: our SAE ID and a client of our KME (enables the QKD and hybrid suites). */
  qkd?: QkdOptions;
  /**
   * A context from createSecureContext(): its cert, key, ca, ciphers, ecdhCurve/groups, sigalgs, dhparam,
   * minVersion/maxVersion and honorCipherOrder replace those options given alongside it (as node's connect();
   * node's createServer() ignores the option, qtls's takes it the same way). A node:tls SecureContext is refused.
   */
  secureContext?: SecureContext;
  /** Anything else is passed to key exchanges (pskCallback, qkd, dhparam...). */
  [other: string]: unknown;
}

export interface ClientOptions extends CommonOptions {
  /** RFC 4279: return the identity and key for the server's hint (may be async). Enables PSK suites. */
  pskCallback?: ClientPskCallback;
  /** Accept DHE groups that are neither RFC 7919 nor RFC 3526 groups (default false). */
  allowCustomDHGroups?: boolean;
  /** Smallest DH prime accepted, in bits (default 2048), for every group; smaller RFC 7919 groups are not offered. */
  minDHSize?: number;
  host?: string;
  port?: number;
  path?: string;
  socket?: import('node:stream').Duplex;
  servername?: string;
  /** As node:tls: called with the detailed peer certificate (getPeerCertificate(true)) after the chain verified. */
  checkServerIdentity?: CheckServerIdentity;
  /** A session to resume: the Buffer of an earlier 'session' event or getSession(). */
  session?: Buffer | Uint8Array;
  /** Ask for RFC 5077 session tickets (default true). */
  sessionTickets?: boolean;
  /**
   * Ask the server for a stapled OCSP response (RFC 6066 §8); it arrives as the 'OCSPResponse' event (a
   * Buffer, or null when the server sent none) before 'secureConnect'. qtls does not check it.
   */
  requestOCSP?: boolean;
}

export interface ServerOptions extends CommonOptions {
  /** RFC 4279: return the key for a client's identity, or null for unknown (may be async). Enables PSK suites. */
  pskCallback?: ServerPskCallback;
  /** RFC 4279 psk_identity_hint sent in ServerKeyExchange. */
  pskIdentityHint?: string | ((socket: unknown) => string | Promise<string>);
  /** Seconds a session stays resumable (node: sessionTimeout, default 300). */
  sessionTimeout?: number;
  /** 48·N bytes of RFC 5077 ticket keys (node format); the first seals, all open. Random if absent. */
  ticketKeys?: Buffer;
  /** Issue and accept session tickets (default true). */
  sessionTickets?: boolean;
  /** PKCS#3 DH parameters (PEM) for DHE when the client names no RFC 7919 group. */
  dhparam?: string | Buffer;
  requestCert?: boolean;
  honorCipherOrder?: boolean;
  /** Refuse clients without RFC 7627 extended master secret. */
  requireExtendedMasterSecret?: boolean;
  /** Chooses among the client's ALPN protocols (node ≥ 20); excludes ALPNProtocols. */
  ALPNCallback?: ALPNCallback;
  /**
   * Answers with a createSecureContext() context or the `{ cert, key, ca }` options (undefined: the
   * default context). As node, the context's certificate is served and, with requestCert, the client
   * certificate is verified against the context's `ca` (its default store without one), which the
   * CertificateRequest names. Not called on resumption (as node).
   */
  SNICallback?: (servername: string, cb: (err: Error | null, ctx?: SecureContext | { cert?: CommonOptions['cert']; key?: CommonOptions['key']; ca?: CommonOptions['ca'] } | null) => void) => void;
}

/** node:tls's default session lifetime. */
const DEFAULT_SESSION_TIMEOUT = 300;

/**
 * The options key exchanges read (pskCallback, qkd, minDHSize, dhparam…): the connection's, with the
 * context's `dhparam` when a secureContext supplies it.
 */
function kxOptions(options: CommonOptions, ctx: ContextParts): Readonly<Record<string, unknown>> {
  return options.secureContext ? { ...options, dhparam: ctx.dhparam } : options;
}

/** The client configuration, minus what each connection supplies (its abort signal and key-log sink). */
export function clientConfig(options: ClientOptions): Omit<ClientConfig, 'signal' | 'onKeylog'> {
  const ctx = optionsContextParts(options);
  const host = options.host ?? 'localhost';
  const servername = options.servername ?? (isIP(host) ? undefined : host);
  // Don't offer an RFC 7919 group we would refuse when the server picks it (minDHSize).
  const min = minDhSize(options as Record<string, unknown>);
  const groups = ctx.groups.filter((g) => (ffdheGroup(g)?.bits ?? Infinity) >= min);
  return {
    suites: resolveSuites(ctx.ciphers, options),
    groups,
    signatureSchemes: ctx.signatureSchemes,
    alpnProtocols: parseAlpnOption(options.ALPNProtocols),
    servername: servername && !isIP(servername) ? servername : undefined,
    verifyHost: options.servername ?? host,
    trustAnchors: ctx.trustAnchors,
    rejectUnauthorized: options.rejectUnauthorized !== false,
    checkServerIdentity: options.checkServerIdentity,
    certificates: ctx.certificates,
    options: kxOptions(options, ctx),
    session: decodeClientSession(options.session),
    tickets: options.sessionTickets !== false,
    // node tests the option for truthiness.
    requestOCSP: !!options.requestOCSP,
  };
}

/** A `session` Buffer from an earlier 'session' event; an unreadable one is ignored (full handshake). */
function decodeClientSession(session: unknown): SessionState | undefined {
  if (!(session instanceof Uint8Array) || session.length === 0) return undefined;
  try {
    return decodeSessionState(session);
  } catch {
    return undefined;
  }
}

/** The parts of a server configuration that are computed once per server, not per connection. */
export function serverConfigTemplate(options: ServerOptions): Omit<ServerConfig, 'signal' | 'onKeylog'> {
  const ctx = optionsContextParts(options);
  return {
    suites: resolveSuites(ctx.ciphers, options),
    groups: ctx.groups,
    signatureSchemes: ctx.signatureSchemes,
    alpnProtocols: parseAlpnOption(options.ALPNProtocols),
    certificates: ctx.certificates,
    // node:tls's default is true (the server's preference wins).
    honorCipherOrder: ctx.honorCipherOrder !== false,
    requireExtendedMasterSecret: options.requireExtendedMasterSecret === true,
    requestCert: options.requestCert === true,
    // node: rejectUnauthorized on a server only matters with requestCert; default true.
    rejectUnauthorized: options.rejectUnauthorized !== false,
    trustAnchors: ctx.trustAnchors,
    nameTrustAnchors: ctx.nameTrustAnchors,
    // Built once per server (and per setSecureContext()), so a `dhparam` is parsed once per server.
    options: kxOptions(options, ctx),
    selectCertificates: options.SNICallback ? sniSelector(options.SNICallback) : undefined,
    sessionLifetime: options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT,
  };
}

/**
 * node's SNICallback: the context it answers with supplies the certificates and the trust for client
 * certificates (its `ca`, else the default store). qtls also takes `{ cert, key, ca }` options, read as
 * createSecureContext() would read them (node refuses anything but a SecureContext).
 */
function sniSelector(cb: NonNullable<ServerOptions['SNICallback']>): (name: string | undefined) => Promise<SelectedContext | undefined> {
  return (name) =>
    name === undefined
      ? Promise.resolve(undefined)
      : new Promise((resolve, reject) =>
          cb(name, (err, ctx) => {
            if (err) return reject(err);
            if (ctx === undefined || ctx === null) return resolve(undefined);
            // A qtls context was parsed when it was made: nothing is parsed per handshake.
            const parts = qtlsContextParts(ctx);
            if (parts) {
              if (parts.certificates.length === 0) return reject(new Error(`the SNICallback's SecureContext for "${name}" has no certificate`));
              return resolve(selectedContext(parts));
            }
            // node code passes a node:tls SecureContext here; qtls can't read one, and silently serving the
            // default certificate instead would be worse than a clear error.
            const plain = ctx as { cert?: unknown; key?: unknown; ca?: CommonOptions['ca'] };
            if (!plain.cert)
              return reject(new TypeError("SNICallback must call back with { cert, key } or a qtls createSecureContext() context (a node:tls SecureContext cannot be used by qtls)"));
            try {
              resolve({ certificates: loadCertifiedKeys(plain.cert, plain.key), ...caTrust(plain.ca, true) });
            } catch (e) {
              reject(e as Error);
            }
          }),
        );
}

/** The parts of a context that apply when SNI selects it (node: UseSNIContext and SetCACerts). */
export function selectedContext(parts: ContextParts): SelectedContext {
  return { certificates: parts.certificates, trustAnchors: parts.trustAnchors, nameTrustAnchors: parts.nameTrustAnchors };
}
