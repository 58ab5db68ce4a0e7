// Signing and verification for every algorithm the stack uses, and the TLS SignatureScheme table
// (RFC 8446 §4.2.3 code points, which TLS 1.2's signature_algorithms shares: RFC 5246 §7.4.1.4.1,
// RFC 8422 §5.1.3, RFC 8446 §11 for the PSS and EdDSA entries).
import type { NamedCurve, PrivateKey, PublicKey, SignatureAlgorithm } from './keys.js';
import { hashLength } from './hash.js';
import { ecdsaSign, ecdsaVerify } from './ecdsa.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { rsaPkcs1Sign, rsaPkcs1Verify, rsaPssSign, rsaPssVerify } from './rsa.js';

export const SignatureScheme = {
  rsa_pkcs1_sha1: 0x0201,
  ecdsa_sha1: 0x0203,
  rsa_pkcs1_sha256: 0x0401,
  ecdsa_secp256r1_sha256: 0x0403,
  rsa_pkcs1_sha384: 0x0501,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
} as const;
export type SignatureSchemeName = keyof typeof SignatureScheme;

interface SchemeInfo {
  name: SignatureSchemeName;
  /** undefined: known by name but not supported (P-521). */
  alg: SignatureAlgorithm | undefined;
  /** For ECDSA schemes that name a curve. */
  curve?: NamedCurve;
}

// PSS in TLS: MGF1 with the same hash and salt length = hash length (RFC 8446 §4.2.3).
const pss = (hash: 'sha256' | 'sha384' | 'sha512'): SignatureAlgorithm => ({ kind: 'rsa-pss', hash, mgfHash: hash, saltLength: hashLength(hash) });

const SCHEMES = new Map<number, SchemeInfo>([
  [0x0201, { name: 'rsa_pkcs1_sha1', alg: { kind: 'rsa-pkcs1', hash: 'sha1' } }],
  [0x0203, { name: 'ecdsa_sha1', alg: { kind: 'ecdsa', hash: 'sha1' } }],
  [0x0401, { name: 'rsa_pkcs1_sha256', alg: { kind: 'rsa-pkcs1', hash: 'sha256' } }],
  [0x0403, { name: 'ecdsa_secp256r1_sha256', alg: { kind: 'ecdsa', hash: 'sha256' }, curve: 'P-256' }],
  [0x0501, { name: 'rsa_pkcs1_sha384', alg: { kind: 'rsa-pkcs1', hash: 'sha384' } }],
  [0x0503, { name: 'ecdsa_secp384r1_sha384', alg: { kind: 'ecdsa', hash: 'sha384' }, curve: 'P-384' }],
  [0x0601, { name: 'rsa_pkcs1_sha512', alg: { kind: 'rsa-pkcs1', hash: 'sha512' } }],
  [0x0603, { name: 'ecdsa_secp521r1_sha512', alg: undefined }],
  [0x0804, { name: 'rsa_pss_rsae_sha256', alg: pss('sha256') }],
  [0x0805, { name: 'rsa_pss_rsae_sha384', alg: pss('sha384') }],
  [0x0806, { name: 'rsa_pss_rsae_sha512', alg: pss('sha512') }],
  [0x0807, { name: 'ed25519', alg: { kind: 'ed25519' } }],
]);

/** The algorithm a scheme code stands for, or undefined for unknown/unsupported codes. */
export function schemeToAlgorithm(code: number): SignatureAlgorithm | undefined {
  return SCHEMES.get(code)?.alg;
}

export function schemeName(code: number): string {
  return SCHEMES.get(code)?.name ?? `unknown_scheme(0x${code.toString(16).padStart(4, '0')})`;
}

/** The curve an ECDSA scheme names (TLS 1.3 binds it; in TLS 1.2 it is advisory), else undefined. */
export function schemeCurve(code: number): NamedCurve | undefined {
  return SCHEMES.get(code)?.curve;
}

/** What a client offers in signature_algorithms, strongest-and-cheapest first. No SHA-1. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = Object.freeze([
  0x0403, 0x0503, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
]);

/**
 * Schemes this key can sign with, in preference order. ECDSA: only the scheme naming the key's curve
 * (what OpenSSL's TLS 1.2 clients expect). RSA: PSS before PKCS#1, SHA-256 before 384 before 512,
 * skipping PSS hashes too large for the modulus (RFC 8017 §9.1.1 step 3).
 */
export function schemesForKey(key: PublicKey | PrivateKey): number[] {
  switch (key.type) {
    case 'ec':
      return key.curve === 'P-256' ? [0x0403] : key.curve === 'P-384' ? [0x0503] : [];
    case 'ed25519':
      return [0x0807];
    case 'rsa': {
      const emLen = Math.ceil((key.n.toString(2).length - 1) / 8);
      const pssOk = (h: 'sha256' | 'sha384' | 'sha512'): boolean => emLen >= 2 * hashLength(h) + 2;
      const out: number[] = [];
      if (pssOk('sha256')) out.push(0x0804);
      if (pssOk('sha384')) out.push(0x0805);
      if (pssOk('sha512')) out.push(0x0806);
      out.push(0x0401, 0x0501, 0x0601);
      return out;
    }
  }
}

function mismatch(alg: SignatureAlgorithm, keyType: string): never {
  throw new TypeError(`signature algorithm ${alg.kind} cannot be used with a ${keyType} key`);
}

/** Whether a signature algorithm can be used with a key of this type (an ECDSA scheme with an EC key...). */
export function algorithmFitsKey(alg: SignatureAlgorithm, key: PublicKey | PrivateKey): boolean {
  switch (alg.kind) {
    case 'ecdsa':
      return key.type === 'ec';
    case 'ed25519':
      return key.type === 'ed25519';
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return key.type === 'rsa';
  }
}

export function signData(alg: SignatureAlgorithm, key: PrivateKey, data: Uint8Array): Uint8Array {
  switch (alg.kind) {
    case 'ecdsa':
      if (key.type !== 'ec') return mismatch(alg, key.type);
      return ecdsaSign(key, alg.hash, data);
    case 'ed25519':
      if (key.type !== 'ed25519') return mismatch(alg, key.type);
      return ed25519Sign(key, data);
    case 'rsa-pkcs1':
      if (key.type !== 'rsa') return mismatch(alg, key.type);
      return rsaPkcs1Sign(key, alg.hash, data);
    case 'rsa-pss':
      if (key.type !== 'rsa') return mismatch(alg, key.type);
      return rsaPssSign(key, alg.hash, data, alg.saltLength, alg.mgfHash);
  }
}

/**
 * True when sig is a valid signature of data. A malformed signature is just invalid (false);
 * only an algorithm/key type mismatch (a caller bug) throws.
 */
export function verifySignature(alg: SignatureAlgorithm, key: PublicKey, data: Uint8Array, sig: Uint8Array): boolean {
  switch (alg.kind) {
    case 'ecdsa':
      if (key.type !== 'ec') return mismatch(alg, key.type);
      return ecdsaVerify(key, alg.hash, data, sig);
    case 'ed25519':
      if (key.type !== 'ed25519') return mismatch(alg, key.type);
      return ed25519Verify(key, data, sig);
    case 'rsa-pkcs1':
      if (key.type !== 'rsa') return mismatch(alg, key.type);
      try {
        return rsaPkcs1Verify(key, alg.hash, data, sig);
      } catch {
        return false;
      }
    case 'rsa-pss':
      if (key.type !== 'rsa') return mismatch(alg, key.type);
      try {
        return rsaPssVerify(key, alg.hash, data, sig, alg.saltLength, alg.mgfHash);
      } catch {
        return false;
      }
  }
}
