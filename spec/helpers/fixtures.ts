// Shared test fixtures for the interop specs: the test PKI (fixtures/pki), the TLS 1.2 cipher suites and
// groups qtls implements, each spelled the way every peer (qtls, node:tls, the openssl CLI) names it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/pki');

export function pkiPath(name: string): string {
  return path.join(PKI_DIR, name);
}

const cache = new Map<string, Buffer>();
/** A fixture file's bytes (cached; callers must not mutate the Buffer). */
export function pki(name: string): Buffer {
  let b = cache.get(name);
  if (!b) cache.set(name, (b = readFileSync(pkiPath(name))));
  return b;
}

/** The trust file every client uses: root-ca (ECDSA) + rsa-root-ca. */
export const CA_FILE = pkiPath('ca.pem');
export const ca = (): Buffer => pki('ca.pem');

// ---------- groups ----------

export type GroupId = 'x25519' | 'secp256r1' | 'secp384r1';

export interface GroupFixture {
  id: GroupId;
  /** IANA NamedGroup code (RFC 8422 §5.1.1, RFC 7748). */
  code: number;
  /** Spelling for qtls `groups`, node `ecdhCurve` and openssl `-groups` (all accept these). */
  name: 'X25519' | 'P-256' | 'P-384';
  /** node:tls getEphemeralKeyInfo() on a client (qtls mirrors it). */
  ephemeral: { type: 'ECDH'; name: string; size: number };
  /** openssl s_client "Server Temp Key: ..." text. */
  opensslTempKey: string;
}

export const GROUPS: readonly GroupFixture[] = [
  { id: 'x25519', code: 29, name: 'X25519', ephemeral: { type: 'ECDH', name: 'X25519', size: 253 }, opensslTempKey: 'X25519, 253 bits' },
  { id: 'secp256r1', code: 23, name: 'P-256', ephemeral: { type: 'ECDH', name: 'prime256v1', size: 256 }, opensslTempKey: 'ECDH, prime256v1, 256 bits' },
  { id: 'secp384r1', code: 24, name: 'P-384', ephemeral: { type: 'ECDH', name: 'secp384r1', size: 384 }, opensslTempKey: 'ECDH, secp384r1, 384 bits' },
];

export function group(id: GroupId): GroupFixture {
  return GROUPS.find((g) => g.id === id)!;
}

// ---------- cipher suites ----------

export interface SuiteFixture {
  /** IANA name (node getCipher().standardName). */
  iana: string;
  /** OpenSSL name (node getCipher().name, openssl -cipher). */
  openssl: string;
  id: number;
  auth: 'ECDSA' | 'RSA';
}

/**
 * The six certificate-authenticated ECDHE AEAD suites (lib/suites.ts). Listed here explicitly rather
 * than read from CIPHER_SUITES, which grows as key exchanges are added.
 */
export const SUITES: readonly SuiteFixture[] = [
  { iana: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', openssl: 'ECDHE-ECDSA-AES128-GCM-SHA256', id: 0xc02b, auth: 'ECDSA' },
  { iana: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', openssl: 'ECDHE-ECDSA-AES256-GCM-SHA384', id: 0xc02c, auth: 'ECDSA' },
  { iana: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305', id: 0xcca9, auth: 'ECDSA' },
  { iana: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', openssl: 'ECDHE-RSA-AES128-GCM-SHA256', id: 0xc02f, auth: 'RSA' },
  { iana: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', openssl: 'ECDHE-RSA-AES256-GCM-SHA384', id: 0xc030, auth: 'RSA' },
  { iana: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', openssl: 'ECDHE-RSA-CHACHA20-POLY1305', id: 0xcca8, auth: 'RSA' },
];

export function suiteByOpenssl(name: string): SuiteFixture | undefined {
  return SUITES.find((s) => s.openssl === name);
}

// ---------- certificates ----------

export type CertKind = 'rsa' | 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

export interface CertFixture {
  kind: CertKind;
  auth: 'ECDSA' | 'RSA';
  /** Leaf alone (openssl s_server -cert). */
  certPath: string;
  /** Leaf + intermediate (what a server sends). */
  chainPath: string;
  keyPath: string;
  /**
   * The group of the leaf's EC key. RFC 8422 §5.3 (and OpenSSL, both as client and server) require
   * that curve to be in the client's supported_groups, so a peer choosing another group for the
   * exchange must still offer this one.
   */
  curve?: GroupId;
  chain(): Buffer;
  key(): Buffer;
}

function certFixture(kind: CertKind, auth: 'ECDSA' | 'RSA', curve?: GroupId): CertFixture {
  return {
    kind, auth, curve,
    certPath: pkiPath(`${kind}-cert.pem`),
    chainPath: pkiPath(`${kind}-chain.pem`),
    keyPath: pkiPath(`${kind}-key.pem`),
    chain: () => pki(`${kind}-chain.pem`),
    key: () => pki(`${kind}-key.pem`),
  };
}

export const CERTS: Readonly<Record<CertKind, CertFixture>> = {
  rsa: certFixture('rsa', 'RSA'),
  'ecdsa-p256': certFixture('ecdsa-p256', 'ECDSA', 'secp256r1'),
  'ecdsa-p384': certFixture('ecdsa-p384', 'ECDSA', 'secp384r1'),
  ed25519: certFixture('ed25519', 'ECDSA'),
};

/** The issuing intermediate of every good leaf (openssl s_server -cert_chain). */
export const INTERMEDIATE_PATH = pkiPath('intermediate-ca.pem');

/** The certificate a suite's default matrix case uses: ECDSA P-256 for ECDSA suites, RSA for RSA suites. */
export function defaultCertFor(suite: SuiteFixture): CertFixture {
  return suite.auth === 'RSA' ? CERTS.rsa : CERTS['ecdsa-p256'];
}

/** A colon list offering `g` first, then the certificate's curve when that is another group. */
export function groupsOffering(g: GroupFixture, cert: CertFixture): string {
  const names = [g.name];
  if (cert.curve && cert.curve !== g.id) names.push(group(cert.curve).name);
  return names.join(':');
}

/** Certificates a verifying client must refuse (all P-256 keys). */
export const BAD_CERTS = {
  /** Leaf signed by a root that is not in ca.pem; the server sends the leaf only. */
  'unknown-ca': { chain: () => pki('unknown-ca-cert.pem'), key: () => pki('unknown-ca-key.pem') },
  /** Valid chain, but the leaf names wrong.example only. */
  'wrong-name': { chain: () => pki('wrong-name-chain.pem'), key: () => pki('wrong-name-key.pem') },
  /** Valid chain, leaf expired in 2021. */
  expired: { chain: () => pki('expired-chain.pem'), key: () => pki('expired-key.pem') },
} as const;
export type BadCertKind = keyof typeof BAD_CERTS;

/** Deterministic-length random payload of printable lines (line-based peers like `s_server -rev` need text). */
export function textPayload(lines: number, width = 100): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    let s = `${String(i).padStart(5, '0')}:`;
    while (s.length < width) s += alphabet[Math.floor(Math.random() * alphabet.length)];
    out.push(s);
  }
  return Buffer.from(out.join('\n') + '\n', 'latin1');
}

export interface MatrixCase {
  suite: SuiteFixture;
  group: GroupFixture;
  cert: CertFixture;
}

/**
 * The interop matrix: every suite × every group with the suite's default certificate (ECDSA P-256 or
 * RSA), plus the ECDSA suites × every group with the P-384 and the Ed25519 certificates.
 */
export function matrixCases(certs: readonly CertKind[] = ['rsa', 'ecdsa-p256', 'ecdsa-p384', 'ed25519']): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const suite of SUITES)
    for (const g of GROUPS) if (certs.includes(defaultCertFor(suite).kind)) cases.push({ suite, group: g, cert: defaultCertFor(suite) });
  for (const kind of ['ecdsa-p384', 'ed25519'] as const) {
    if (!certs.includes(kind)) continue;
    for (const suite of SUITES.filter((s) => s.auth === 'ECDSA')) for (const g of GROUPS) cases.push({ suite, group: g, cert: CERTS[kind] });
  }
  return cases;
}
