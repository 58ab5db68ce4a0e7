// node:tls getPeerCertificate(detailed) shaped view of a Certificate.

import { hash } from '../crypto/hash.js';
import { encodeSubjectPublicKeyInfo } from './keys.js';
import { OID, oidName } from './oids.js';
import { DERReader, parseDER } from './der.js';
import { parseGeneralName, type Certificate, type GeneralName } from './x509.js';

export interface PeerCertificate {
  subject: Record<string, string | string[]>;
  issuer: Record<string, string | string[]>;
  subjectaltname?: string;
  /** Authority Information Access, e.g. { 'OCSP - URI': ['http://ocsp.example'], 'CA Issuers - URI': [...] }. */
  infoAccess?: Record<string, string[]>;
  ca: boolean;
  /** RSA: modulus as upper-case hex. */
  modulus?: string;
  bits?: number;
  /** RSA: public exponent as '0x10001'. */
  exponent?: string;
  /** RSA: SPKI DER; EC: uncompressed point. Absent for Ed25519, as in node. */
  pubkey?: Buffer;
  asn1Curve?: string;
  nistCurve?: string;
  valid_from: string;
  valid_to: string;
  fingerprint: string;
  fingerprint256: string;
  fingerprint512: string;
  ext_key_usage?: string[];
  serialNumber: string;
  raw: Buffer;
}

export interface DetailedPeerCertificate extends PeerCertificate {
  issuerCertificate: DetailedPeerCertificate;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** OpenSSL ASN1_TIME_print format, as node shows it: "Jan  1 00:00:00 2030 GMT". */
export function formatCertDate(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

function colonHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** node's check for SAN values that must be quoted (CVE-2021-44532 fix). */
function isSafeAltName(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\' || ch === ',' || ch === "'") return false;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function altValue(s: string): string {
  return isSafeAltName(s) ? s : JSON.stringify(s);
}

function generalNameText(n: GeneralName): string {
  switch (n.type) {
    case 'dns':
      return `DNS:${altValue(n.value)}`;
    case 'email':
      return `email:${altValue(n.value)}`;
    case 'uri':
      return `URI:${altValue(n.value)}`;
    case 'ip':
      return `IP Address:${n.value}`;
    case 'dirName':
      return `DirName:${altValue(n.name.rdns.map((rdn) => rdn.map((a) => `${a.name}=${a.value}`).join('+')).join('/').replace(/^/, '/'))}`;
    case 'registeredID':
      return `Registered ID:${oidName(n.value) === n.value ? n.value : oidName(n.value)}`;
    case 'otherName':
      return `othername:<unsupported>`;
    default:
      return `${n.type}:<unsupported>`;
  }
}

/** node's `subjectaltname` string: "DNS:localhost, IP Address:127.0.0.1". */
export function subjectAltNameString(cert: Certificate): string | undefined {
  return cert.subjectAltName?.names.map(generalNameText).join(', ');
}

const ACCESS_METHODS: Record<string, string> = {
  '1.3.6.1.5.5.7.48.1': 'OCSP',
  '1.3.6.1.5.5.7.48.2': 'CA Issuers',
};

/** RFC 5280 §4.2.2.1 authorityInfoAccess in node's infoAccess form; undefined if absent or unreadable. */
function infoAccess(cert: Certificate): Record<string, string[]> | undefined {
  const ext = cert.extensions.find((e) => e.oid === OID.authorityInfoAccess);
  if (!ext) return undefined;
  const out: Record<string, string[]> = Object.create(null);
  try {
    const r = DERReader.of(parseDER(ext.value, 'authorityInfoAccess'), 'authorityInfoAccess');
    while (!r.atEnd()) {
      const ad = r.sequence('AccessDescription');
      const method = ad.oid('accessMethod');
      const name = parseGeneralName(ad.next('accessLocation'), 'accessLocation');
      ad.end();
      const [type, ...rest] = generalNameText(name).split(':');
      const key = `${ACCESS_METHODS[method] ?? method} - ${type}`;
      let value = rest.join(':');
      if (value.startsWith('"')) value = JSON.parse(value) as string;
      (out[key] ??= []).push(value);
    }
  } catch {
    return undefined; // a malformed non-critical extension is ignored, as OpenSSL's printer does
  }
  return out;
}

function copyAttributes(a: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of Object.entries(a)) out[k] = Array.isArray(v) ? [...v] : v;
  return out;
}

function base(cert: Certificate): PeerCertificate {
  const o = {} as PeerCertificate;
  o.subject = copyAttributes(cert.subject.attributes);
  o.issuer = copyAttributes(cert.issuer.attributes);
  const san = subjectAltNameString(cert);
  if (san !== undefined) o.subjectaltname = san;
  const aia = infoAccess(cert);
  if (aia) o.infoAccess = aia;
  o.ca = cert.basicConstraints?.cA === true;
  const key = cert.publicKey;
  if (key?.type === 'rsa') {
    o.modulus = key.n.toString(16).toUpperCase();
    o.bits = key.bits;
    o.exponent = '0x' + key.e.toString(16);
    // node re-encodes RSA keys as rsaEncryption SPKI; keep the received SPKI unless it is RSASSA-PSS.
    o.pubkey = Buffer.from(cert.spki.algorithm === OID.rsaEncryption ? cert.spki.der : encodeSubjectPublicKeyInfo(key));
  } else if (key?.type === 'ec') {
    o.bits = key.curve === 'P-256' ? 256 : 384;
    o.pubkey = Buffer.from(key.point);
    o.asn1Curve = key.curve === 'P-256' ? 'prime256v1' : 'secp384r1';
    o.nistCurve = key.curve;
  }
  o.valid_from = formatCertDate(cert.notBefore);
  o.valid_to = formatCertDate(cert.notAfter);
  o.fingerprint = colonHex(hash('sha1', cert.der));
  o.fingerprint256 = colonHex(hash('sha256', cert.der));
  o.fingerprint512 = colonHex(hash('sha512', cert.der));
  if (cert.extKeyUsage) o.ext_key_usage = [...cert.extKeyUsage];
  o.serialNumber = cert.serial;
  o.raw = Buffer.from(cert.der);
  return o;
}

/**
 * The object node's getPeerCertificate() returns. With `issuerChain` (the rest of the verified path,
 * issuer first) it is the detailed form: each object's `issuerCertificate` is the next one, and the last
 * self-issued certificate points at itself, as node does.
 */
export function toPeerCertificate(cert: Certificate): PeerCertificate;
export function toPeerCertificate(cert: Certificate, issuerChain: Certificate[]): DetailedPeerCertificate;
export function toPeerCertificate(cert: Certificate, issuerChain?: Certificate[]): PeerCertificate | DetailedPeerCertificate {
  const head = base(cert);
  if (!issuerChain) return head;
  const all = [cert, ...issuerChain];
  const objs = [head, ...issuerChain.map(base)] as DetailedPeerCertificate[];
  for (let i = 0; i < objs.length; i++) {
    const next = objs[i + 1];
    if (next) objs[i]!.issuerCertificate = next;
    else if (all[i]!.selfIssued) objs[i]!.issuerCertificate = objs[i]!;
  }
  return objs[0]!;
}
