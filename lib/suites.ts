// The cipher-suite table: one line per suite (RFC 5289, RFC 7905, RFC 5288, RFC 5487, RFC 8442).
// Preference order: forward-secret ECDHE first; within a key exchange AES-128-GCM, then ChaCha20 and
// AES-256-GCM. Like Go's crypto/tls we put ECDSA before RSA (smaller, faster handshakes) and list
// ChaCha20 early enough to be picked by clients that prefer it.
import type { AeadName } from './crypto/aead.js';
import type { PrfHash } from './crypto/prf.js';

/**
 * How the premaster secret is agreed: a built-in exchange, or the name of one a user registered with
 * registerKeyExchange() (docs/key-exchange.md).
 */
export type KxName = 'ECDHE' | 'DHE' | 'PSK' | 'ECDHE_PSK' | 'DHE_PSK' | 'QKD' | 'ECDHE_QKD' | (string & {});
/** How the server proves its identity: a certificate signature, or knowledge of a pre-shared key. */
export type AuthName = 'ECDSA' | 'RSA' | 'PSK';

export interface CipherSuite {
  id: number;
  name: string;
  opensslName: string;
  kx: KxName;
  auth: AuthName;
  aead: AeadName;
  prf: PrfHash;
}

type Row = [id: number, name: string, openssl: string, kx: KxName, auth: AuthName, aead: AeadName, prf: PrfHash];

// prettier-ignore
const rows: Row[] = [
  // qtls private-use suites (0xFF00–0xFFFF, RFC 5246 §12 "Reserved for Private Use"; docs/qkd-in-tls.md).
  // Offered only when a `qkd` option is configured; the ECDHE+QKD hybrid first (both must fall).
  [0xff11, 'TLS_ECDHE_QKD_ECDSA_WITH_AES_256_GCM_SHA384',       'ECDHE-QKD-ECDSA-AES256-GCM-SHA384', 'ECDHE_QKD', 'ECDSA', 'AES-256-GCM', 'sha384'],
  [0xff12, 'TLS_ECDHE_QKD_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-QKD-ECDSA-CHACHA20-POLY1305', 'ECDHE_QKD', 'ECDSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xff13, 'TLS_ECDHE_QKD_RSA_WITH_AES_256_GCM_SHA384',         'ECDHE-QKD-RSA-AES256-GCM-SHA384',   'ECDHE_QKD', 'RSA', 'AES-256-GCM', 'sha384'],
  [0xff14, 'TLS_ECDHE_QKD_RSA_WITH_CHACHA20_POLY1305_SHA256',   'ECDHE-QKD-RSA-CHACHA20-POLY1305',   'ECDHE_QKD', 'RSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xff01, 'TLS_QKD_ECDSA_WITH_AES_256_GCM_SHA384',             'QKD-ECDSA-AES256-GCM-SHA384',       'QKD', 'ECDSA', 'AES-256-GCM', 'sha384'],
  [0xff02, 'TLS_QKD_ECDSA_WITH_CHACHA20_POLY1305_SHA256',       'QKD-ECDSA-CHACHA20-POLY1305',       'QKD', 'ECDSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xff03, 'TLS_QKD_RSA_WITH_AES_256_GCM_SHA384',               'QKD-RSA-AES256-GCM-SHA384',         'QKD', 'RSA', 'AES-256-GCM', 'sha384'],
  [0xff04, 'TLS_QKD_RSA_WITH_CHACHA20_POLY1305_SHA256',         'QKD-RSA-CHACHA20-POLY1305',         'QKD', 'RSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',       'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE', 'ECDSA', 'AES-128-GCM', 'sha256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE', 'ECDSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',       'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE', 'ECDSA', 'AES-256-GCM', 'sha384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',         'ECDHE-RSA-AES128-GCM-SHA256',   'ECDHE', 'RSA', 'AES-128-GCM', 'sha256'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',   'ECDHE-RSA-CHACHA20-POLY1305',   'ECDHE', 'RSA', 'CHACHA20-POLY1305', 'sha256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',         'ECDHE-RSA-AES256-GCM-SHA384',   'ECDHE', 'RSA', 'AES-256-GCM', 'sha384'],
  // RFC 5288, RFC 7905: finite-field DHE, after ECDHE (slower, larger).
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',           'DHE-RSA-AES128-GCM-SHA256',     'DHE', 'RSA', 'AES-128-GCM', 'sha256'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',     'DHE-RSA-CHACHA20-POLY1305',     'DHE', 'RSA', 'CHACHA20-POLY1305', 'sha256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',           'DHE-RSA-AES256-GCM-SHA384',     'DHE', 'RSA', 'AES-256-GCM', 'sha384'],
  // RFC 8442, RFC 7905: ECDHE_PSK (forward secret) before DHE_PSK before plain PSK (RFC 5487, RFC 7905).
  [0xd001, 'TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256',         'ECDHE-PSK-AES128-GCM-SHA256',   'ECDHE_PSK', 'PSK', 'AES-128-GCM', 'sha256'],
  [0xccac, 'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256',   'ECDHE-PSK-CHACHA20-POLY1305',   'ECDHE_PSK', 'PSK', 'CHACHA20-POLY1305', 'sha256'],
  [0xd002, 'TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384',         'ECDHE-PSK-AES256-GCM-SHA384',   'ECDHE_PSK', 'PSK', 'AES-256-GCM', 'sha384'],
  [0x00aa, 'TLS_DHE_PSK_WITH_AES_128_GCM_SHA256',           'DHE-PSK-AES128-GCM-SHA256',     'DHE_PSK', 'PSK', 'AES-128-GCM', 'sha256'],
  [0xccad, 'TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256',     'DHE-PSK-CHACHA20-POLY1305',     'DHE_PSK', 'PSK', 'CHACHA20-POLY1305', 'sha256'],
  [0x00ab, 'TLS_DHE_PSK_WITH_AES_256_GCM_SHA384',           'DHE-PSK-AES256-GCM-SHA384',     'DHE_PSK', 'PSK', 'AES-256-GCM', 'sha384'],
  [0x00a8, 'TLS_PSK_WITH_AES_128_GCM_SHA256',               'PSK-AES128-GCM-SHA256',         'PSK', 'PSK', 'AES-128-GCM', 'sha256'],
  [0xccab, 'TLS_PSK_WITH_CHACHA20_POLY1305_SHA256',         'PSK-CHACHA20-POLY1305',         'PSK', 'PSK', 'CHACHA20-POLY1305', 'sha256'],
  [0x00a9, 'TLS_PSK_WITH_AES_256_GCM_SHA384',               'PSK-AES256-GCM-SHA384',         'PSK', 'PSK', 'AES-256-GCM', 'sha384'],
];

export const CIPHER_SUITES: readonly CipherSuite[] = rows.map(([id, name, opensslName, kx, auth, aead, prf]) => ({
  id, name, opensslName, kx, auth, aead, prf,
}));

/** Register additional suites (used by the DHE/PSK/QKD exchanges and by users adding their own). */
export function registerCipherSuite(suite: CipherSuite): void {
  if (byId.has(suite.id)) throw new Error(`cipher suite 0x${suite.id.toString(16)} is already registered`);
  (CIPHER_SUITES as CipherSuite[]).push(suite);
  byId.set(suite.id, suite);
  byName.set(suite.name.toUpperCase(), suite);
  byName.set(suite.opensslName.toUpperCase(), suite);
}

const byId = new Map<number, CipherSuite>(CIPHER_SUITES.map((s) => [s.id, s]));
const byName = new Map<string, CipherSuite>();
for (const s of CIPHER_SUITES) {
  byName.set(s.name.toUpperCase(), s);
  byName.set(s.opensslName.toUpperCase(), s);
}

export function suiteById(id: number): CipherSuite | undefined {
  return byId.get(id);
}
export function suiteByName(name: string): CipherSuite | undefined {
  return byName.get(name.trim().toUpperCase());
}

/** Signalling suite values (RFC 5746 §3.3, RFC 7507). */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
export const TLS_FALLBACK_SCSV = 0x5600;

/**
 * Suites a default configuration offers: the certificate-authenticated (EC)DHE suites, plus the PSK
 * family when a pskCallback is configured (node:tls requires listing them by hand; offering them only
 * when a key can actually be supplied is the same safety with less ceremony).
 */
export function defaultSuites(options: { pskCallback?: unknown; qkd?: unknown } = {}): CipherSuite[] {
  const psk = typeof options.pskCallback === 'function';
  const qkd = options.qkd !== undefined && options.qkd !== null;
  return CIPHER_SUITES.filter(
    (s) => s.kx === 'ECDHE' || s.kx === 'DHE' || (psk && (s.kx === 'PSK' || s.kx === 'ECDHE_PSK' || s.kx === 'DHE_PSK')) || (qkd && (s.kx === 'QKD' || s.kx === 'ECDHE_QKD')),
  );
}

/**
 * Parse a `ciphers` option: a colon/comma/space separated list of IANA or OpenSSL names. Unknown
 * names are an error (a typo must not silently weaken or empty the list), except OpenSSL keywords
 * and TLS 1.3 suite names, which node:tls users commonly include and which have no TLS 1.2 meaning.
 */
export function parseCipherList(list: string, options: { pskCallback?: unknown; qkd?: unknown } = {}): CipherSuite[] {
  const out: CipherSuite[] = [];
  for (const raw of list.split(/[:,\s]+/).filter(Boolean)) {
    if (raw.startsWith('!') || raw.startsWith('-') || raw.startsWith('+') || raw.startsWith('@')) continue;
    if (/^(DEFAULT|ALL|HIGH|MEDIUM|ECDHE|EECDH|AESGCM|CHACHA20|PSK|QKD|TLS_AES_|TLS_CHACHA20_)/i.test(raw) && !suiteByName(raw)) {
      if (/^(DEFAULT|ALL|HIGH)$/i.test(raw)) out.push(...defaultSuites(options));
      if (/^PSK$/i.test(raw)) out.push(...CIPHER_SUITES.filter((s) => s.auth === 'PSK'));
      if (/^QKD$/i.test(raw)) out.push(...CIPHER_SUITES.filter((s) => s.kx === 'QKD' || s.kx === 'ECDHE_QKD'));
      continue;
    }
    const s = suiteByName(raw);
    if (!s) throw new Error(`unknown cipher suite "${raw}"`);
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new Error(`no usable TLS 1.2 cipher suite in "${list}"`);
  return [...new Set(out)];
}
