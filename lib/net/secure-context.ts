// createSecureContext() and the `secureContext` option: the node:tls context options (certificates and
// keys, trust anchors, suites, groups, signature algorithms, DH parameters) parsed and validated once,
// then shared by any number of connections, servers, SNICallback answers and addContext() entries.
import { checkVersions, loadCertifiedKeys, parseGroups, parseSignatureSchemes, resolveSuites, type CertifiedKey } from '../handshake/config.js';
import { hash } from '../crypto/hash.js';
import { parseDhParams } from '../kx/dh-params.js';
import { loadCertificates, systemCertificates } from '../pki/trust-store.js';
import type { Certificate } from '../pki/x509.js';
import { toHex } from '../wire/bytes.js';
import { validateObject } from './validate.js';
import type { CommonOptions } from './options.js';

/**
 * What createSecureContext() reads: node's createSecureContext options that qtls implements (plus
 * `groups`, qtls's other name for `ecdhCurve`). node's other ones (pfx, passphrase, crl, secureOptions…)
 * are accepted and ignored, as createServer() ignores them.
 */
export interface SecureContextOptions extends Pick<CommonOptions, 'cert' | 'key' | 'ciphers' | 'ecdhCurve' | 'groups' | 'sigalgs'> {
  /** Trust anchors; without it the system store is used (as node's bundled roots). */
  ca?: CommonOptions['ca'];
  /** PKCS#3 DH parameters (PEM or DER) for DHE when the client names no RFC 7919 group. */
  dhparam?: string | Buffer;
  minVersion?: string;
  maxVersion?: string;
  /** Server side: prefer our suite order (default true, as node's servers). */
  honorCipherOrder?: boolean;
  [other: string]: unknown;
}

/**
 * The options a secure context stands for: with a `secureContext`, the same options given alongside it
 * are ignored (node: "If not provided, one is created by passing the entire options object to
 * tls.createSecureContext()"). Everything else (servername, rejectUnauthorized, ALPNProtocols,
 * requestCert, pskCallback, qkd, minDHSize, ticketKeys, sessionTimeout…) stays an option of the
 * connection or server.
 */
export const CONTEXT_OPTION_KEYS = [
  'cert', 'key', 'ca', 'ciphers', 'ecdhCurve', 'groups', 'sigalgs', 'dhparam', 'minVersion', 'maxVersion', 'honorCipherOrder',
] as const;

/** A context's parsed contents, as the configuration builders use them. */
export interface ContextParts {
  certificates: CertifiedKey[];
  /** The `ciphers` string (validated); resolved per configuration, since PSK/QKD defaults depend on it. */
  ciphers: string | undefined;
  groups: number[];
  signatureSchemes: number[];
  trustAnchors: () => Certificate[];
  /** trustAnchors come from a `ca` option, whose names a server lists in CertificateRequest (node names none of its default store). */
  nameTrustAnchors: boolean;
  /** The `dhparam` option as given (validated in createSecureContext()); key exchanges read it. */
  dhparam: unknown;
  honorCipherOrder: boolean | undefined;
}

const parts = new WeakMap<object, ContextParts>();
let constructing = false;

/**
 * A secure context made by createSecureContext(): usable as `secureContext` of connect() and
 * createServer()/setSecureContext(), as an SNICallback's answer and as addContext()'s context. Opaque,
 * like node's; `context` is there for code written for node (`cb(null, ctx.context)`).
 */
export class SecureContext {
  constructor() {
    if (!constructing) throw new TypeError('use createSecureContext() to make a SecureContext');
  }

  /** node exposes its native context here; qtls has none, so this is the context itself. */
  get context(): SecureContext {
    return this;
  }
}

/** node's SecureContext (node:tls createSecureContext()) and its native `context`, which qtls cannot read. */
function isNodeSecureContext(value: object): boolean {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return name === 'SecureContext' || 'context' in value;
}

const contextError = (message: string) => Object.assign(new TypeError(message), { code: 'ERR_TLS_INVALID_CONTEXT' });

/**
 * The parts of a `secureContext` option: a qtls SecureContext, or a clear error for anything else (node
 * throws ERR_TLS_INVALID_CONTEXT "context must be a SecureContext" for a non-context).
 */
export function secureContextParts(value: unknown, what = 'secureContext'): ContextParts {
  const p = typeof value === 'object' && value !== null ? parts.get(value) : undefined;
  if (p) return p;
  if (typeof value === 'object' && value !== null && isNodeSecureContext(value))
    throw contextError(`${what}: a node:tls SecureContext cannot be used by qtls (its keys are not readable); make it with qtls's createSecureContext()`);
  throw contextError(`${what} must be a SecureContext (qtls's createSecureContext())`);
}

/** The parts of a qtls SecureContext, or undefined for any other value. */
export function qtlsContextParts(value: unknown): ContextParts | undefined {
  return typeof value === 'object' && value !== null ? parts.get(value) : undefined;
}

/** Whether a value is a node:tls SecureContext (or its native `context`) rather than qtls's own. */
export function isForeignSecureContext(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !parts.has(value) && isNodeSecureContext(value);
}

/** Parsed `ca` options by content, so contexts (and connections) with the same CAs share one parse. */
const parsedCa = new Map<string, Certificate[]>();
const MAX_PARSED_CA = 16;

function loadCa(ca: NonNullable<SecureContextOptions['ca']>): Certificate[] {
  const items = Array.isArray(ca) ? ca : [ca];
  const key = items.map((i) => toHex(hash('sha256', typeof i === 'string' ? Buffer.from(i) : i))).join(':');
  let certs = parsedCa.get(key);
  if (!certs) {
    certs = loadCertificates(ca);
    parsedCa.set(key, certs);
    while (parsedCa.size > MAX_PARSED_CA) parsedCa.delete(parsedCa.keys().next().value!);
  }
  return certs;
}

/**
 * The trust of a `ca` option: its certificates, named in a server's CertificateRequest; without one the
 * system store (as node's bundled roots), named nowhere. `eager` loads `ca` now, so bad input throws here.
 */
export function caTrust(ca: SecureContextOptions['ca'], eager: boolean): Pick<ContextParts, 'trustAnchors' | 'nameTrustAnchors'> {
  // The system store is re-read only when SSL_CERT_FILE changes (trust-store.ts caches it).
  if (ca === undefined) return { trustAnchors: systemCertificates, nameTrustAnchors: false };
  let anchors = eager ? loadCa(ca) : undefined;
  return { trustAnchors: () => (anchors ??= loadCa(ca)), nameTrustAnchors: true };
}

/**
 * Parse the context options. `eager` (createSecureContext) also loads `ca` and `dhparam` now, so bad
 * input throws here; connect()/createServer() without a secureContext keep loading those on first use.
 */
export function contextParts(options: SecureContextOptions, eager: boolean): ContextParts {
  checkVersions(options);
  const certificates = loadCertifiedKeys(options.cert, options.key);
  // Validated without the connection's pskCallback/qkd: those only add suites to DEFAULT/ALL/HIGH.
  if (eager && options.ciphers !== undefined) resolveSuites(options.ciphers);
  const groups = parseGroups(options.groups ?? options.ecdhCurve);
  const signatureSchemes = parseSignatureSchemes(options.sigalgs);
  const trust = caTrust(options.ca, eager);
  if (eager && options.dhparam !== undefined && options.dhparam !== 'auto') parseDhParams(options.dhparam);
  return {
    certificates,
    ciphers: options.ciphers,
    groups,
    signatureSchemes,
    ...trust,
    dhparam: options.dhparam,
    honorCipherOrder: options.honorCipherOrder,
  };
}

/**
 * node's tls.createSecureContext(options): everything is parsed and checked now and throws the errors
 * createServer() would (a key that matches no certificate, an unknown suite, group or signature
 * algorithm, a TLS version other than 1.2, unreadable PEM) — and, unlike createServer(), an unreadable
 * `ca` or `dhparam` too, which createServer() only reads on first use.
 */
export function createSecureContext(options?: SecureContextOptions): SecureContext {
  // node: a missing or falsy options argument is an empty object; anything else must be an object.
  const opts = options || {};
  validateObject(opts, 'options');
  const p = contextParts(opts, true);
  // Shared by every connection that uses the context: nothing may change it.
  Object.freeze(p.certificates);
  Object.freeze(p.groups);
  Object.freeze(p.signatureSchemes);
  Object.freeze(p);
  constructing = true;
  let ctx: SecureContext;
  try {
    ctx = new SecureContext();
  } finally {
    constructing = false;
  }
  parts.set(ctx, p);
  return ctx;
}

/**
 * The context parts of connect()/createServer() options: the `secureContext` option's when given (the
 * context options alongside it are ignored, as by node), else parsed from the options themselves.
 */
export function optionsContextParts(options: SecureContextOptions & { secureContext?: unknown }): ContextParts {
  // node: `options.secureContext || tls.createSecureContext(options)` — a falsy value means none.
  return options.secureContext ? secureContextParts(options.secureContext) : contextParts(options, false);
}

/** The options without the context-shaped ones and without `secureContext`. */
export function withoutContextOptions<T extends Record<string, unknown>>(options: T): T {
  const out: Record<string, unknown> = { ...options };
  for (const k of CONTEXT_OPTION_KEYS) delete out[k];
  delete out.secureContext;
  return out as T;
}
