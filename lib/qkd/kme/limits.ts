// The KME's advertised limits (ETSI GS QKD 014 §6.1 status fields), the 004 chunk and stream limits, the
// 014 key lifetime, and the reservation age / clock skew bounds that let tombstones be pruned.

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
  /**
   * Lifetime of an ETSI 014 key at a site, seconds, from the moment the site recorded its reservation (its
   * own clock): copies not yet fetched by every SAE attached there (the slaves, at the slave's site) are
   * then forfeited — bytes erased, rows dropped as after a delivery — and dec_keys answers 400 not found.
   */
  maxKeyAgeS: number;
  /**
   * Oldest reservation request (step 2) a participant accepts, seconds, by the coordinator's timestamp
   * read with the participant's clock; older ones are refused. Bounds how long a tombstone must live.
   */
  maxReservationAgeS: number;
  /**
   * Most the two sites' clocks may differ, seconds. A reservation stamped further in the future is
   * refused; tombstones are kept maxReservationAgeS + 2 × maxClockSkewS (docs/kme.md, "Tombstones").
   */
  maxClockSkewS: number;
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
  maxKeyAgeS: 3600,
  maxReservationAgeS: 600,
  maxClockSkewS: 60,
};

/**
 * How long a tombstone must be kept, ms: a reservation request for its txid accepted after that would
 * have to be older than maxReservationAgeS + maxClockSkewS, which the participant refuses (see
 * KmeSite.onReserve and docs/kme.md, "Tombstones").
 */
export function tombstoneHorizonMs(l: KmeLimits): number {
  return (l.maxReservationAgeS + 2 * l.maxClockSkewS) * 1000;
}

export function resolveLimits(l: Partial<KmeLimits> = {}): KmeLimits {
  const r = { ...DEFAULT_LIMITS, ...l };
  if (r.keySize % 8 !== 0 || r.keySize <= 0) throw new RangeError('keySize must be a positive multiple of 8');
  if (r.minKeySize > r.maxKeySize || r.minKeySize % 8 !== 0 || r.maxKeySize % 8 !== 0) throw new RangeError('bad key size limits');
  if (r.keySize < r.minKeySize || r.keySize > r.maxKeySize) throw new RangeError('keySize outside [minKeySize, maxKeySize]');
  // TTL travels as a uint32 of seconds; the stream's expiry as milliseconds.
  if (!Number.isSafeInteger(r.maxStreamTtlS) || r.maxStreamTtlS < 1 || r.maxStreamTtlS > 0xffffffff) throw new RangeError('maxStreamTtlS must be 1..2^32-1 seconds');
  if (!Number.isSafeInteger(r.maxOpenStreamsPerApp) || r.maxOpenStreamsPerApp < 1) throw new RangeError('maxOpenStreamsPerApp must be a positive integer');
  // Times are ms since the epoch in safe integers; a year is plenty for any of them.
  const year = 366 * 86_400;
  if (!Number.isSafeInteger(r.maxKeyAgeS) || r.maxKeyAgeS < 1 || r.maxKeyAgeS > year) throw new RangeError('maxKeyAgeS must be 1..31622400 seconds');
  if (!Number.isSafeInteger(r.maxReservationAgeS) || r.maxReservationAgeS < 1 || r.maxReservationAgeS > year) {
    throw new RangeError('maxReservationAgeS must be 1..31622400 seconds');
  }
  if (!Number.isSafeInteger(r.maxClockSkewS) || r.maxClockSkewS < 0 || r.maxClockSkewS > year) throw new RangeError('maxClockSkewS must be 0..31622400 seconds');
  return r;
}
