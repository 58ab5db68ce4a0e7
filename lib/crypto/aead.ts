// AEAD ciphers for TLS 1.2 record protection: AES-GCM (RFC 5288, NIST SP 800-38D) and
// ChaCha20-Poly1305 (RFC 7905, RFC 8439). The record layer builds nonces and AAD; this module only
// seals and opens. Tags are always 16 bytes.
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305';

export const AEAD_TAG_LENGTH = 16;
export const AEAD_NONCE_LENGTH = 12;

const keyLengths: Record<AeadName, number> = { 'AES-128-GCM': 16, 'AES-256-GCM': 32, 'CHACHA20-POLY1305': 32 };

export function aeadKeyLength(name: AeadName): number {
  const n = keyLengths[name];
  if (n === undefined) throw new TypeError(`unknown AEAD ${String(name)}`);
  return n;
}

export interface Aead {
  readonly name: AeadName;
  /** Returns ciphertext || 16-byte tag. nonce is 12 bytes. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Returns the plaintext, or null when authentication fails or the input is malformed. Never throws. */
  open(nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array): Uint8Array | null;
}

type Cons = (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) => {
  encrypt(p: Uint8Array): Uint8Array;
  decrypt(c: Uint8Array): Uint8Array;
};

/**
 * Noble's public API takes the key with every nonce, so the AES key schedule and the GHASH table are
 * rebuilt per record (≈15 µs, about 4% of a 16 KiB GCM record); its internals that could cache them
 * are marked unstable, so we don't reach into them.
 */
export function createAead(name: AeadName, key: Uint8Array): Aead {
  const keyLen = aeadKeyLength(name);
  if (key.length !== keyLen) throw new TypeError(`${name}: key must be ${keyLen} bytes, got ${key.length}`);
  const k = key.slice(); // our own copy: the caller may reuse its buffer
  const cons: Cons = name === 'CHACHA20-POLY1305' ? chacha20poly1305 : gcm;
  return {
    name,
    seal(nonce, plaintext, aad) {
      if (nonce.length !== AEAD_NONCE_LENGTH) throw new TypeError(`${name}: nonce must be 12 bytes`);
      return cons(k, nonce, aad).encrypt(plaintext);
    },
    open(nonce, ciphertextWithTag, aad) {
      if (nonce.length !== AEAD_NONCE_LENGTH || ciphertextWithTag.length < AEAD_TAG_LENGTH) return null;
      try {
        // noble compares the tag in constant time and throws on mismatch.
        return cons(k, nonce, aad).decrypt(ciphertextWithTag);
      } catch {
        return null;
      }
    },
  };
}
