// Turns node:tls-shaped options into the handshake's configuration, failing early with clear errors.
import { EcdhGroup } from '../crypto/ecdh.js';
import type { NamedCurve, PrivateKey } from '../crypto/keys.js';
import { DEFAULT_SIGNATURE_SCHEMES, SignatureScheme, schemesForKey } from '../crypto/signature.js';
import { DEFAULT_ECDHE_GROUPS } from '../kx/ecdhe.js';
import { parsePrivateKey } from '../pki/keys.js';
import { looksLikePem, pemDecode, pemText } from '../pki/pem.js';
import { parseCertificate, type Certificate } from '../pki/x509.js';
import { defaultSuites, parseCipherList, type CipherSuite } from '../suites.js';
import { equalBytes } from '../wire/bytes.js';
import { encodeSubjectPublicKeyInfo } from '../pki/keys.js';

/** RFC 7919 groups, offered after the elliptic curves (RFC 7919 §3). */
const DEFAULT_FFDHE_GROUPS = [256, 257, 258];

export type PemInput = string | Buffer | Uint8Array;

/** A certificate chain (leaf first) and the private key of its leaf. */
export interface CertifiedKey {
  chain: Uint8Array[];
  leaf: Certificate;
  key: PrivateKey;
}

/** Group names accepted in `ecdhCurve` / `groups` (node/OpenSSL spellings and IANA names). */
const GROUP_NAMES: Record<string, number> = {
  x25519: EcdhGroup.x25519,
  'p-256': EcdhGroup.secp256r1,
  prime256v1: EcdhGroup.secp256r1,
  secp256r1: EcdhGroup.secp256r1,
  'p-384': EcdhGroup.secp384r1,
  secp384r1: EcdhGroup.secp384r1,
  ffdhe2048: 256,
  ffdhe3072: 257,
  ffdhe4096: 258,
};

export function groupCode(name: string): number {
  const key = name.trim().toLowerCase();
  const code = Object.hasOwn(GROUP_NAMES, key) ? GROUP_NAMES[key] : undefined;
  if (code === undefined) throw new Error(`unknown group "${name}" (known: X25519, P-256, P-384, ffdhe2048, ffdhe3072, ffdhe4096)`);
  return code;
}

export function parseGroups(value: unknown): number[] {
  if (value === undefined || value === 'auto') return [...DEFAULT_ECDHE_GROUPS, ...DEFAULT_FFDHE_GROUPS];
  if (typeof value !== 'string') throw new TypeError('groups/ecdhCurve must be a colon-separated string');
  const list = value.split(/[:,\s]+/).filter(Boolean).map(groupCode);
  if (list.length === 0) throw new Error('groups/ecdhCurve names no group');
  return [...new Set(list)];
}

/**
 * OpenSSL's "SIG+HASH" spelling (SSL_CTX_set1_sigalgs_list, what node's docs use, e.g.
 * 'RSA-PSS+SHA256:ECDSA+SHA256'). OpenSSL maps RSA-PSS/PSS to the rsae scheme, the first of its table.
 */
const OPENSSL_SIGALG_NAMES: Record<string, number> = {
  'rsa+sha1': SignatureScheme.rsa_pkcs1_sha1,
  'rsa+sha256': SignatureScheme.rsa_pkcs1_sha256,
  'rsa+sha384': SignatureScheme.rsa_pkcs1_sha384,
  'rsa+sha512': SignatureScheme.rsa_pkcs1_sha512,
  'ecdsa+sha1': SignatureScheme.ecdsa_sha1,
  'ecdsa+sha256': SignatureScheme.ecdsa_secp256r1_sha256,
  'ecdsa+sha384': SignatureScheme.ecdsa_secp384r1_sha384,
  'ecdsa+sha512': SignatureScheme.ecdsa_secp521r1_sha512,
  'rsa-pss+sha256': SignatureScheme.rsa_pss_rsae_sha256,
  'rsa-pss+sha384': SignatureScheme.rsa_pss_rsae_sha384,
  'rsa-pss+sha512': SignatureScheme.rsa_pss_rsae_sha512,
  'pss+sha256': SignatureScheme.rsa_pss_rsae_sha256,
  'pss+sha384': SignatureScheme.rsa_pss_rsae_sha384,
  'pss+sha512': SignatureScheme.rsa_pss_rsae_sha512,
};

/** `sigalgs`: IANA names (ecdsa_secp256r1_sha256, ed25519…) or OpenSSL's SIG+HASH names, colon-separated. */
export function parseSignatureSchemes(value: unknown): number[] {
  if (value === undefined) return [...DEFAULT_SIGNATURE_SCHEMES];
  if (typeof value !== 'string') throw new TypeError('sigalgs must be a colon-separated string');
  const names = SignatureScheme as Record<string, number>;
  const list = value.split(/[:,\s]+/).filter(Boolean).map((n) => {
    const key = n.toLowerCase();
    const code = Object.hasOwn(names, key) ? names[key] : Object.hasOwn(OPENSSL_SIGALG_NAMES, key) ? OPENSSL_SIGALG_NAMES[key] : undefined;
    if (code === undefined) throw new Error(`unknown signature algorithm "${n}"`);
    return code;
  });
  if (list.length === 0) throw new Error('sigalgs names no signature algorithm');
  return [...new Set(list)];
}

/** ALPNProtocols as node accepts it: string[], Buffer[]/Uint8Array[], or one wire-format Buffer. */
export function parseAlpnOption(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('latin1')));
  if (value instanceof Uint8Array) {
    const out: string[] = [];
    for (let i = 0; i < value.length; ) {
      const n = value[i]!;
      out.push(Buffer.from(value.subarray(i + 1, i + 1 + n)).toString('latin1'));
      i += 1 + n;
    }
    return out;
  }
  throw new TypeError('ALPNProtocols must be an array of strings or Buffers');
}

/** Only TLS 1.2 is implemented: any other minVersion/maxVersion is refused up front. */
export function checkVersions(options: { minVersion?: unknown; maxVersion?: unknown }): void {
  for (const k of ['minVersion', 'maxVersion'] as const) {
    const v = options[k];
    if (v !== undefined && v !== 'TLSv1.2') throw new Error(`${k} ${String(v)} is not supported: qtls implements TLSv1.2 only`);
  }
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Parse every certificate in PEM (or one DER) input. */
export function parseCertificates(input: PemInput): Certificate[] {
  if (looksLikePem(input)) return pemDecode(pemText(input), 'CERTIFICATE').map((der) => parseCertificate(der));
  return [parseCertificate(new Uint8Array(input as Uint8Array))];
}

/**
 * node's `cert`/`key` options: each may be one value or an array; each cert entry is a PEM chain,
 * leaf first. Keys are matched to leaves by public key, so the order of the arrays doesn't matter.
 */
export function loadCertifiedKeys(certOpt: unknown, keyOpt: unknown): CertifiedKey[] {
  const certs = asArray(certOpt as PemInput | PemInput[]).map(parseCertificates);
  const keys = asArray(keyOpt as unknown).map((k) => {
    // node also accepts { pem, passphrase } objects; encrypted keys are not supported.
    const pem = typeof k === 'object' && k !== null && 'pem' in k ? (k as { pem: PemInput }).pem : (k as PemInput);
    return parsePrivateKey(pem);
  });
  if (certs.length === 0 && keys.length === 0) return [];
  if (certs.length === 0) throw new Error('a private key was given without a certificate (cert option)');
  if (keys.length === 0) throw new Error('a certificate was given without its private key (key option)');
  return certs.map((chain, i) => {
    const leaf = chain[0];
    if (!leaf) throw new Error(`cert option #${i} contains no certificate`);
    const leafSpki = leaf.spki.der;
    const key = keys.find((k) => equalBytes(encodeSubjectPublicKeyInfo(k.publicKey), leafSpki));
    if (!key) throw new Error(`no private key matches the certificate for ${leaf.subject.text}`);
    return { chain: chain.map((c) => c.der), leaf, key };
  });
}

/** The NamedGroup of an ECDSA key's curve. */
const CURVE_GROUP: Record<NamedCurve, number> = {
  'P-256': EcdhGroup.secp256r1,
  'P-384': EcdhGroup.secp384r1,
};

/** Which certificates can authenticate a suite (RFC 8422 §5.1: ECDSA suites carry EC or Ed25519 keys). */
export function keyFitsAuth(key: PrivateKey, auth: CipherSuite['auth']): boolean {
  if (auth === 'ECDSA') return key.type === 'ec' || key.type === 'ed25519';
  if (auth === 'RSA') return key.type === 'rsa';
  return false;
}

/**
 * Pick a certificate and signature scheme for a suite given the peer's signature_algorithms
 * (undefined = the extension was absent: RFC 5246 §7.4.1.4.1 then implies SHA-1 with the key's algorithm).
 */
export function pickCertificate(
  candidates: CertifiedKey[],
  auth: CipherSuite['auth'],
  peerSchemes: readonly number[] | undefined,
  /**
   * Server side: the client's supported_groups. RFC 8422 §5.3: an ECDSA certificate's key must be on a
   * curve the client listed (OpenSSL clients abort with "wrong curve" otherwise). Empty or undefined
   * (extension absent, §5.1) means no constraint.
   */
  peerGroups?: readonly number[],
): { cert: CertifiedKey; scheme: number } | undefined {
  for (const cert of candidates) {
    if (!keyFitsAuth(cert.key, auth)) continue;
    if (cert.key.type === 'ec' && peerGroups && peerGroups.length > 0 && !peerGroups.includes(CURVE_GROUP[cert.key.curve])) continue;
    const ours = schemesForKey(cert.key);
    if (peerSchemes === undefined) {
      const implied = cert.key.type === 'rsa' ? SignatureScheme.rsa_pkcs1_sha1 : cert.key.type === 'ec' ? SignatureScheme.ecdsa_sha1 : undefined;
      if (implied !== undefined) return { cert, scheme: implied };
      continue;
    }
    const scheme = ours.find((s) => peerSchemes.includes(s));
    if (scheme !== undefined) return { cert, scheme };
  }
  return undefined;
}

export function resolveSuites(ciphers: unknown, options: { pskCallback?: unknown; qkd?: unknown } = {}): CipherSuite[] {
  if (ciphers === undefined) return defaultSuites(options);
  if (typeof ciphers !== 'string') throw new TypeError('ciphers must be a string');
  return parseCipherList(ciphers, options);
}
