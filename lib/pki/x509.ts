// X.509 v1/v3 certificate parsing (RFC 5280 §4.1) and the extensions the chain check and the
// handshake use (§4.2.1.1 AKI, .2 SKI, .3 keyUsage, .6 subjectAltName, .9 basicConstraints,
// .10 nameConstraints, .12 extKeyUsage). Unknown extensions are kept raw; unknown *critical* ones are
// listed so that chain.ts can reject the certificate (§4.2: "MUST reject ... critical extension it does
// not recognize").

import { TLSError } from '../alert.js';
import type { HashName, PublicKey, SignatureAlgorithm } from '../crypto/keys.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import {
  DERReader,
  Tag,
  bitStringOctets,
  contextTag,
  decodeBitString,
  decodeInteger,
  decodeOID,
  decodeString,
  decodeTime,
  isStringTag,
  parseDER,
  readTLV,
  type DERNode,
} from './der.js';
import { UnsupportedKeyError, parseSubjectPublicKeyInfo, readSubjectPublicKeyInfo } from './keys.js';
import { NAME_ATTRIBUTES, OID, oidName } from './oids.js';
import { looksLikePem, pemDecode, pemText } from './pem.js';

// --- Types ------------------------------------------------------------------------------------------

export interface NameAttribute {
  oid: string;
  /** OpenSSL short name (CN, O, OU, C, ST, L, emailAddress ...) or the dotted OID when unknown. */
  name: string;
  /** Decoded string value; a non-string value is '#' + hex of its DER (RFC 4514 §2.4). */
  value: string;
  /** The ASN.1 tag of the value (PrintableString, UTF8String ...). */
  tag: number;
}

export interface Name {
  /** RDNSequence in encoding order; each RDN is a set of one or more attributes. */
  rdns: NameAttribute[][];
  /** node:tls style object: short name → value, or an array when the attribute repeats. */
  attributes: Record<string, string | string[]>;
  /** The DER encoding of the Name, for exact comparison. */
  der: Uint8Array;
  /** One-line form for messages: "C=DE, O=Example, CN=host". */
  text: string;
}

export type GeneralName =
  | { type: 'dns'; value: string }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'ip'; value: string; bytes: Uint8Array }
  | { type: 'dirName'; value: string; name: Name }
  | { type: 'registeredID'; value: string }
  | { type: 'otherName'; value: string }
  | { type: 'x400Address' | 'ediPartyName'; value: string };

export interface SubjectAltName {
  /** Every name in encoding order. */
  names: GeneralName[];
  dns: string[];
  /** IP addresses in OpenSSL's text form (IPv6 as eight uncompressed upper-case hex groups). */
  ip: string[];
  uri: string[];
  email: string[];
}

/** RFC 5280 §4.2.1.10 GeneralSubtree. */
export interface GeneralSubtree {
  /**
   * The subtree's root. An iPAddress base is address + mask (8 or 32 octets; any other length is kept
   * and refused when an address is compared with it, as OpenSSL does): `bytes` holds both and `value`
   * reads "10.0.0.0/255.0.0.0".
   */
  base: GeneralName;
  /** BaseDistance minimum: MUST be 0 (the default) — anything else makes the constraint unusable. */
  minimum: bigint;
  /** BaseDistance maximum: MUST be absent. */
  maximum?: bigint;
}

/** RFC 5280 §4.2.1.10 NameConstraints; an absent list is empty here. */
export interface NameConstraints {
  permitted: GeneralSubtree[];
  excluded: GeneralSubtree[];
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING contents. */
  value: Uint8Array;
}

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export interface BasicConstraints {
  cA: boolean;
  pathLen?: number;
}

export interface AuthorityKeyIdentifier {
  keyIdentifier?: Uint8Array;
  issuer?: GeneralName[];
  serial?: string;
}

export interface Certificate {
  /** The whole certificate DER. */
  der: Uint8Array;
  /** The TBSCertificate DER: what the issuer signed. */
  tbs: Uint8Array;
  version: 1 | 2 | 3;
  /** Serial number as upper-case hex of its octets (as node prints it), '-' prefixed if negative. */
  serial: string;
  serialNumber: bigint;
  /** null when the algorithm is not one we implement (MD5, SHA-224, DSA, Ed448 ...). */
  signatureAlgorithm: SignatureAlgorithm | null;
  signatureAlgorithmOid: string;
  /** Readable name ('sha256WithRSAEncryption', 'ecdsaWithSHA256', 'rsassaPss', 'ed25519' ...). */
  signatureAlgorithmName: string;
  /** Why signatureAlgorithm is null. */
  signatureAlgorithmUnsupported?: string;
  signature: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  spki: {
    /** SubjectPublicKeyInfo DER. */
    der: Uint8Array;
    algorithm: string;
    /** The raw subjectPublicKey BIT STRING contents. */
    key: Uint8Array;
    publicKey: PublicKey | null;
    /** Why publicKey is null (an algorithm or curve we do not implement). */
    unsupported?: string;
    /** For EC keys: the curve OID. */
    curveOid?: string;
  };
  /** Shorthand for spki.publicKey. */
  publicKey: PublicKey | null;
  extensions: Extension[];
  subjectAltName?: SubjectAltName;
  basicConstraints?: BasicConstraints;
  keyUsage?: KeyUsage[];
  /** extendedKeyUsage OIDs (OID.serverAuth, OID.clientAuth, ...). */
  extKeyUsage?: string[];
  /** nameConstraints (CA certificates), enforced by chain.ts through name-constraints.ts. */
  nameConstraints?: NameConstraints;
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: AuthorityKeyIdentifier;
  /** OIDs of critical extensions this parser does not process; chain validation rejects them. */
  unknownCriticalExtensions: string[];
  /** Subject and issuer are the same name (RFC 5280 §6.1 "self-issued"). */
  selfIssued: boolean;
}

// --- Errors -----------------------------------------------------------------------------------------

export class CertificateParseError extends TLSError {
  constructor(message: string, cause?: unknown) {
    super('bad_certificate', `certificate: ${message}`, 'local', cause === undefined ? undefined : { cause });
    this.name = 'CertificateParseError';
  }
}

function bad(message: string): never {
  throw new TLSError('decode_error', message);
}

// --- Names (RFC 5280 §4.1.2.4) ----------------------------------------------------------------------

function attributeValue(node: DERNode, what: string): string {
  if (isStringTag(node.tag)) return decodeString(node, what);
  return '#' + toHex(node.raw);
}

export function parseName(node: DERNode, what = 'Name'): Name {
  if (node.tag !== Tag.SEQUENCE) bad(`${what}: expected SEQUENCE`);
  const r = new DERReader(node.value, what);
  const rdns: NameAttribute[][] = [];
  const attributes: Record<string, string | string[]> = Object.create(null);
  while (!r.atEnd()) {
    const set = r.sequence('RelativeDistinguishedName', Tag.SET);
    const rdn: NameAttribute[] = [];
    while (!set.atEnd()) {
      const atv = set.sequence('AttributeTypeAndValue');
      const oid = atv.oid('type');
      const valueNode = atv.next('value');
      atv.end();
      const name = NAME_ATTRIBUTES[oid] ?? oid;
      const value = attributeValue(valueNode, `${what}.${name}`);
      rdn.push({ oid, name, value, tag: valueNode.tag });
      const prev = attributes[name];
      attributes[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    if (rdn.length === 0) bad(`${what}: empty RelativeDistinguishedName`);
    rdns.push(rdn);
  }
  const text = rdns.map((rdn) => rdn.map((a) => `${a.name}=${a.value}`).join(' + ')).join(', ');
  return { rdns, attributes, der: node.raw, text };
}

/**
 * RFC 5280 §7.1 name comparison: identical DER, or equal after RFC 4518-style folding of string values
 * (case-insensitive, leading/trailing whitespace removed, inner whitespace collapsed). Attribute order
 * inside a multi-valued RDN does not matter.
 */
export function namesMatch(a: Name, b: Name): boolean {
  return equalBytes(a.der, b.der) || canonicalName(a) === canonicalName(b);
}

const canonicalCache = new WeakMap<Name, string>();
const canonicalRdnCache = new WeakMap<Name, string[]>();

/**
 * Each RDN of `name` in folded form (one string per RDN, its attributes sorted): what namesMatch and the
 * directoryName name constraint (RFC 5280 §4.2.1.10, an RDN-wise prefix) compare. Cached per Name.
 */
export function canonicalRdns(name: Name): string[] {
  let rdns = canonicalRdnCache.get(name);
  if (rdns === undefined) {
    const fold = (x: NameAttribute): string =>
      `${x.oid}=${x.value.startsWith('#') ? x.value : x.value.trim().replace(/\s+/g, ' ').toLowerCase()}`;
    rdns = name.rdns.map((rdn) => JSON.stringify(rdn.map(fold).sort()));
    canonicalRdnCache.set(name, rdns);
  }
  return rdns;
}

/** The folded form namesMatch compares; equal strings mean matching names. Cached per Name. */
export function canonicalName(name: Name): string {
  let key = canonicalCache.get(name);
  if (key === undefined) {
    key = `[${canonicalRdns(name).join(',')}]`;
    canonicalCache.set(name, key);
  }
  return key;
}

// --- Algorithm identifiers --------------------------------------------------------------------------

const HASH_OIDS: Record<string, HashName> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

const RSA_PKCS1: Record<string, HashName> = {
  [OID.sha1WithRSAEncryption]: 'sha1',
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
};

const ECDSA: Record<string, HashName> = {
  [OID.ecdsaWithSHA1]: 'sha1',
  [OID.ecdsaWithSHA256]: 'sha256',
  [OID.ecdsaWithSHA384]: 'sha384',
  [OID.ecdsaWithSHA512]: 'sha512',
};

function isNullOrAbsent(params: DERNode | undefined): boolean {
  return !params || (params.tag === Tag.NULL && params.value.length === 0);
}

/** A hash AlgorithmIdentifier (parameters NULL or absent, RFC 4055 §2.1). */
function hashAlgorithm(node: DERNode, what: string): HashName | string {
  const r = DERReader.of(node, what);
  const oid = r.oid('algorithm');
  const params = r.atEnd() ? undefined : r.next('parameters');
  r.end();
  if (!isNullOrAbsent(params)) bad(`${what}: hash parameters must be NULL or absent`);
  return HASH_OIDS[oid] ?? `${oidName(oid)} (${oid})`;
}

/** RFC 4055 §3.1 RSASSA-PSS-params, with its defaults (SHA-1, MGF1-SHA-1, salt 20, trailer 1). */
function parsePssParams(params: DERNode | undefined): SignatureAlgorithm | string {
  if (!params) return 'RSASSA-PSS without parameters';
  if (params.tag !== Tag.SEQUENCE) bad('RSASSA-PSS-params: expected SEQUENCE');
  const r = new DERReader(params.value, 'RSASSA-PSS-params');
  let hash: HashName | string = 'sha1';
  let mgfHash: HashName | string = 'sha1';
  let saltLength = 20;
  const h = r.optional(contextTag(0, true), 'hashAlgorithm');
  if (h) {
    const hr = DERReader.of(h, 'RSASSA-PSS-params.hashAlgorithm');
    hash = hashAlgorithm(hr.expect(Tag.SEQUENCE, 'hashAlgorithm'), 'RSASSA-PSS-params.hashAlgorithm');
    hr.end();
  }
  const m = r.optional(contextTag(1, true), 'maskGenAlgorithm');
  if (m) {
    const mr = DERReader.of(m, 'RSASSA-PSS-params.maskGenAlgorithm');
    const alg = mr.sequence('maskGenAlgorithm');
    const mgf = alg.oid('algorithm');
    if (mgf !== OID.mgf1) return `mask generation function ${oidName(mgf)}`;
    mgfHash = hashAlgorithm(alg.expect(Tag.SEQUENCE, 'parameters'), 'MGF1 hash');
    alg.end();
    mr.end();
  }
  const s = r.optional(contextTag(2, true), 'saltLength');
  if (s) {
    const sr = DERReader.of(s, 'RSASSA-PSS-params.saltLength');
    saltLength = sr.smallInteger('saltLength', 1024);
    sr.end();
  }
  const t = r.optional(contextTag(3, true), 'trailerField');
  if (t) {
    const tr = DERReader.of(t, 'RSASSA-PSS-params.trailerField');
    if (tr.integer('trailerField') !== 1n) bad('RSASSA-PSS-params: trailerField must be 1');
    tr.end();
  }
  r.end();
  if (!Object.values(HASH_OIDS).includes(hash as HashName)) return `RSASSA-PSS with hash ${hash}`;
  if (!Object.values(HASH_OIDS).includes(mgfHash as HashName)) return `RSASSA-PSS with MGF1 hash ${mgfHash}`;
  return { kind: 'rsa-pss', hash: hash as HashName, mgfHash: mgfHash as HashName, saltLength };
}

/** AlgorithmIdentifier of a certificate signature → SignatureAlgorithm, or a reason it is unsupported. */
export function parseSignatureAlgorithm(node: DERNode): { oid: string; alg: SignatureAlgorithm | null; unsupported?: string } {
  const r = DERReader.of(node, 'signatureAlgorithm');
  const oid = r.oid('algorithm');
  const params = r.atEnd() ? undefined : r.next('parameters');
  r.end();
  const rsa = RSA_PKCS1[oid];
  if (rsa) {
    if (!isNullOrAbsent(params)) bad(`${oidName(oid)}: parameters must be NULL`);
    return { oid, alg: { kind: 'rsa-pkcs1', hash: rsa } };
  }
  const ec = ECDSA[oid];
  if (ec) {
    // RFC 5758 §3.2: parameters absent. Some old encoders wrote NULL; tolerate that.
    if (!isNullOrAbsent(params)) bad(`${oidName(oid)}: parameters must be absent`);
    return { oid, alg: { kind: 'ecdsa', hash: ec } };
  }
  if (oid === OID.ed25519) {
    if (params) bad('Ed25519 signature: parameters must be absent');
    return { oid, alg: { kind: 'ed25519' } };
  }
  if (oid === OID.rsassaPss) {
    const pss = parsePssParams(params);
    return typeof pss === 'string' ? { oid, alg: null, unsupported: pss } : { oid, alg: pss };
  }
  return { oid, alg: null, unsupported: `signature algorithm ${oidName(oid)} (${oid})` };
}

// --- Extensions (RFC 5280 §4.2.1) ---------------------------------------------------------------------

function ia5(node: DERNode, what: string): string {
  for (const c of node.value) if (c >= 0x80) bad(`${what}: non-ASCII octet in IA5String`);
  return Buffer.from(node.value).toString('latin1');
}

/** OpenSSL's text form of an iPAddress: dotted IPv4, or eight upper-case hex groups for IPv6. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
    return groups.join(':');
  }
  return `<invalid length ${bytes.length}>`;
}

/** An iPAddress name constraint as OpenSSL prints it: "10.0.0.0/255.0.0.0" (address / mask). */
export function formatIpRange(bytes: Uint8Array): string {
  if (bytes.length !== 8 && bytes.length !== 32) return `<invalid length ${bytes.length}>`;
  const half = bytes.length / 2;
  return `${formatIp(bytes.subarray(0, half))}/${formatIp(bytes.subarray(half))}`;
}

export function parseGeneralName(node: DERNode, what = 'GeneralName'): GeneralName {
  switch (node.tag) {
    case contextTag(0, true): {
      const r = new DERReader(node.value, `${what}.otherName`);
      const oid = r.oid('type-id');
      r.expect(contextTag(0, true), 'value');
      r.end();
      return { type: 'otherName', value: oid };
    }
    case contextTag(1, false):
      return { type: 'email', value: ia5(node, `${what}.rfc822Name`) };
    case contextTag(2, false):
      return { type: 'dns', value: ia5(node, `${what}.dNSName`) };
    case contextTag(3, true):
      return { type: 'x400Address', value: '<unsupported>' };
    case contextTag(4, true): {
      const r = new DERReader(node.value, `${what}.directoryName`);
      const name = parseName(r.expect(Tag.SEQUENCE, 'Name'), `${what}.directoryName`);
      r.end();
      return { type: 'dirName', value: name.text, name };
    }
    case contextTag(5, true):
      return { type: 'ediPartyName', value: '<unsupported>' };
    case contextTag(6, false):
      return { type: 'uri', value: ia5(node, `${what}.uniformResourceIdentifier`) };
    case contextTag(7, false): {
      if (node.value.length !== 4 && node.value.length !== 16) bad(`${what}: iPAddress of ${node.value.length} octets (need 4 or 16)`);
      return { type: 'ip', value: formatIp(node.value), bytes: node.value };
    }
    case contextTag(8, false):
      return { type: 'registeredID', value: decodeOID({ ...node, tag: Tag.OID }, `${what}.registeredID`) };
    default:
      bad(`${what}: unknown GeneralName tag 0x${node.tag.toString(16)}`);
  }
}

function parseGeneralNames(bytes: Uint8Array, what: string): GeneralName[] {
  const r = DERReader.of(parseDER(bytes, what), what);
  const names: GeneralName[] = [];
  while (!r.atEnd()) names.push(parseGeneralName(r.next('GeneralName'), what));
  if (names.length === 0) bad(`${what}: empty GeneralNames`);
  return names;
}

function parseSubjectAltName(bytes: Uint8Array): SubjectAltName {
  const names = parseGeneralNames(bytes, 'subjectAltName');
  const pick = (t: GeneralName['type']): string[] => names.filter((n) => n.type === t).map((n) => n.value);
  return { names, dns: pick('dns'), ip: pick('ip'), uri: pick('uri'), email: pick('email') };
}

/** BaseDistance ::= INTEGER (0..MAX), IMPLICIT-tagged in a GeneralSubtree. */
function baseDistance(node: DERNode, what: string): bigint {
  const n = decodeInteger({ ...node, tag: Tag.INTEGER }, what);
  if (n < 0n) bad(`${what}: negative BaseDistance`);
  return n;
}

/** GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree, the contents of [0] or [1]. */
function parseGeneralSubtrees(node: DERNode, what: string): GeneralSubtree[] {
  const r = new DERReader(node.value, what);
  const out: GeneralSubtree[] = [];
  while (!r.atEnd()) {
    const st = r.sequence('GeneralSubtree');
    const baseNode = st.next('base');
    // An iPAddress constraint is address and mask (§4.2.1.10), not a plain address: parsed here.
    const base: GeneralName =
      baseNode.tag === contextTag(7, false)
        ? { type: 'ip', value: formatIpRange(baseNode.value), bytes: baseNode.value }
        : parseGeneralName(baseNode, `${what}.base`);
    const min = st.optional(contextTag(0, false), 'minimum');
    const max = st.optional(contextTag(1, false), 'maximum');
    st.end();
    const subtree: GeneralSubtree = { base, minimum: min ? baseDistance(min, `${what}.minimum`) : 0n };
    if (max) subtree.maximum = baseDistance(max, `${what}.maximum`);
    out.push(subtree);
  }
  // SIZE (1..MAX); OpenSSL accepts an empty list too, and so do we: it constrains nothing.
  return out;
}

/**
 * RFC 5280 §4.2.1.10. Structure errors make the certificate unparseable (like any malformed known
 * extension); a minimum other than 0 or a maximum is parsed and left to chain.ts to refuse.
 */
export function parseNameConstraints(bytes: Uint8Array): NameConstraints {
  const r = DERReader.of(parseDER(bytes, 'nameConstraints'), 'nameConstraints');
  const p = r.optional(contextTag(0, true), 'permittedSubtrees');
  const e = r.optional(contextTag(1, true), 'excludedSubtrees');
  r.end();
  return {
    permitted: p ? parseGeneralSubtrees(p, 'nameConstraints.permittedSubtrees') : [],
    excluded: e ? parseGeneralSubtrees(e, 'nameConstraints.excludedSubtrees') : [],
  };
}

function parseBasicConstraints(bytes: Uint8Array): BasicConstraints {
  const r = DERReader.of(parseDER(bytes, 'basicConstraints'), 'basicConstraints');
  // DER omits the DEFAULT FALSE; an explicit FALSE is tolerated (some old CAs wrote it).
  const cA = r.peekTag() === Tag.BOOLEAN ? r.boolean('cA') : false;
  const pathLenNode = r.optional(Tag.INTEGER, 'pathLenConstraint');
  r.end();
  if (!pathLenNode) return { cA };
  const n = decodeInteger(pathLenNode, 'basicConstraints.pathLenConstraint');
  if (n < 0n) bad('basicConstraints: negative pathLenConstraint');
  return { cA, pathLen: n > 1000n ? 1000 : Number(n) };
}

function parseKeyUsage(bytes: Uint8Array): KeyUsage[] {
  const bs = decodeBitString(parseDER(bytes, 'keyUsage'), 'keyUsage');
  const out: KeyUsage[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bs.bytes[i >> 3];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) out.push(name);
  });
  return out;
}

function parseExtKeyUsage(bytes: Uint8Array): string[] {
  const r = DERReader.of(parseDER(bytes, 'extKeyUsage'), 'extKeyUsage');
  const out: string[] = [];
  while (!r.atEnd()) out.push(r.oid('KeyPurposeId'));
  if (out.length === 0) bad('extKeyUsage: empty');
  return out;
}

function parseSubjectKeyIdentifier(bytes: Uint8Array): Uint8Array {
  return new DERReader(bytes, 'subjectKeyIdentifier').octetString('keyIdentifier');
}

function parseAuthorityKeyIdentifier(bytes: Uint8Array): AuthorityKeyIdentifier {
  const r = DERReader.of(parseDER(bytes, 'authorityKeyIdentifier'), 'authorityKeyIdentifier');
  const out: AuthorityKeyIdentifier = {};
  const kid = r.optional(contextTag(0, false), 'keyIdentifier');
  if (kid) out.keyIdentifier = kid.value;
  const iss = r.optional(contextTag(1, true), 'authorityCertIssuer');
  if (iss) {
    const ir = new DERReader(iss.value, 'authorityKeyIdentifier.authorityCertIssuer');
    const names: GeneralName[] = [];
    while (!ir.atEnd()) names.push(parseGeneralName(ir.next('GeneralName'), 'authorityCertIssuer'));
    out.issuer = names;
  }
  const serial = r.optional(contextTag(2, false), 'authorityCertSerialNumber');
  if (serial) out.serial = toHex(serial.value).toUpperCase();
  r.end();
  return out;
}

// --- Certificate -----------------------------------------------------------------------------------

function serialHex(node: DERNode): { serial: string; serialNumber: bigint } {
  const serialNumber = decodeInteger(node, 'serialNumber');
  const magnitude = serialNumber < 0n ? -serialNumber : serialNumber;
  let hex = magnitude.toString(16).toUpperCase();
  if (hex.length % 2 && magnitude !== 0n) hex = '0' + hex; // OpenSSL BN_bn2hex: whole octets, zero is "0"
  return { serial: (serialNumber < 0n ? '-' : '') + hex, serialNumber };
}

function parseCertificateUnchecked(input: Uint8Array): Certificate {
  const der = Uint8Array.from(input); // own copy: callers may reuse their buffers
  const cert = DERReader.of(parseDER(der, 'Certificate'), 'Certificate');
  const tbsNode = cert.expect(Tag.SEQUENCE, 'tbsCertificate');
  const outerAlg = cert.expect(Tag.SEQUENCE, 'signatureAlgorithm');
  const signature = bitStringOctets(cert.expect(Tag.BIT_STRING, 'signatureValue'), 'Certificate.signatureValue');
  cert.end();

  const tbs = new DERReader(tbsNode.value, 'TBSCertificate');
  let version: 1 | 2 | 3 = 1;
  const v = tbs.optional(contextTag(0, true), 'version');
  if (v) {
    const vr = DERReader.of(v, 'TBSCertificate.version');
    const n = vr.smallInteger('version', 1000);
    vr.end();
    if (n > 2) bad(`TBSCertificate: unknown version ${n + 1}`);
    version = (n + 1) as 1 | 2 | 3;
  }
  const { serial, serialNumber } = serialHex(tbs.expect(Tag.INTEGER, 'serialNumber'));
  const innerAlg = tbs.expect(Tag.SEQUENCE, 'signature');
  // RFC 5280 §4.1.1.2: MUST be identical to the outer signatureAlgorithm.
  if (!equalBytes(innerAlg.raw, outerAlg.raw)) bad('TBSCertificate.signature differs from Certificate.signatureAlgorithm');
  const sig = parseSignatureAlgorithm(outerAlg);
  const issuer = parseName(tbs.expect(Tag.SEQUENCE, 'issuer'), 'issuer');
  const validity = tbs.sequence('validity');
  const notBefore = decodeTime(validity.next('notBefore'), 'validity.notBefore');
  const notAfter = decodeTime(validity.next('notAfter'), 'validity.notAfter');
  validity.end();
  const subject = parseName(tbs.expect(Tag.SEQUENCE, 'subject'), 'subject');
  const spkiNode = tbs.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const issuerUID = tbs.optional(contextTag(1, false), 'issuerUniqueID');
  const subjectUID = tbs.optional(contextTag(2, false), 'subjectUniqueID');
  if ((issuerUID || subjectUID) && version === 1) bad('TBSCertificate: unique identifiers need version 2 or 3');
  const extsNode = tbs.optional(contextTag(3, true), 'extensions');
  tbs.end();
  if (extsNode && version !== 3) bad(`TBSCertificate: extensions in a version ${version} certificate`);

  // SubjectPublicKeyInfo: malformed is an error; well-formed but unsupported is recorded.
  const spkiRaw = readSubjectPublicKeyInfo(spkiNode.raw);
  let publicKey: PublicKey | null = null;
  let unsupported: string | undefined;
  try {
    publicKey = parseSubjectPublicKeyInfo(spkiNode.raw);
  } catch (err) {
    if (!(err instanceof UnsupportedKeyError)) throw err;
    unsupported = err.message;
  }
  let curveOid: string | undefined;
  if (spkiRaw.algorithm === OID.ecPublicKey && spkiRaw.params?.tag === Tag.OID) curveOid = decodeOID(spkiRaw.params);

  const certificate: Certificate = {
    der,
    tbs: tbsNode.raw,
    version,
    serial,
    serialNumber,
    signatureAlgorithm: sig.alg,
    signatureAlgorithmOid: sig.oid,
    signatureAlgorithmName: oidName(sig.oid),
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: {
      der: spkiNode.raw,
      algorithm: spkiRaw.algorithm,
      key: spkiRaw.key,
      publicKey,
      ...(unsupported ? { unsupported } : {}),
      ...(curveOid ? { curveOid } : {}),
    },
    publicKey,
    extensions: [],
    unknownCriticalExtensions: [],
    selfIssued: namesMatch(subject, issuer),
  };
  if (sig.unsupported) certificate.signatureAlgorithmUnsupported = sig.unsupported;

  if (extsNode) {
    const er = DERReader.of(extsNode, 'extensions');
    const list = er.sequence('Extensions');
    er.end();
    const seen = new Set<string>();
    while (!list.atEnd()) {
      const e = list.sequence('Extension');
      const oid = e.oid('extnID');
      const critical = e.peekTag() === Tag.BOOLEAN ? e.boolean('critical') : false;
      const value = e.octetString('extnValue');
      e.end();
      // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
      if (seen.has(oid)) bad(`duplicate extension ${oidName(oid)} (${oid})`);
      seen.add(oid);
      certificate.extensions.push({ oid, critical, value });
      switch (oid) {
        case OID.subjectAltName:
          certificate.subjectAltName = parseSubjectAltName(value);
          break;
        case OID.basicConstraints:
          certificate.basicConstraints = parseBasicConstraints(value);
          break;
        case OID.keyUsage:
          certificate.keyUsage = parseKeyUsage(value);
          break;
        case OID.extKeyUsage:
          certificate.extKeyUsage = parseExtKeyUsage(value);
          break;
        case OID.nameConstraints:
          certificate.nameConstraints = parseNameConstraints(value);
          break;
        case OID.subjectKeyIdentifier:
          certificate.subjectKeyIdentifier = parseSubjectKeyIdentifier(value);
          break;
        case OID.authorityKeyIdentifier:
          certificate.authorityKeyIdentifier = parseAuthorityKeyIdentifier(value);
          break;
        default:
          if (critical) certificate.unknownCriticalExtensions.push(oid);
      }
    }
    if (certificate.extensions.length === 0) bad('extensions present but empty');
  }
  return certificate;
}

/**
 * Parse one DER certificate (RFC 5280 §4.1). A malformed certificate throws CertificateParseError
 * (a TLSError with bad_certificate) naming the offending field; it never throws anything else.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return parseCertificateUnchecked(der);
  } catch (err) {
    if (err instanceof CertificateParseError) throw err;
    const message = err instanceof TLSError ? err.message.replace(/^decode_error: /, '') : String((err as Error)?.message ?? err);
    throw new CertificateParseError(message, err);
  }
}

/** Every certificate in PEM text (CERTIFICATE blocks) or a single DER certificate. */
export function parseCertificates(input: string | Uint8Array): Certificate[] {
  if (typeof input === 'string' || looksLikePem(input)) return pemDecode(pemText(input), 'CERTIFICATE').map(parseCertificate);
  return [parseCertificate(input)];
}

/** Split a concatenation of DER certificates (e.g. a TLS Certificate message body already unwrapped). */
export function splitDER(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < buf.length; ) {
    const { node, next } = readTLV(buf, p, 'certificate');
    out.push(node.raw);
    p = next;
  }
  return out;
}

/** True when the certificate's validity period contains `now`. */
export function isValidAt(cert: Certificate, now: Date): boolean {
  return cert.notBefore.getTime() <= now.getTime() && now.getTime() <= cert.notAfter.getTime();
}

/** keyUsage (if present) allows `usage`; absent keyUsage allows everything. */
export function allowsKeyUsage(cert: Certificate, usage: KeyUsage): boolean {
  return !cert.keyUsage || cert.keyUsage.includes(usage);
}
