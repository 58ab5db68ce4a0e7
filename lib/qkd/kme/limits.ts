// The KME's advertised limits (ETSI GS QKD 014 §6.1 status fields) and the 004 chunk and stream limits.

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
  /**
   * Longest 004 key stream lifetime, seconds: the QoS TTL given to a stream whose OPEN_CONNECT asks TTL 0,
   * and the most it may ask (more is answered with status 7 and this value as the counter-proposal).
   */
  maxStreamTtlS: number;
  /** Most 004 key streams one application may have open at a site at once (OPEN_CONNECT beyond: status 4). */
  maxOpenStreamsPerApp: number;
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
  maxStreamTtlS: 3600,
  maxOpenStreamsPerApp: 1024,
};

export function resolveLimits(l: Partial<KmeLimits> = {}): KmeLimits {
  const r = { ...DEFAULT_LIMITS, ...l };
  if (r.keySize % 8 !== 0 || r.keySize <= 0) throw new RangeError('keySize must be a positive multiple of 8');
  if (r.minKeySize > r.maxKeySize || r.minKeySize % 8 !== 0 || r.maxKeySize % 8 !== 0) throw new RangeError('bad key size limits');
  if (r.keySize < r.minKeySize || r.keySize > r.maxKeySize) throw new RangeError('keySize outside [minKeySize, maxKeySize]');
  // TTL travels as a uint32 of seconds; the stream's expiry as milliseconds.
  if (!Number.isSafeInteger(r.maxStreamTtlS) || r.maxStreamTtlS < 1 || r.maxStreamTtlS > 0xffffffff) throw new RangeError('maxStreamTtlS must be 1..2^32-1 seconds');
  if (!Number.isSafeInteger(r.maxOpenStreamsPerApp) || r.maxOpenStreamsPerApp < 1) throw new RangeError('maxOpenStreamsPerApp must be a positive integer');
  return r;
}
