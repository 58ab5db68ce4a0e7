// RSA signatures with native BigInt (RFC 8017): RSASSA-PKCS1-v1_5 (§8.2, EMSA §9.2) and RSASSA-PSS
// (§8.1, EMSA §9.1, MGF1 §B.2.1). No RSA encryption: TLS 1.2 here never uses RSA key exchange.
//
// BigInt arithmetic is not constant-time, so the private-key operation is blinded (random r, r^e) and
// uses CRT; it is one function (rsaPrivateOp) that a native or constant-time provider can replace.
import type { PrivateKey, PublicKey } from './keys.js';
import { hash, hashLength, type DigestName } from './hash.js';
import { timingSafeEqual } from './ct.js';
import { randomBytes } from './random.js';
import { concat } from '../wire/bytes.js';
import { bitLength, gcd, i2osp, mod, modInverse, modPow, os2ip } from './bigint.js';

export type RsaPublicKey = PublicKey & { type: 'rsa' };
export type RsaPrivateKey = PrivateKey & { type: 'rsa' };

function modulusBytes(n: bigint): number {
  return Math.ceil(bitLength(n) / 8);
}

// ---- primitives (RFC 8017 §5.2) ----

/** RSAVP1: s^e mod n. Caller has checked 0 <= s < n. */
function rsaPublicOp(key: RsaPublicKey, s: bigint): bigint {
  return modPow(s, key.e, key.n);
}

/**
 * RSASP1 with CRT (§5.2.1 2.b) and base blinding: s = (m·r^e)^d · r^-1 mod n. The result is checked
 * with the public exponent, so a CRT fault cannot leak a factor of n (Boneh–DeMillo–Lipton).
 */
export function rsaPrivateOp(key: RsaPrivateKey, m: bigint): bigint {
  const { n, e, p, q, dp, dq, qi } = key;
  if (m < 0n || m >= n) throw new RangeError('rsa: message representative out of range');
  let r: bigint;
  do {
    r = mod(os2ip(randomBytes(modulusBytes(n) + 8)), n);
  } while (r < 2n || gcd(r, n) !== 1n);
  const blinded = (m * modPow(r, e, n)) % n;
  const s1 = modPow(blinded % p, dp, p);
  const s2 = modPow(blinded % q, dq, q);
  const h = mod(qi * (s1 - s2), p);
  const sBlinded = s2 + q * h;
  const s = (sBlinded * modInverse(r, n)) % n;
  if (modPow(s, e, n) !== m) throw new Error('rsa: private-key operation failed its consistency check');
  return s;
}

// ---- EMSA-PKCS1-v1_5 (RFC 8017 §9.2) ----

/** DER DigestInfo prefixes, RFC 8017 §9.2 Note 1 (AlgorithmIdentifier with NULL parameters). */
const DIGEST_INFO_PREFIX: Record<DigestName, Uint8Array> = {
  sha1: Uint8Array.from([0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]),
  sha224: Uint8Array.from([0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c]),
  sha256: Uint8Array.from([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
  sha384: Uint8Array.from([0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]),
  sha512: Uint8Array.from([0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]),
};

/** EM = 0x00 || 0x01 || PS (0xff...) || 0x00 || DigestInfo. */
function emsaPkcs1Encode(hashName: DigestName, message: Uint8Array, emLen: number): Uint8Array {
  const t = concat(DIGEST_INFO_PREFIX[hashName], hash(hashName, message));
  if (emLen < t.length + 11) throw new RangeError('rsa: intended encoded message length too short');
  const em = new Uint8Array(emLen).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[emLen - t.length - 1] = 0x00;
  em.set(t, emLen - t.length);
  return em;
}

/** RSASSA-PKCS1-V1_5-SIGN (§8.2.1). */
export function rsaPkcs1Sign(key: RsaPrivateKey, hashName: DigestName, message: Uint8Array): Uint8Array {
  const k = modulusBytes(key.n);
  const em = emsaPkcs1Encode(hashName, message, k);
  return i2osp(rsaPrivateOp(key, os2ip(em)), k);
}

/**
 * RSASSA-PKCS1-V1_5-VERIFY (§8.2.2): recompute the one valid encoding and compare all of it in
 * constant time. This rejects every non-canonical form (absent NULL, BER lengths, garbage).
 */
export function rsaPkcs1Verify(key: RsaPublicKey, hashName: DigestName, message: Uint8Array, signature: Uint8Array): boolean {
  const k = modulusBytes(key.n);
  if (signature.length !== k) return false;
  const s = os2ip(signature);
  if (s >= key.n) return false;
  let expected: Uint8Array;
  try {
    expected = emsaPkcs1Encode(hashName, message, k);
  } catch {
    return false;
  }
  return timingSafeEqual(i2osp(rsaPublicOp(key, s), k), expected);
}

// ---- EMSA-PSS (RFC 8017 §9.1) ----

/** MGF1 (§B.2.1). */
export function mgf1(hashName: DigestName, seed: Uint8Array, maskLen: number): Uint8Array {
  const out = new Uint8Array(maskLen);
  const hLen = hashLength(hashName);
  const counter = new Uint8Array(4);
  for (let c = 0, off = 0; off < maskLen; c++, off += hLen) {
    new DataView(counter.buffer).setUint32(0, c);
    const block = hash(hashName, concat(seed, counter));
    out.set(block.subarray(0, Math.min(hLen, maskLen - off)), off);
  }
  return out;
}

function pssMPrime(hashName: DigestName, mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  return hash(hashName, concat(new Uint8Array(8), mHash, salt));
}

/** EMSA-PSS-ENCODE (§9.1.1). */
function emsaPssEncode(hashName: DigestName, mgfHash: DigestName, message: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const hLen = hashLength(hashName);
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new RangeError('rsa-pss: encoding error (key too small for hash and salt)');
  const h = pssMPrime(hashName, hash(hashName, message), salt);
  const db = new Uint8Array(emLen - hLen - 1);
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = mgf1(mgfHash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >>> (8 * emLen - emBits);
  return concat(db, h, Uint8Array.of(0xbc));
}

/** EMSA-PSS-VERIFY (§9.1.2). */
function emsaPssVerify(hashName: DigestName, mgfHash: DigestName, message: Uint8Array, em: Uint8Array, emBits: number, sLen: number): boolean {
  const hLen = hashLength(hashName);
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask & 0xff) !== 0) return false;
  const mask = mgf1(mgfHash, h, maskedDb.length);
  const db = new Uint8Array(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  db[0]! &= topMask;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  return timingSafeEqual(pssMPrime(hashName, hash(hashName, message), salt), h);
}

/** RSASSA-PSS-SIGN (§8.1.1). TLS uses saltLength = hash length (RFC 8446 §4.2.3). */
export function rsaPssSign(
  key: RsaPrivateKey,
  hashName: DigestName,
  message: Uint8Array,
  saltLength: number,
  mgfHash: DigestName = hashName,
): Uint8Array {
  const modBits = bitLength(key.n);
  const k = modulusBytes(key.n);
  const em = emsaPssEncode(hashName, mgfHash, message, modBits - 1, randomBytes(saltLength));
  return i2osp(rsaPrivateOp(key, os2ip(em)), k);
}

/** RSASSA-PSS-VERIFY (§8.1.2) with a fixed, expected salt length. */
export function rsaPssVerify(
  key: RsaPublicKey,
  hashName: DigestName,
  message: Uint8Array,
  signature: Uint8Array,
  saltLength: number,
  mgfHash: DigestName = hashName,
): boolean {
  const modBits = bitLength(key.n);
  const k = modulusBytes(key.n);
  if (signature.length !== k || saltLength < 0) return false;
  const s = os2ip(signature);
  if (s >= key.n) return false;
  const m = rsaPublicOp(key, s);
  const emBits = modBits - 1;
  let em: Uint8Array;
  try {
    em = i2osp(m, Math.ceil(emBits / 8)); // fails when m has more bytes than emLen
  } catch {
    return false;
  }
  return emsaPssVerify(hashName, mgfHash, message, em, emBits, saltLength);
}
