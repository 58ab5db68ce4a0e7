// Issuing X.509 v3 certificates (RFC 5280 §4.1, §4.2.1) — for the KME simulator's own PKI and tests.
//
// Signature algorithms: ecdsa-with-SHA256 for P-256 issuer keys, ecdsa-with-SHA384 for P-384, Ed25519
// (RFC 8410) and sha256WithRSAEncryption for RSA. Names use PrintableString for C and UTF8String for the
// rest (RFC 5280 §4.1.2.6); the issuer name is copied byte for byte from the issuer's subject so that
// name chaining is exact. SKI is the SHA-1 of the subjectPublicKey (§4.2.1.2 method 1); AKI carries the
// issuer's SKI. CAs can carry nameConstraints (§4.2.1.10), critical by default.

import { hash } from '../crypto/hash.js';
import { ecPublicPoint, ecRandomScalar } from '../crypto/ecdsa.js';
import { ed25519PublicFromSeed } from '../crypto/ed25519.js';
import type { HashName, PrivateKey, PublicKey, SignatureAlgorithm } from '../crypto/keys.js';
import { randomBytes } from '../crypto/random.js';
import { signData } from '../crypto/signature.js';
import { equalBytes } from '../wire/bytes.js';
import { der } from './der.js';
import { parseIp } from './hostname.js';
import { encodeRsaPublicKey, encodeSubjectPublicKeyInfo, privateKeyToPem } from './keys.js';
import { NAME_ATTRIBUTE_OIDS, OID } from './oids.js';
import { pemEncode } from './pem.js';
import { KEY_USAGE_BITS, parseCertificate, type Certificate, type KeyUsage } from './x509.js';

/** Subject attributes by OpenSSL short name (CN, O, OU, C, ST, L, emailAddress, DC, serialNumber ...). */
export type NameInput = Record<string, string | string[] | undefined>;

export interface IssueOptions {
  subject: NameInput;
  publicKey: PublicKey;
  /** The issuing CA certificate, or 'self' for a self-signed certificate (then issuerKey must match publicKey). */
  issuer: Certificate | 'self';
  issuerKey: PrivateKey;
  /** Defaults to 16 random bytes (positive). A hex string, bigint or number are accepted. */
  serial?: bigint | number | string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** basicConstraints pathLenConstraint (CA only). */
  pathLen?: number;
  san?: { dns?: string[]; ip?: string[]; uri?: string[]; email?: string[]; dirName?: NameInput[] };
  /** nameConstraints (CA only; RFC 5280 §4.2.1.10). */
  nameConstraints?: NameConstraintsInput;
  /** Defaults: CA → keyCertSign, cRLSign; RSA leaf → digitalSignature, keyEncipherment; else digitalSignature. */
  keyUsage?: KeyUsage[];
  /** Omitted when undefined. Names or dotted OIDs. */
  extKeyUsage?: ('serverAuth' | 'clientAuth' | string)[];
  /** Hash for ECDSA / RSA signatures; defaults to SHA-256 (SHA-384 for a P-384 issuer key). */
  hash?: Exclude<HashName, 'sha1'>;
  /** Leave out basicConstraints entirely (tests: a "CA" without the CA flag, or a v3 leaf without it). */
  omitBasicConstraints?: boolean;
  /** Additional raw extensions (tests: unknown critical extensions). */
  extraExtensions?: { oid: string; critical: boolean; value: Uint8Array }[];
}

/** The subtrees of one list, by form. */
export interface SubtreesInput {
  /** "example.com" (the host and everything under it), ".example.com" (only under it). */
  dns?: string[];
  /** CIDR ("10.0.0.0/8", "2001:db8::/32") or address/mask ("10.0.0.0/255.0.0.0"). */
  ip?: string[];
  /** A mailbox "user@host", a host "host", or ".domain". */
  email?: string[];
  /** URI host constraints: "host" or ".domain". */
  uri?: string[];
  /** directoryName prefixes. */
  dirName?: NameInput[];
}

export interface NameConstraintsInput {
  permitted?: SubtreesInput;
  excluded?: SubtreesInput;
  /** Default true: §4.2.1.10 says conforming CAs MUST mark the extension critical. */
  critical?: boolean;
  /** Tests only: a minimum / maximum on every subtree (§4.2.1.10 requires 0 / absent). */
  minimum?: number;
  maximum?: number;
}

export interface IssuedCertificate {
  der: Uint8Array;
  pem: string;
  certificate: Certificate;
}

const NAME_ORDER = ['C', 'ST', 'L', 'O', 'OU', 'CN'];
const IA5_ATTRIBUTES = new Set(['emailAddress', 'DC']);
const PRINTABLE_ATTRIBUTES = new Set(['C', 'serialNumber', 'dnQualifier']);

/** Encode a Name (RDNSequence, one attribute per RDN) from short-name attributes. */
export function encodeName(input: NameInput): Uint8Array {
  const keys = Object.keys(input).filter((k) => input[k] !== undefined);
  keys.sort((a, b) => {
    const ia = NAME_ORDER.indexOf(a);
    const ib = NAME_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  const rdns: Uint8Array[] = [];
  for (const k of keys) {
    const oid = NAME_ATTRIBUTE_OIDS[k] ?? (/^\d+(\.\d+)+$/.test(k) ? k : undefined);
    if (!oid) throw new TypeError(`unknown name attribute ${k}`);
    const values = ([] as string[]).concat(input[k]!);
    for (const v of values) {
      const value = IA5_ATTRIBUTES.has(k) ? der.ia5String(v) : PRINTABLE_ATTRIBUTES.has(k) ? der.printableString(v) : der.utf8String(v);
      rdns.push(der.setOf(der.sequence(der.oid(oid), value)));
    }
  }
  return der.sequence(...rdns);
}

function signatureFor(key: PrivateKey, hash?: Exclude<HashName, 'sha1'>): { alg: SignatureAlgorithm; algId: Uint8Array } {
  switch (key.type) {
    case 'ec': {
      const h = hash ?? (key.curve === 'P-384' ? 'sha384' : 'sha256');
      const oid = { sha256: OID.ecdsaWithSHA256, sha384: OID.ecdsaWithSHA384, sha512: OID.ecdsaWithSHA512 }[h];
      return { alg: { kind: 'ecdsa', hash: h }, algId: der.sequence(der.oid(oid)) };
    }
    case 'ed25519':
      return { alg: { kind: 'ed25519' }, algId: der.sequence(der.oid(OID.ed25519)) };
    case 'rsa': {
      const h = hash ?? 'sha256';
      const oid = { sha256: OID.sha256WithRSAEncryption, sha384: OID.sha384WithRSAEncryption, sha512: OID.sha512WithRSAEncryption }[h];
      return { alg: { kind: 'rsa-pkcs1', hash: h }, algId: der.sequence(der.oid(oid), der.null()) };
    }
  }
}

function publicKeyBits(key: PublicKey): Uint8Array {
  // The subjectPublicKey BIT STRING contents, the input of the SKI hash.
  return key.type === 'rsa' ? encodeRsaPublicKey(key.n, key.e) : key.type === 'ec' ? key.point : key.raw;
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(key: PublicKey): Uint8Array {
  return hash('sha1', publicKeyBits(key));
}

function serialBytes(serial: IssueOptions['serial']): Uint8Array {
  if (serial === undefined) {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x01;
    return der.integer(BigInt('0x' + Buffer.from(b).toString('hex')));
  }
  const n = typeof serial === 'string' ? BigInt('0x' + serial.replace(/[:\s]/g, '')) : BigInt(serial);
  if (n <= 0n) throw new RangeError('serial number must be positive (RFC 5280 §4.1.2.2)');
  return der.integer(n);
}

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? der.sequence(der.oid(oid), der.boolean(true), der.octetString(value)) : der.sequence(der.oid(oid), der.octetString(value));
}

/** keyUsage as a DER named bit list: bit 0 is the MSB of the first octet, trailing zero bits dropped (X.690 §11.2.2). */
function keyUsageBits(usages: KeyUsage[]): Uint8Array {
  const idx = usages.map((u) => {
    const i = KEY_USAGE_BITS.indexOf(u);
    if (i < 0) throw new TypeError(`unknown keyUsage ${u}`);
    return i;
  });
  const max = Math.max(...idx);
  const bytes = new Uint8Array((max >> 3) + 1);
  for (const i of idx) bytes[i >> 3]! |= 0x80 >> (i & 7);
  return der.bitString(bytes, 7 - (max & 7));
}

/** An iPAddress constraint: the address followed by its mask (4 + 4 or 16 + 16 octets). */
function ipRange(text: string): Uint8Array {
  const slash = text.lastIndexOf('/');
  const addr = slash > 0 ? parseIp(text.slice(0, slash)) : undefined;
  const maskText = text.slice(slash + 1);
  if (!addr) throw new TypeError(`not an address/mask or CIDR range: ${text}`);
  let mask: Uint8Array | undefined;
  if (/^\d+$/.test(maskText)) {
    const bits = Number(maskText);
    if (bits > addr.length * 8) throw new TypeError(`prefix length ${bits} too long in ${text}`);
    mask = new Uint8Array(addr.length);
    for (let i = 0; i < bits; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  } else {
    mask = parseIp(maskText);
    if (!mask || mask.length !== addr.length) throw new TypeError(`mask does not fit the address in ${text}`);
  }
  const out = new Uint8Array(addr.length * 2);
  out.set(addr);
  out.set(mask, addr.length);
  return out;
}

/** RFC 5280 §4.2.1.10 NameConstraints value (the extnValue contents). */
export function encodeNameConstraints(nc: NameConstraintsInput): Uint8Array {
  const distances = [
    ...(nc.minimum !== undefined ? [der.implicit(0, der.integer(nc.minimum).subarray(2))] : []),
    ...(nc.maximum !== undefined ? [der.implicit(1, der.integer(nc.maximum).subarray(2))] : []),
  ];
  const subtrees = (t: SubtreesInput): Uint8Array[] => {
    const bases: Uint8Array[] = [];
    for (const d of t.dns ?? []) bases.push(der.implicit(2, Buffer.from(ascii(d, 'dNSName'), 'latin1')));
    for (const ip of t.ip ?? []) bases.push(der.implicit(7, ipRange(ip)));
    for (const e of t.email ?? []) bases.push(der.implicit(1, Buffer.from(ascii(e, 'rfc822Name'), 'latin1')));
    for (const u of t.uri ?? []) bases.push(der.implicit(6, Buffer.from(ascii(u, 'URI'), 'latin1')));
    for (const n of t.dirName ?? []) bases.push(der.explicit(4, encodeName(n)));
    return bases.map((b) => der.sequence(b, ...distances));
  };
  const permitted = nc.permitted ? subtrees(nc.permitted) : [];
  const excluded = nc.excluded ? subtrees(nc.excluded) : [];
  return der.sequence(...(permitted.length ? [der.explicit(0, ...permitted)] : []), ...(excluded.length ? [der.explicit(1, ...excluded)] : []));
}

function ascii(s: string, what: string): string {
  if (/[^\x20-\x7e]/.test(s)) throw new TypeError(`${what} must be printable ASCII: ${JSON.stringify(s)}`);
  return s;
}

/** Issue an X.509 v3 certificate. */
export function issueCertificate(opts: IssueOptions): IssuedCertificate {
  const self = opts.issuer === 'self';
  const issuerPublic = self ? opts.publicKey : (opts.issuer as Certificate).publicKey;
  if (!issuerPublic) throw new TypeError('issuer certificate has an unsupported public key');
  if (!equalBytes(encodeSubjectPublicKeyInfo(issuerPublic), encodeSubjectPublicKeyInfo(opts.issuerKey.publicKey))) {
    throw new TypeError(self ? 'issuerKey does not match publicKey of a self-signed certificate' : 'issuerKey does not match the issuer certificate');
  }
  if (opts.notAfter.getTime() < opts.notBefore.getTime()) throw new RangeError('notAfter is before notBefore');
  const { alg, algId } = signatureFor(opts.issuerKey, opts.hash);
  const subjectName = encodeName(opts.subject);
  const issuerName = self ? subjectName : (opts.issuer as Certificate).subject.der;
  const ski = keyIdentifier(opts.publicKey);
  const aki = self ? ski : (opts.issuer as Certificate).subjectKeyIdentifier ?? keyIdentifier(issuerPublic);

  const exts: Uint8Array[] = [];
  if (!opts.omitBasicConstraints) {
    const bc = opts.isCA
      ? der.sequence(der.boolean(true), ...(opts.pathLen !== undefined ? [der.integer(opts.pathLen)] : []))
      : der.sequence();
    exts.push(ext(OID.basicConstraints, true, bc));
  }
  const ku = opts.keyUsage ?? (opts.isCA ? ['keyCertSign', 'cRLSign'] : opts.publicKey.type === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  if (ku.length) exts.push(ext(OID.keyUsage, true, keyUsageBits(ku as KeyUsage[])));
  if (opts.extKeyUsage?.length) {
    const oids = opts.extKeyUsage.map((u) => (u === 'serverAuth' ? OID.serverAuth : u === 'clientAuth' ? OID.clientAuth : u));
    exts.push(ext(OID.extKeyUsage, false, der.sequence(...oids.map((o) => der.oid(o)))));
  }
  exts.push(ext(OID.subjectKeyIdentifier, false, der.octetString(ski)));
  exts.push(ext(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, aki))));
  if (opts.nameConstraints) {
    if (!opts.isCA) throw new TypeError('nameConstraints belong in a CA certificate (RFC 5280 §4.2.1.10)');
    exts.push(ext(OID.nameConstraints, opts.nameConstraints.critical ?? true, encodeNameConstraints(opts.nameConstraints)));
  }
  const san = opts.san;
  if (san && (san.dns?.length || san.ip?.length || san.uri?.length || san.email?.length || san.dirName?.length)) {
    const names: Uint8Array[] = [];
    for (const e of san.email ?? []) names.push(der.implicit(1, Buffer.from(ascii(e, 'email'), 'latin1')));
    for (const d of san.dns ?? []) names.push(der.implicit(2, Buffer.from(ascii(d, 'dNSName'), 'latin1')));
    for (const u of san.uri ?? []) names.push(der.implicit(6, Buffer.from(ascii(u, 'URI'), 'latin1')));
    for (const ip of san.ip ?? []) {
      const bytes = parseIp(ip);
      if (!bytes) throw new TypeError(`not an IP address: ${ip}`);
      names.push(der.implicit(7, bytes));
    }
    for (const n of san.dirName ?? []) names.push(der.explicit(4, encodeName(n)));
    // RFC 5280 §4.2.1.6: critical when the subject is empty.
    const emptySubject = Object.values(opts.subject).every((v) => v === undefined);
    exts.push(ext(OID.subjectAltName, emptySubject, der.sequence(...names)));
  }
  for (const e of opts.extraExtensions ?? []) exts.push(ext(e.oid, e.critical, e.value));

  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    serialBytes(opts.serial),
    algId,
    issuerName,
    der.sequence(der.time(opts.notBefore), der.time(opts.notAfter)),
    subjectName,
    encodeSubjectPublicKeyInfo(opts.publicKey),
    der.explicit(3, der.sequence(...exts)),
  );
  const signature = signData(alg, opts.issuerKey, tbs);
  const certDer = der.sequence(tbs, algId, der.bitString(signature));
  return { der: certDer, pem: pemEncode('CERTIFICATE', certDer), certificate: parseCertificate(certDer) };
}

export type KeyPairType = 'P-256' | 'P-384' | 'ed25519';

/** A fresh key pair; `pem` is the private key as PKCS#8 PEM. */
export function generateKeyPair(type: KeyPairType): { privateKey: PrivateKey; publicKey: PublicKey; pem: string } {
  let privateKey: PrivateKey;
  if (type === 'ed25519') {
    const seed = randomBytes(32);
    privateKey = { type: 'ed25519', seed, publicKey: { type: 'ed25519', raw: ed25519PublicFromSeed(seed) } };
  } else {
    const d = ecRandomScalar(type);
    privateKey = { type: 'ec', curve: type, d, publicKey: { type: 'ec', curve: type, point: ecPublicPoint(type, d) } };
  }
  return { privateKey, publicKey: privateKey.publicKey, pem: privateKeyToPem(privateKey) };
}
