// ECDSA on P-256 and P-384 (FIPS 186-4 §6, SEC 1 §4.1) with DER signatures (RFC 5480 ECDSA-Sig-Value,
// as TLS 1.2 carries them: RFC 8422 §5.4). The message is hashed here with the requested hash, which may
// differ from the curve's usual one (e.g. a P-384 certificate signed with SHA-256); noble then truncates
// the digest to the order's bit length as ECDSA specifies.
import { p256, p384 } from '@noble/curves/nist.js';
import type { HashName, NamedCurve, PrivateKey, PublicKey } from './keys.js';
import { hash } from './hash.js';

export type EcPublicKey = PublicKey & { type: 'ec' };
export type EcPrivateKey = PrivateKey & { type: 'ec' };

function curveOf(name: NamedCurve): typeof p256 {
  if (name === 'P-256') return p256;
  if (name === 'P-384') return p384;
  throw new TypeError(`unsupported curve ${String(name)}`);
}

/** The hash TLS pairs with each curve in its ecdsa_secpXXXr1_shaYYY schemes. */
export function curveHash(name: NamedCurve): HashName {
  return name === 'P-384' ? 'sha384' : 'sha256';
}

/** DER-encoded signature. Low-S, hedged RFC 6979 nonces (deterministic k mixed with fresh randomness). */
export function ecdsaSign(key: EcPrivateKey, hashName: HashName, message: Uint8Array): Uint8Array {
  const digest = hash(hashName, message);
  return curveOf(key.curve).sign(digest, key.d, { prehash: false, lowS: true, format: 'der', extraEntropy: true });
}

/**
 * Verifies a DER signature. High-S signatures are valid ECDSA (OpenSSL produces them), so lowS is off.
 * Never throws for malformed input: returns false.
 */
export function ecdsaVerify(key: EcPublicKey, hashName: HashName, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const digest = hash(hashName, message);
    return curveOf(key.curve).verify(signature, digest, key.point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}

/** Decode a SEC1 point (compressed or uncompressed) to its uncompressed form; throws if not on the curve. */
export function ecDecodePoint(curve: NamedCurve, encoded: Uint8Array): Uint8Array {
  return curveOf(curve).Point.fromBytes(encoded).toBytes(false);
}

/** A fresh private scalar for the curve (for issuing keys). */
export function ecRandomScalar(curve: NamedCurve): Uint8Array {
  return curveOf(curve).utils.randomSecretKey();
}

/** Derive the uncompressed public point for a private scalar (for key construction helpers and tests). */
export function ecPublicPoint(curve: NamedCurve, d: Uint8Array): Uint8Array {
  return curveOf(curve).getPublicKey(d, false);
}
