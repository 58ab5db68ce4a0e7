// Server identity check (RFC 6125 §6), with node:tls checkServerIdentity() semantics:
//  - an IP address host matches only iPAddress SANs (never a dNSName, never the CN);
//  - a DNS host matches dNSName SANs case-insensitively, a trailing dot on either side ignored;
//  - a wildcard is allowed only as the complete left-most label ("*.example.com"), matches exactly one
//    non-empty label, never a partial label ("f*o.example.com" — stricter than node, per RFC 6125
//    §7.2 advice), never in a pattern of fewer than three labels ("*.com"), never an A-label (xn--);
//  - the subject CN is consulted only when the certificate has no dNSName SAN (RFC 6125 §6.4.4).

import { isIP } from 'node:net';
import type { Certificate } from './x509.js';

/** The fields checkServerIdentity needs: our Certificate, or a node-style peer certificate object. */
export type IdentitySource =
  | Certificate
  | { subject?: Record<string, string | string[] | undefined> | null; subjectaltname?: string };

export class HostnameMismatchError extends Error {
  readonly code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  /** TLS alert a handshake should send for this failure. */
  readonly alert = 'bad_certificate' as const;
  readonly reason: string;
  readonly host: string;
  readonly cert: IdentitySource;
  constructor(reason: string, host: string, cert: IdentitySource) {
    super(`Hostname/IP does not match certificate's altnames: ${reason}`);
    this.name = 'HostnameMismatchError';
    this.reason = reason;
    this.host = host;
    this.cert = cert;
  }
}

/** Parse an IPv4 or IPv6 literal (optionally with a %zone) to 4 or 16 bytes; undefined if not an IP. */
export function parseIp(text: string): Uint8Array | undefined {
  const s = text.replace(/%.*$/, '');
  const kind = isIP(s);
  if (kind === 4) return Uint8Array.from(s.split('.').map(Number));
  if (kind !== 6) return undefined;
  let head = s;
  let v4: number[] = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    head = m[1]!.endsWith('::') ? m[1]! : m[1]!.slice(0, -1);
    v4 = m[2]!.split('.').map(Number);
  }
  const groupsNeeded = 8 - v4.length / 2;
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').filter((x) => x !== '').map((g) => parseInt(g, 16)) : []);
  const l = parse(left);
  const r = parse(right);
  const groups = right === undefined ? l : [...l, ...new Array<number>(groupsNeeded - l.length - r.length).fill(0), ...r];
  if (groups.length !== groupsNeeded) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  out.set(v4, 12);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function labels(name: string): string[] {
  return name.replace(/\.$/, '').toLowerCase().split('.');
}

/** RFC 6125 §6.4 match of one reference identifier (the host) against one presented DNS-ID pattern. */
export function matchesDnsName(host: string, pattern: string): boolean {
  if (!pattern || !host) return false;
  const h = labels(host);
  const p = labels(pattern);
  if (h.length !== p.length) return false;
  // Empty labels, non-ASCII, blanks and control characters never match.
  if (p.some((x) => x === '' || /[^\x21-\x7e]/.test(x))) return false;
  if (h.some((x) => x === '' || x.includes('*'))) return false;
  for (let i = p.length - 1; i > 0; i--) if (h[i] !== p[i]) return false;
  const first = p[0]!;
  if (!first.includes('*')) return h[0] === first;
  // Wildcard rules (RFC 6125 §6.4.3): the whole left-most label, not an A-label, not "*.tld".
  if (first !== '*' || p.length < 3) return false;
  return true;
}

function fromSubjectAltNameString(s: string): { dns: string[]; ips: string[] } {
  // node's form: "DNS:a, IP Address:1.2.3.4, email:x"; values with special characters are JSON-quoted.
  const dns: string[] = [];
  const ips: string[] = [];
  const re = /(DNS|IP Address|email|URI|DirName|othername|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (m[1] === 'DNS') dns.push(value);
    else if (m[1] === 'IP Address') ips.push(value);
  }
  return { dns, ips };
}

function identities(cert: IdentitySource): { dns: string[]; ips: Uint8Array[]; ipText: string[]; cn: string[]; altText: string } {
  if ('tbs' in cert) {
    const san = cert.subjectAltName;
    const ipNames = san?.names.filter((n): n is Extract<typeof n, { type: 'ip' }> => n.type === 'ip') ?? [];
    const cnRaw = cert.subject.attributes['CN'];
    return {
      dns: san?.dns ?? [],
      ips: ipNames.map((n) => n.bytes),
      ipText: ipNames.map((n) => n.value),
      cn: cnRaw === undefined ? [] : Array.isArray(cnRaw) ? cnRaw : [cnRaw],
      altText: (san?.names ?? []).map((n) => `${n.type === 'ip' ? 'IP Address' : n.type === 'dns' ? 'DNS' : n.type}:${n.value}`).join(', '),
    };
  }
  const { dns, ips } = fromSubjectAltNameString(cert.subjectaltname ?? '');
  const cnRaw = cert.subject?.['CN'];
  return {
    dns,
    ips: ips.map(parseIp).filter((b): b is Uint8Array => b !== undefined),
    ipText: ips,
    cn: cnRaw === undefined ? [] : Array.isArray(cnRaw) ? cnRaw : [cnRaw],
    altText: cert.subjectaltname ?? '',
  };
}

/**
 * node:tls checkServerIdentity(): undefined when `host` matches the certificate, else a
 * HostnameMismatchError (code ERR_TLS_CERT_ALTNAME_INVALID) saying why.
 */
export function checkServerIdentity(hostname: string, cert: IdentitySource): HostnameMismatchError | undefined {
  const host = String(hostname).replace(/\.$/, '');
  const id = identities(cert);
  const ip = parseIp(host.replace(/^\[(.*)\]$/, '$1'));
  if (ip) {
    if (id.ips.some((b) => sameBytes(b, ip))) return undefined;
    return new HostnameMismatchError(`IP: ${host} is not in the cert's list: ${id.ipText.join(', ')}`, host, cert);
  }
  if (id.dns.length > 0) {
    if (id.dns.some((p) => matchesDnsName(host, p))) return undefined;
    return new HostnameMismatchError(`Host: ${host}. is not in the cert's altnames: ${id.altText}`, host, cert);
  }
  if (id.cn.length > 0) {
    if (id.cn.some((p) => parseIp(p) === undefined && matchesDnsName(host, p))) return undefined;
    return new HostnameMismatchError(`Host: ${host}. is not cert's CN: ${id.cn.join(', ')}`, host, cert);
  }
  return new HostnameMismatchError('Cert does not contain a DNS name', host, cert);
}
