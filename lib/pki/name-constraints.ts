// RFC 5280 §4.2.1.10 name constraints: does a certificate's names lie within one CA's permitted subtrees
// and outside its excluded ones? chain.ts applies this along a path (§6.1.3 (b)(c), §6.1.4 (g)).
//
// The matching rules are OpenSSL 3's (crypto/x509/v3_ncons.c), so that qtls, node:tls and `openssl
// verify` agree on a name-constrained PKI:
//  - names checked: the subject DN (directoryName), each subject emailAddress attribute (rfc822Name; it
//    must be an IA5String), every subjectAltName entry, and for the leaf only, when it has no dNSName SAN,
//    each commonName that looks like a DNS name (two or more labels of letters, digits, '-', '_');
//  - a name is checked only against subtrees of its own form; with permitted subtrees of that form it
//    must match one, and it must match none of the excluded ones;
//  - dNSName: "example.com" matches itself and any name under it, ".example.com" only names under it,
//    "" everything; case-insensitive (ASCII);
//  - rfc822Name: "user@host" that mailbox (local part case-sensitive), "host" any mailbox at that host,
//    ".domain" any mailbox at a host under the domain;
//  - URI: the same host rules ("host" exactly, ".domain" hosts under it) on the URI's host;
//  - iPAddress: address and mask (8 octets for IPv4, 32 for IPv6); an IPv4 address never matches an IPv6
//    constraint;
//  - directoryName: the constraint's RDNs are a prefix of the name's (RFC 5280 §7.1 comparison);
//  - any other form (otherName of the same type-id, x400Address, ediPartyName, registeredID): a
//    certificate name of a form that has constraints we cannot evaluate fails closed
//    (UNSUPPORTED_CONSTRAINT_TYPE), as OpenSSL does.
// Deliberately stricter than OpenSSL 3.0 (fail closed where it would accept):
//  - a wildcard dNSName "*.example.com" violates an excluded subtree "host.example.com" (the wildcard
//    would cover that host);
//  - a URI host is the RFC 3986 authority's host (ending at '/', '?', '#' or ':port'); a URI with
//    userinfo, an IP-literal host or no "scheme://" authority is refused (UNSUPPORTED_NAME_SYNTAX), as
//    §4.2.1.10 says for a URI without an FQDN host;
//  - an SmtpUTF8Mailbox otherName (RFC 8398) is refused when rfc822Name constraints exist, instead of
//    being compared as an internationalised mailbox.
//
// Bounded work: like OpenSSL's NAME_CHECK_MAX, a certificate with n names against a CA with m subtrees
// is refused outright when n·m > 2^20; and one verifyChain() run, over every path it tries, never looks
// at more than NAME_CHECK_BUDGET (name, subtree) pairs in all.

import { Tag } from './der.js';
import { NAME_ATTRIBUTE_OIDS, OID } from './oids.js';
import { canonicalRdns, type Certificate, type GeneralName, type GeneralSubtree, type Name, type NameConstraints } from './x509.js';

/** OpenSSL's X509_V_ERR_* names for what can go wrong (node:tls reports them all as UNSPECIFIED). */
export type NameConstraintError =
  | 'PERMITTED_VIOLATION'
  | 'EXCLUDED_VIOLATION'
  | 'SUBTREE_MINMAX'
  | 'UNSUPPORTED_CONSTRAINT_TYPE'
  | 'UNSUPPORTED_NAME_SYNTAX'
  | 'UNSPECIFIED';

/** X509_verify_cert_error_string() of each, which node:tls uses as the error message. */
export const NAME_CONSTRAINT_MESSAGES: Record<NameConstraintError, string> = {
  PERMITTED_VIOLATION: 'permitted subtree violation',
  EXCLUDED_VIOLATION: 'excluded subtree violation',
  SUBTREE_MINMAX: 'name constraints minimum and maximum not supported',
  UNSUPPORTED_CONSTRAINT_TYPE: 'unsupported name constraint type',
  UNSUPPORTED_NAME_SYNTAX: 'unsupported or invalid name syntax',
  UNSPECIFIED: 'unspecified certificate verification error',
};

export interface NameConstraintViolation {
  error: NameConstraintError;
  /** What failed, for the message: 'dNSName "a.other.com" is not in the permitted subtrees (DNS:example.com)'. */
  detail: string;
}

/** OpenSSL's NAME_CHECK_MAX: names × subtrees of one certificate against one CA. */
export const NAME_CHECK_MAX = 1 << 20;
/** (name, subtree) pairs looked at in one verifyChain() run, over every path it tries. */
export const NAME_CHECK_BUDGET = 1 << 22;

/** Shared by every name-constraint check of one verifyChain() run. */
export class NameCheckBudget {
  used = 0;
  constructor(readonly limit = NAME_CHECK_BUDGET) {}
}

class BudgetExceeded extends Error {}

const EMAIL_ADDRESS = NAME_ATTRIBUTE_OIDS['emailAddress']!;
const COMMON_NAME = NAME_ATTRIBUTE_OIDS['CN']!;

/** A name as checked: its form, the value compared, and how to show it. */
type Subject =
  | { form: 'dns' | 'email' | 'uri'; value: string; label: string }
  | { form: 'ip'; bytes: Uint8Array; label: string }
  | { form: 'dirName'; name: Name; label: string }
  | { form: 'otherName'; oid: string; label: string }
  | { form: 'registeredID' | 'x400Address' | 'ediPartyName'; label: string };

type Verdict = 'match' | 'nomatch' | NameConstraintError;

// --- Per-form matching (OpenSSL nc_dns, nc_email, nc_uri, nc_ip, nc_dn) ------------------------------

/**
 * Does `a` from offset `at` equal `b` from `bAt` (to its end), ignoring ASCII case? OpenSSL's
 * ia5ncasecmp: no locale or Unicode folding; no allocation, since hostile certificates make this the
 * hot loop.
 */
function caselessAt(a: string, at: number, b: string, bAt = 0): boolean {
  const n = b.length - bAt;
  if (at < 0 || n < 0 || a.length - at < n) return false;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(at + i);
    let y = b.charCodeAt(bAt + i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

function sameCaseless(a: string, b: string): boolean {
  return a.length === b.length && caselessAt(a, 0, b);
}

/** Does `a` end with `b`, ignoring ASCII case? */
function endsCaseless(a: string, b: string): boolean {
  return caselessAt(a, a.length - b.length, b);
}

/** §4.2.1.10 dNSName: zero or more labels added on the left; a leading '.' requires at least one. */
export function dnsWithin(name: string, base: string): boolean {
  if (base.length === 0) return true;
  const extra = name.length - base.length;
  if (extra < 0) return false;
  if (extra > 0 && base.charCodeAt(0) !== 0x2e && name.charCodeAt(extra - 1) !== 0x2e) return false;
  return caselessAt(name, extra, base);
}

/** Could the wildcard "*.rest" stand for a name within an excluded subtree `base`? (stricter than OpenSSL) */
function wildcardCovers(name: string, base: string): boolean {
  if (!name.startsWith('*.') || base === '' || base.startsWith('.')) return false;
  // "*.rest" covers "label.rest": compare ".rest" of both.
  const dot = base.indexOf('.');
  return dot > 0 && base.length - dot === name.length - 1 && caselessAt(base, dot, name, 1);
}

/** §4.2.1.10 rfc822Name: a mailbox, a host, or ".domain" (hosts under it). */
export function emailWithin(mailbox: string, base: string): Verdict {
  const at = mailbox.lastIndexOf('@');
  if (at < 0) return 'UNSUPPORTED_NAME_SYNTAX';
  const baseAt = base.lastIndexOf('@');
  if (baseAt < 0 && base.startsWith('.')) {
    return mailbox.length > base.length && endsCaseless(mailbox, base) ? 'match' : 'nomatch';
  }
  let baseHost = base;
  if (baseAt >= 0) {
    if (baseAt > 0) {
      const local = mailbox.slice(0, at);
      const baseLocal = base.slice(0, baseAt);
      if (local.length !== baseLocal.length) return 'nomatch';
      if (local.includes('\0') || baseLocal.includes('\0')) return 'UNSUPPORTED_NAME_SYNTAX';
      if (local !== baseLocal) return 'nomatch'; // the local part is case-sensitive
    }
    baseHost = base.slice(baseAt + 1);
  }
  return mailbox.length - at - 1 === baseHost.length && caselessAt(mailbox, at + 1, baseHost) ? 'match' : 'nomatch';
}

/** The host of a URI's authority (RFC 3986 §3.2), or undefined when it has none we can constrain. */
export function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return undefined;
  const authority = m[1]!;
  // userinfo and IP literals: not an FQDN host (§4.2.1.10 says reject); refused rather than guessed at.
  if (authority.includes('@') || authority.startsWith('[')) return undefined;
  const host = authority.replace(/:\d*$/, '');
  if (host === '' || host.includes(':') || /^\d+(\.\d+){3}$/.test(host)) return undefined;
  return host;
}

/** §4.2.1.10 URI: the constraint applies to the host part. */
export function uriWithin(uri: string, base: string): Verdict {
  const host = uriHost(uri);
  if (host === undefined) return 'UNSUPPORTED_NAME_SYNTAX';
  if (base.startsWith('.')) {
    return host.length > base.length && endsCaseless(host, base) ? 'match' : 'nomatch';
  }
  return sameCaseless(host, base) ? 'match' : 'nomatch';
}

/** §4.2.1.10 iPAddress: address+mask, 8 octets (IPv4) or 32 (IPv6). */
export function ipWithin(address: Uint8Array, base: Uint8Array): Verdict {
  if (address.length !== 4 && address.length !== 16) return 'UNSUPPORTED_NAME_SYNTAX';
  if (base.length !== 8 && base.length !== 32) return 'UNSUPPORTED_NAME_SYNTAX';
  if (address.length * 2 !== base.length) return 'nomatch';
  const n = address.length;
  for (let i = 0; i < n; i++) if ((address[i]! & base[n + i]!) !== (base[i]! & base[n + i]!)) return 'nomatch';
  return 'match';
}

/** §4.2.1.10 directoryName: the constraint is an RDN-wise prefix of the name (§7.1 comparison). */
export function dnWithin(name: Name, base: Name): boolean {
  const n = canonicalRdns(name);
  const b = canonicalRdns(base);
  return b.length <= n.length && b.every((rdn, i) => rdn === n[i]);
}

// --- Names of a certificate -------------------------------------------------------------------------

const SAN_LABEL: Record<GeneralName['type'], string> = {
  dns: 'dNSName',
  email: 'rfc822Name',
  uri: 'URI',
  ip: 'iPAddress',
  dirName: 'directoryName',
  otherName: 'otherName',
  registeredID: 'registeredID',
  x400Address: 'x400Address',
  ediPartyName: 'ediPartyName',
};

function fromGeneralName(g: GeneralName, label: string): Subject {
  const shown = `${label} ${JSON.stringify(g.value)}`;
  switch (g.type) {
    case 'dns':
    case 'email':
    case 'uri':
      return { form: g.type, value: g.value, label: shown };
    case 'ip':
      return { form: 'ip', bytes: g.bytes, label: `${label} ${g.value}` };
    case 'dirName':
      return { form: 'dirName', name: g.name, label: shown };
    case 'otherName':
      return { form: 'otherName', oid: g.value, label: `${label} of type ${g.value}` };
    default:
      return { form: g.type, label };
  }
}

/** How a subtree's base reads in messages, in OpenSSL's "DNS:example.com" style. */
function showBase(b: GeneralName): string {
  const prefix: Record<GeneralName['type'], string> = {
    dns: 'DNS', email: 'email', uri: 'URI', ip: 'IP', dirName: 'DirName', otherName: 'othername',
    registeredID: 'Registered ID', x400Address: 'X400Name', ediPartyName: 'EdiPartyName',
  };
  return `${prefix[b.type]}:${b.value}`;
}

/**
 * OpenSSL's cn2dnsid(): the commonName as a DNS name when it looks like one — letters, digits, '_',
 * inner '-' and '.', at least two labels — else undefined. Trailing NULs are dropped; an inner NUL is an
 * error.
 */
export function cnAsDnsName(cn: string): string | undefined | 'UNSUPPORTED_NAME_SYNTAX' {
  const s = cn.replace(/\0+$/, '');
  if (s.includes('\0')) return 'UNSUPPORTED_NAME_SYNTAX';
  let isDns = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 0 && i < s.length - 1) {
      if (c === '-') continue;
      if (c === '.' && s[i + 1] !== '.' && s[i - 1] !== '-' && s[i + 1] !== '-') {
        isDns = true;
        continue;
      }
    }
    isDns = false;
    break;
  }
  return isDns ? s : undefined;
}

function sameForm(s: Subject, base: GeneralName): boolean {
  if (s.form === 'otherName') return base.type === 'otherName' && base.value === s.oid;
  return s.form === base.type;
}

function matchOne(s: Subject, base: GeneralName, excluded: boolean): Verdict {
  switch (s.form) {
    case 'dns': {
      const b = base.value;
      if (dnsWithin(s.value, b)) return 'match';
      return excluded && wildcardCovers(s.value, b) ? 'match' : 'nomatch';
    }
    case 'email':
      return emailWithin(s.value, base.value);
    case 'uri':
      return uriWithin(s.value, base.value);
    case 'ip':
      return ipWithin(s.bytes, (base as Extract<GeneralName, { type: 'ip' }>).bytes);
    case 'dirName':
      return dnWithin(s.name, (base as Extract<GeneralName, { type: 'dirName' }>).name) ? 'match' : 'nomatch';
    default:
      // Forms whose matching RFC 5280 leaves to the application: fail closed.
      return 'UNSUPPORTED_CONSTRAINT_TYPE';
  }
}

function spend(budget: NameCheckBudget, pairs: number): void {
  budget.used += pairs;
  if (budget.used > budget.limit) throw new BudgetExceeded();
}

function listBases(subtrees: GeneralSubtree[]): string {
  const shown = subtrees.slice(0, 4).map((t) => showBase(t.base));
  return shown.join(', ') + (subtrees.length > 4 ? `, … (${subtrees.length} in all)` : '');
}

/** OpenSSL's nc_match(): one name against one CA's constraints. */
function checkName(s: Subject, nc: NameConstraints, budget: NameCheckBudget): NameConstraintViolation | undefined {
  // Charged up front: every subtree is at least looked at for its form.
  spend(budget, nc.permitted.length + nc.excluded.length);
  let seen = false;
  let found = false;
  for (const t of nc.permitted) {
    if (!sameForm(s, t.base)) continue;
    seen = true;
    const v = matchOne(s, t.base, false);
    if (v === 'match') {
      found = true;
      break;
    }
    if (v !== 'nomatch') return { error: v, detail: `${s.label} cannot be compared with the permitted subtree ${showBase(t.base)}` };
  }
  if (seen && !found) {
    return { error: 'PERMITTED_VIOLATION', detail: `${s.label} is not within the permitted subtrees (${listBases(nc.permitted.filter((t) => sameForm(s, t.base)))})` };
  }
  for (const t of nc.excluded) {
    if (!sameForm(s, t.base)) continue;
    const v = matchOne(s, t.base, true);
    if (v === 'match') return { error: 'EXCLUDED_VIOLATION', detail: `${s.label} is within the excluded subtree ${showBase(t.base)}` };
    if (v !== 'nomatch') return { error: v, detail: `${s.label} cannot be compared with the excluded subtree ${showBase(t.base)}` };
  }
  return undefined;
}

/** RFC 5280 §4.2.1.10: minimum MUST be 0 and maximum MUST be absent; a constraint that breaks this is unusable. */
export function subtreeMinMaxProblem(nc: NameConstraints): string | undefined {
  for (const [kind, list] of [['permitted', nc.permitted], ['excluded', nc.excluded]] as const) {
    for (const t of list) {
      if (t.minimum !== 0n) return `${kind} subtree ${showBase(t.base)} has minimum ${t.minimum} (must be 0)`;
      if (t.maximum !== undefined) return `${kind} subtree ${showBase(t.base)} has a maximum (${t.maximum}; must be absent)`;
    }
  }
  return undefined;
}

/**
 * Check `cert` against the name constraints `nc` of one CA above it (OpenSSL's NAME_CONSTRAINTS_check,
 * then NAME_CONSTRAINTS_check_CN for a leaf without a dNSName SAN). The first violation is returned.
 * Minimum/maximum are checked separately (subtreeMinMaxProblem).
 */
export function checkNameConstraints(cert: Certificate, nc: NameConstraints, isLeaf: boolean, budget: NameCheckBudget): NameConstraintViolation | undefined {
  const sans = cert.subjectAltName?.names ?? [];
  const subjectEntries = cert.subject.rdns.reduce((n, rdn) => n + rdn.length, 0);
  const nameCount = subjectEntries + sans.length;
  const constraintCount = nc.permitted.length + nc.excluded.length;
  if (nameCount > 0 && constraintCount > Math.floor(NAME_CHECK_MAX / nameCount)) {
    return { error: 'UNSPECIFIED', detail: `name constraints check refused: ${nameCount} names × ${constraintCount} subtrees exceeds ${NAME_CHECK_MAX} comparisons` };
  }
  try {
    const names: Subject[] = [];
    if (subjectEntries > 0) {
      names.push({ form: 'dirName', name: cert.subject, label: `subject "${cert.subject.text}"` });
      for (const rdn of cert.subject.rdns) {
        for (const a of rdn) {
          if (a.oid !== EMAIL_ADDRESS) continue;
          if (a.tag !== Tag.IA5String) return { error: 'UNSUPPORTED_NAME_SYNTAX', detail: `subject emailAddress ${JSON.stringify(a.value)} is not an IA5String` };
          names.push({ form: 'email', value: a.value, label: `subject emailAddress ${JSON.stringify(a.value)}` });
        }
      }
    }
    for (const g of sans) names.push(fromGeneralName(g, `subjectAltName ${SAN_LABEL[g.type]}`));
    for (const s of names) {
      // RFC 8398 mailboxes are compared as rfc822Name by OpenSSL; we refuse rather than compare them.
      if (s.form === 'otherName' && s.oid === OID.smtpUTF8Mailbox) {
        if ([...nc.permitted, ...nc.excluded].some((t) => t.base.type === 'email')) {
          return { error: 'UNSUPPORTED_NAME_SYNTAX', detail: `${s.label} (SmtpUTF8Mailbox) is not compared with rfc822Name constraints` };
        }
        continue;
      }
      const v = checkName(s, nc, budget);
      if (v) return v;
    }
    // A leaf without a dNSName SAN: its DNS-like commonNames stand in for one (as OpenSSL and browsers).
    if (isLeaf && !sans.some((g) => g.type === 'dns')) {
      for (const rdn of cert.subject.rdns) {
        for (const a of rdn) {
          if (a.oid !== COMMON_NAME) continue;
          const dns = cnAsDnsName(a.value);
          if (dns === undefined) continue;
          if (dns === 'UNSUPPORTED_NAME_SYNTAX') return { error: dns, detail: `subject commonName ${JSON.stringify(a.value)} contains a NUL` };
          const v = checkName({ form: 'dns', value: dns, label: `subject commonName ${JSON.stringify(dns)}` }, nc, budget);
          if (v) return v;
        }
      }
    }
    return undefined;
  } catch (e) {
    if (!(e instanceof BudgetExceeded)) throw e;
    return { error: 'UNSPECIFIED', detail: `name constraints check gave up: more than ${budget.limit} (name, subtree) pairs in one verification` };
  }
}
