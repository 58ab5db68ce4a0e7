// Key parsing and encoding: PKCS#8 (RFC 5208 / RFC 5958), SEC1 ECPrivateKey (RFC 5915), PKCS#1
// RSAPrivateKey / RSAPublicKey (RFC 8017 §A.1), SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with the
// algorithm profiles of RFC 3279 §2.3.1 (RSA), RFC 4055 §1.2 (id-RSASSA-PSS), RFC 5480 §2 (EC) and
// RFC 8410 §4 (Ed25519). Produces the PublicKey / PrivateKey shapes of lib/crypto/keys.ts.

import { ecDecodePoint, ecPublicPoint } from '../crypto/ecdsa.js';
import { ed25519PublicFromSeed } from '../crypto/ed25519.js';
import { TLSError } from '../alert.js';
import type { NamedCurve, PrivateKey, PublicKey } from '../crypto/keys.js';
import { equalBytes } from '../wire/bytes.js';
import { DERReader, Tag, bitStringOctets, contextTag, der, parseDER, type DERNode } from './der.js';
import { OID, oidName } from './oids.js';
import { looksLikePem, pemDecodeAll, pemEncode, pemText } from './pem.js';

/** A well-formed key of an algorithm or curve we do not implement (P-521, secp256k1, DSA, Ed448 ...). */
export class UnsupportedKeyError extends TLSError {
  constructor(message: string) {
    super('unsupported_certificate', `unsupported key: ${message}`);
    this.name = 'UnsupportedKeyError';
  }
}

function bad(message: string): never {
  throw new TLSError('decode_error', `key: ${message}`);
}

const CURVES: Record<NamedCurve, { oid: string; size: number }> = {
  'P-256': { oid: OID.prime256v1, size: 32 },
  'P-384': { oid: OID.secp384r1, size: 48 },
};

function curveByOid(oid: string): NamedCurve {
  for (const [name, c] of Object.entries(CURVES)) if (c.oid === oid) return name as NamedCurve;
  throw new UnsupportedKeyError(`EC curve ${oidName(oid)} (${oid}); only P-256 and P-384 are supported`);
}

/** Maximum RSA modulus we accept; larger keys only serve to make verification slow. */
const MAX_RSA_BITS = 16384;
/**
 * Maximum RSA public exponent, in bits (BoringSSL's bound; real keys use 65537). A public-key operation
 * costs a squaring per bit of e and the peer picks e: e ≈ n on a 16384-bit key blocked us for seconds
 * per signature check, and a hostile certificate chain can demand dozens of checks.
 */
const MAX_RSA_EXPONENT_BITS = 33;

export function bytesToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

export function bigintToBytes(n: bigint, length?: number): Uint8Array {
  if (n < 0n) throw new RangeError('negative');
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const raw = new Uint8Array(Buffer.from(hex, 'hex'));
  if (length === undefined || raw.length === length) return raw;
  if (raw.length > length) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  out.set(raw, length - raw.length);
  return out;
}

export function bitLength(n: bigint): number {
  return n <= 0n ? 0 : n.toString(2).length;
}

function positiveInteger(r: DERReader, field: string): bigint {
  const n = r.integer(field);
  if (n <= 0n) bad(`${r.what}.${field} must be positive`);
  return n;
}

function rsaPublic(n: bigint, e: bigint): PublicKey & { type: 'rsa' } {
  const bits = bitLength(n);
  if (bits > MAX_RSA_BITS) throw new UnsupportedKeyError(`RSA modulus of ${bits} bits (max ${MAX_RSA_BITS})`);
  if (bits < 256 || !(n & 1n)) bad('RSA modulus is not a plausible odd number');
  if (e < 3n || !(e & 1n) || e >= n) bad('RSA public exponent must be odd, >= 3 and < n');
  if (bitLength(e) > MAX_RSA_EXPONENT_BITS) throw new UnsupportedKeyError(`RSA public exponent of ${bitLength(e)} bits (max ${MAX_RSA_EXPONENT_BITS})`);
  return { type: 'rsa', n, e, bits };
}

/** Uncompressed SEC1 point for the curve; validates that the point is on the curve. */
function ecPoint(curve: NamedCurve, encoded: Uint8Array): Uint8Array {
  const { size } = CURVES[curve];
  const kind = encoded[0];
  const okLength = (kind === 0x04 && encoded.length === 1 + 2 * size) || ((kind === 0x02 || kind === 0x03) && encoded.length === 1 + size);
  if (!okLength) bad(`EC ${curve} public key: bad point encoding (${encoded.length} bytes, prefix ${kind ?? 'none'})`);
  try {
    return ecDecodePoint(curve, encoded);
  } catch (err) {
    bad(`EC ${curve} public key: point is not on the curve (${(err as Error).message})`);
  }
}

function ecPrivate(curve: NamedCurve, dBytes: Uint8Array, embeddedPublic?: Uint8Array): PrivateKey & { type: 'ec' } {
  const { size } = CURVES[curve];
  // RFC 5915 fixes the length, but some encoders strip leading zeros; normalise to curve size.
  let i = 0;
  while (i < dBytes.length - 1 && dBytes[i] === 0) i++;
  const trimmed = dBytes.subarray(i);
  if (trimmed.length > size) bad(`EC ${curve} private key longer than ${size} bytes`);
  const d = new Uint8Array(size);
  d.set(trimmed, size - trimmed.length);
  let point: Uint8Array;
  try {
    point = ecPublicPoint(curve, d);
  } catch {
    bad(`EC ${curve} private scalar out of range`);
  }
  if (embeddedPublic && !equalBytes(ecPoint(curve, embeddedPublic), point)) bad(`EC ${curve} private key: embedded public key does not match`);
  return { type: 'ec', curve, d, publicKey: { type: 'ec', curve, point } };
}

function ed25519Private(seed: Uint8Array, embeddedPublic?: Uint8Array): PrivateKey & { type: 'ed25519' } {
  if (seed.length !== 32) bad(`Ed25519 private key must be 32 bytes, got ${seed.length}`);
  const raw = ed25519PublicFromSeed(seed);
  if (embeddedPublic && !equalBytes(embeddedPublic, raw)) bad('Ed25519 private key: embedded public key does not match');
  return { type: 'ed25519', seed: Uint8Array.from(seed), publicKey: { type: 'ed25519', raw } };
}

/** RFC 8017 §A.1.2 RSAPrivateKey (two-prime only). */
function parseRsaPrivateKey(bytes: Uint8Array): PrivateKey & { type: 'rsa' } {
  const r = DERReader.of(parseDER(bytes, 'RSAPrivateKey'), 'RSAPrivateKey');
  const version = r.integer('version');
  if (version === 1n) throw new UnsupportedKeyError('multi-prime RSA private key');
  if (version !== 0n) bad(`RSAPrivateKey version ${version}`);
  const n = positiveInteger(r, 'modulus');
  const e = positiveInteger(r, 'publicExponent');
  const d = positiveInteger(r, 'privateExponent');
  const p = positiveInteger(r, 'prime1');
  const q = positiveInteger(r, 'prime2');
  const dp = positiveInteger(r, 'exponent1');
  const dq = positiveInteger(r, 'exponent2');
  const qi = positiveInteger(r, 'coefficient');
  r.end();
  if (p * q !== n) bad('RSA private key: p * q != n');
  const publicKey = rsaPublic(n, e);
  return { type: 'rsa', n, e, d, p, q, dp, dq, qi, bits: publicKey.bits, publicKey };
}

/** RFC 5915 §3 ECPrivateKey. `curveFromAlg` is the curve named by an enclosing PKCS#8 AlgorithmIdentifier. */
function parseEcPrivateKey(bytes: Uint8Array, curveFromAlg?: NamedCurve): PrivateKey & { type: 'ec' } {
  const r = DERReader.of(parseDER(bytes, 'ECPrivateKey'), 'ECPrivateKey');
  if (r.integer('version') !== 1n) bad('ECPrivateKey version must be 1');
  const d = r.octetString('privateKey');
  let curve = curveFromAlg;
  const params = r.optional(contextTag(0, true), 'parameters');
  if (params) {
    const pr = DERReader.of(params, 'ECPrivateKey.parameters');
    if (pr.peekTag() !== Tag.OID) throw new UnsupportedKeyError('EC private key with explicit curve parameters (only named curves)');
    const c = curveByOid(pr.oid('namedCurve'));
    pr.end();
    if (curve && c !== curve) bad(`ECPrivateKey curve ${c} differs from the algorithm's ${curve}`);
    curve = c;
  }
  let pub: Uint8Array | undefined;
  const pubNode = r.optional(contextTag(1, true), 'publicKey');
  if (pubNode) {
    const pr = DERReader.of(pubNode, 'ECPrivateKey.publicKey');
    pub = bitStringOctets(pr.expect(Tag.BIT_STRING, 'publicKey'), 'ECPrivateKey.publicKey');
    pr.end();
  }
  r.end();
  if (!curve) bad('ECPrivateKey without a named curve');
  return ecPrivate(curve, d, pub);
}

interface AlgId {
  oid: string;
  params?: DERNode;
}

function readAlgId(r: DERReader, field: string): AlgId {
  const a = r.sequence(field);
  const oid = a.oid('algorithm');
  const params = a.atEnd() ? undefined : a.next('parameters');
  a.end();
  return params ? { oid, params } : { oid };
}

function requireNullOrAbsent(alg: AlgId, what: string): void {
  if (alg.params && !(alg.params.tag === Tag.NULL && alg.params.value.length === 0)) bad(`${what}: parameters must be NULL`);
}

function requireAbsent(alg: AlgId, what: string): void {
  if (alg.params) bad(`${what}: parameters must be absent`);
}

function namedCurveParam(alg: AlgId): NamedCurve {
  if (!alg.params) bad('id-ecPublicKey without curve parameters');
  if (alg.params.tag !== Tag.OID) {
    if (alg.params.tag === Tag.SEQUENCE) throw new UnsupportedKeyError('EC key with explicit curve parameters (only named curves)');
    bad('id-ecPublicKey parameters must be a named curve OID');
  }
  return curveByOid(new DERReader(alg.params.raw, 'ECParameters').oid('namedCurve'));
}

function unsupportedAlgorithm(oid: string): never {
  throw new UnsupportedKeyError(`public key algorithm ${oidName(oid)} (${oid})`);
}

/** RFC 5958 §2 OneAsymmetricKey / RFC 5208 PrivateKeyInfo. */
function parsePkcs8(bytes: Uint8Array): PrivateKey {
  const r = DERReader.of(parseDER(bytes, 'PrivateKeyInfo'), 'PrivateKeyInfo');
  const version = r.integer('version');
  if (version !== 0n && version !== 1n) bad(`PrivateKeyInfo version ${version}`);
  const alg = readAlgId(r, 'privateKeyAlgorithm');
  const inner = r.octetString('privateKey');
  r.optional(contextTag(0, true), 'attributes');
  const pubNode = r.optional(contextTag(1, false), 'publicKey');
  r.end();
  if (pubNode && version !== 1n) bad('PrivateKeyInfo v1 (version 0) must not carry a public key');
  const embeddedPublic = pubNode ? bitStringOctets({ ...pubNode, tag: Tag.BIT_STRING }, 'PrivateKeyInfo.publicKey') : undefined;
  switch (alg.oid) {
    case OID.rsaEncryption:
      requireNullOrAbsent(alg, 'rsaEncryption');
      return parseRsaPrivateKey(inner);
    case OID.rsassaPss:
      // RFC 4055 §1.2: an RSA key restricted to PSS; we treat it as an RSA key.
      return parseRsaPrivateKey(inner);
    case OID.ecPublicKey:
      return parseEcPrivateKey(inner, namedCurveParam(alg));
    case OID.ed25519: {
      requireAbsent(alg, 'Ed25519');
      const seed = new DERReader(inner, 'CurvePrivateKey').octetString('CurvePrivateKey');
      return ed25519Private(seed, embeddedPublic);
    }
    default:
      unsupportedAlgorithm(alg.oid);
  }
}

const PRIVATE_KEY_LABELS = ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];

/**
 * Parse a private key from PEM text (string or bytes) or DER. Accepts PKCS#8 "PRIVATE KEY" (RSA,
 * RSASSA-PSS, EC P-256/P-384, Ed25519), SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY".
 * Encrypted keys are rejected with a clear error.
 */
export function parsePrivateKey(input: string | Uint8Array): PrivateKey {
  if (typeof input === 'string' || looksLikePem(input)) {
    const block = pemDecodeAll(pemText(input)).find((b) => PRIVATE_KEY_LABELS.includes(b.label));
    if (!block) bad('no PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY PEM block found');
    if (block.label === 'ENCRYPTED PRIVATE KEY' || block.headers?.['Proc-Type']?.includes('ENCRYPTED')) {
      throw new UnsupportedKeyError('encrypted private keys are not supported; decrypt it first (openssl pkey -in key.pem -out plain.pem)');
    }
    if (block.label === 'EC PRIVATE KEY') return parseEcPrivateKey(block.der);
    if (block.label === 'RSA PRIVATE KEY') return parseRsaPrivateKey(block.der);
    return parsePkcs8(block.der);
  }
  // DER: tell the three structures apart by their second element.
  const r = DERReader.of(parseDER(input, 'private key'), 'private key');
  r.integer('version');
  const second = r.peekTag();
  if (second === Tag.SEQUENCE) return parsePkcs8(input);
  if (second === Tag.OCTET_STRING) return parseEcPrivateKey(input);
  if (second === Tag.INTEGER) return parseRsaPrivateKey(input);
  bad('DER is neither PKCS#8, SEC1 nor PKCS#1');
}

/** The algorithm OID and raw BIT STRING of a SubjectPublicKeyInfo, without interpreting the key. */
export function readSubjectPublicKeyInfo(spki: Uint8Array): { algorithm: string; params?: DERNode; key: Uint8Array } {
  const r = DERReader.of(parseDER(spki, 'SubjectPublicKeyInfo'), 'SubjectPublicKeyInfo');
  const alg = readAlgId(r, 'algorithm');
  const key = bitStringOctets(r.expect(Tag.BIT_STRING, 'subjectPublicKey'), 'SubjectPublicKeyInfo.subjectPublicKey');
  r.end();
  return alg.params ? { algorithm: alg.oid, params: alg.params, key } : { algorithm: alg.oid, key };
}

/** RFC 5280 §4.1.2.7 SubjectPublicKeyInfo (DER) to a PublicKey. Unsupported algorithms/curves throw UnsupportedKeyError. */
export function parseSubjectPublicKeyInfo(spki: Uint8Array): PublicKey {
  const { algorithm, params, key } = readSubjectPublicKeyInfo(spki);
  const alg: AlgId = params ? { oid: algorithm, params } : { oid: algorithm };
  switch (algorithm) {
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      if (algorithm === OID.rsaEncryption) requireNullOrAbsent(alg, 'rsaEncryption');
      const r = DERReader.of(parseDER(key, 'RSAPublicKey'), 'RSAPublicKey');
      const n = positiveInteger(r, 'modulus');
      const e = positiveInteger(r, 'publicExponent');
      r.end();
      return rsaPublic(n, e);
    }
    case OID.ecPublicKey: {
      const curve = namedCurveParam(alg);
      return { type: 'ec', curve, point: ecPoint(curve, key) };
    }
    case OID.ed25519:
      requireAbsent(alg, 'Ed25519');
      if (key.length !== 32) bad(`Ed25519 public key must be 32 bytes, got ${key.length}`);
      return { type: 'ed25519', raw: Uint8Array.from(key) };
    default:
      unsupportedAlgorithm(algorithm);
  }
}

/** A public key from PEM "PUBLIC KEY" text or SPKI DER. */
export function parsePublicKey(input: string | Uint8Array): PublicKey {
  if (typeof input === 'string' || looksLikePem(input)) {
    const block = pemDecodeAll(pemText(input)).find((b) => b.label === 'PUBLIC KEY');
    if (!block) bad('no PUBLIC KEY PEM block found');
    return parseSubjectPublicKeyInfo(block.der);
  }
  return parseSubjectPublicKeyInfo(input);
}

// --- Encoders ---------------------------------------------------------------------------------------

function rsaAlgId(): Uint8Array {
  return der.sequence(der.oid(OID.rsaEncryption), der.null());
}

function publicAlgId(key: PublicKey): Uint8Array {
  switch (key.type) {
    case 'rsa':
      return rsaAlgId();
    case 'ec':
      return der.sequence(der.oid(OID.ecPublicKey), der.oid(CURVES[key.curve].oid));
    case 'ed25519':
      return der.sequence(der.oid(OID.ed25519));
  }
}

/** RSAPublicKey (RFC 8017 §A.1.1). */
export function encodeRsaPublicKey(n: bigint, e: bigint): Uint8Array {
  return der.sequence(der.integer(n), der.integer(e));
}

/** SubjectPublicKeyInfo DER (rsaEncryption / id-ecPublicKey+namedCurve / id-Ed25519). */
export function encodeSubjectPublicKeyInfo(key: PublicKey): Uint8Array {
  const bits = key.type === 'rsa' ? encodeRsaPublicKey(key.n, key.e) : key.type === 'ec' ? key.point : key.raw;
  return der.sequence(publicAlgId(key), der.bitString(bits));
}

/** PKCS#8 PrivateKeyInfo DER (version 0). EC keys embed the public point in the SEC1 structure, as OpenSSL does. */
export function encodePkcs8(key: PrivateKey): Uint8Array {
  let inner: Uint8Array;
  switch (key.type) {
    case 'rsa':
      inner = der.sequence(
        der.integer(0),
        ...[key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map((x) => der.integer(x)),
      );
      break;
    case 'ec':
      inner = der.sequence(der.integer(1), der.octetString(key.d), der.explicit(1, der.bitString(key.publicKey.point)));
      break;
    case 'ed25519':
      inner = der.octetString(key.seed);
      break;
  }
  return der.sequence(der.integer(0), publicAlgId(key.publicKey), der.octetString(inner));
}

export function privateKeyToPem(key: PrivateKey): string {
  return pemEncode('PRIVATE KEY', encodePkcs8(key));
}

export function publicKeyToPem(key: PublicKey): string {
  return pemEncode('PUBLIC KEY', encodeSubjectPublicKeyInfo(key));
}
