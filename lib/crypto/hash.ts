// Hash functions and HMAC (RFC 2104) for the PRF, the transcript and signatures.
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import type { HashName } from './keys.js';

export type { HashName } from './keys.js';

const impl = { sha1, sha256, sha384, sha512 } as const;
const lengths: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

function get(name: HashName): (typeof impl)[HashName] {
  const h = impl[name];
  if (!h) throw new TypeError(`unsupported hash ${String(name)}`);
  return h;
}

/** Digest size in bytes. */
export function hashLength(name: HashName): number {
  return lengths[name];
}

export function hash(name: HashName, data: Uint8Array): Uint8Array {
  return get(name)(data);
}

export function hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(get(name), key, data);
}

/** Incremental hash whose digest() does not end it: the handshake transcript needs intermediate digests. */
export interface Hash {
  readonly name: HashName;
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
  constructor(readonly name: HashName, private readonly state: NobleHash) {}
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

export function createHash(name: HashName): Hash {
  return new IncrementalHash(name, get(name).create() as NobleHash);
}
