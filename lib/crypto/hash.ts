// Hash functions and HMAC (RFC 2104) for the PRF, the transcript and signatures.
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import type { HashName } from './keys.js';

export type { HashName } from './keys.js';

/**
 * Every digest this module computes: the HashName of keys.ts plus SHA-224, which no TLS scheme we
 * offer uses but which RSA signatures in the wild (and Wycheproof) do.
 */
export type DigestName = HashName | 'sha224';

const impl = { sha1, sha224, sha256, sha384, sha512 } as const;
const lengths: Record<DigestName, number> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

function get(name: DigestName): (typeof impl)[DigestName] {
  const h = impl[name];
  if (!h) throw new TypeError(`unsupported hash ${String(name)}`);
  return h;
}

/** Digest size in bytes. */
export function hashLength(name: DigestName): number {
  return lengths[name];
}

export function hash(name: DigestName, data: Uint8Array): Uint8Array {
  return get(name)(data);
}

export function hmac(name: DigestName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(get(name), key, data);
}

/** Incremental hash whose digest() does not end it: the handshake transcript needs intermediate digests. */
export interface Hash {
  readonly name: DigestName;
  update(data: Uint8Array): Hash;
  /** Digest of everything fed so far; the object stays usable. */
  digest(): Uint8Array;
  /** An independent copy of the current state. */
  clone(): Hash;
}

interface NobleHash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): NobleHash;
}

class IncrementalHash implements Hash {
  constructor(readonly name: DigestName, private readonly state: NobleHash) {}
  update(data: Uint8Array): Hash {
    this.state.update(data);
    return this;
  }
  digest(): Uint8Array {
    // noble's digest() finalizes the object, so digest a copy.
    return this.state.clone().digest();
  }
  clone(): Hash {
    return new IncrementalHash(this.name, this.state.clone());
  }
}

export function createHash(name: DigestName): Hash {
  return new IncrementalHash(name, get(name).create() as NobleHash);
}
