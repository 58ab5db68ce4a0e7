// Ed25519 signatures (RFC 8032 §5.1) via noble, with the strict RFC 8032 verification rules
// (canonical encodings; ZIP-215's relaxed rules are off).
import { ed25519 } from '@noble/curves/ed25519.js';
import type { PrivateKey, PublicKey } from './keys.js';

export type Ed25519PublicKey = PublicKey & { type: 'ed25519' };
export type Ed25519PrivateKey = PrivateKey & { type: 'ed25519' };

export function ed25519Sign(key: Ed25519PrivateKey, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, key.seed);
}

/** Never throws for malformed input: returns false. */
export function ed25519Verify(key: Ed25519PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || key.raw.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, key.raw, { zip215: false });
  } catch {
    return false;
  }
}

/** The 32-byte public key for a 32-byte seed (RFC 8032 §5.1.5). */
export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}
