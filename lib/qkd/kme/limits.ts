// The KME's advertised limits (ETSI GS QKD 014 §6.1 status fields) and the 004 chunk limits.

export interface KmeLimits {
  /** key_size: default key length in bits, and the pool's unit size (a key of n bits uses ceil(n / key_size) units). */
  keySize: number;
  /** max_key_count: most units a site keeps ready for its own master SAEs. */
  maxKeyCount: number;
  /** max_key_per_request */
  maxKeyPerRequest: number;
  /** min_key_size / max_key_size, bits */
  minKeySize: number;
  maxKeySize: number;
  /** max_SAE_ID_count: most additional_slave_SAE_IDs in one request (key multicast) */
  maxSaeIdCount: number;
  /** largest 004 Key_chunk_size, bytes */
  maxChunkBytes: number;
  /** 004 Key_chunk_size when the application asks for 0 */
  defaultChunkBytes: number;
}

export const DEFAULT_LIMITS: KmeLimits = {
  keySize: 256,
  maxKeyCount: 4096,
  maxKeyPerRequest: 128,
  minKeySize: 64,
  maxKeySize: 4096,
  maxSaeIdCount: 4,
  maxChunkBytes: 512,
  defaultChunkBytes: 32,
};

export function resolveLimits(l: Partial<KmeLimits> = {}): KmeLimits {
  const r = { ...DEFAULT_LIMITS, ...l };
  if (r.keySize % 8 !== 0 || r.keySize <= 0) throw new RangeError('keySize must be a positive multiple of 8');
  if (r.minKeySize > r.maxKeySize || r.minKeySize % 8 !== 0 || r.maxKeySize % 8 !== 0) throw new RangeError('bad key size limits');
  if (r.keySize < r.minKeySize || r.keySize > r.maxKeySize) throw new RangeError('keySize outside [minKeySize, maxKeySize]');
  return r;
}
