// Random sources for the BB84 simulation. Two kinds:
//  - SeededRandom: xoshiro128** (Blackman & Vigna), fast and statistically good, fully reproducible from a
//    seed. For simulations and tests only: a seeded run is predictable by anyone who knows the seed, so it
//    must never be used to produce real keys.
//  - CryptoRandom: the operating system CSPRNG (node:crypto randomFillSync), buffered.
import { randomFillSync } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';

export interface RandomSource {
  /** True when the stream is reproducible from a seed (never use it for real keys). */
  readonly seeded: boolean;
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Fills `out` with uniform 32-bit words. */
  fillU32(out: Uint32Array): void;
  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** A uniform integer in [0, n) for 1 <= n <= 2^32 (rejection sampling: no modulo bias). */
  nextInt(n: number): number;
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
}

abstract class BaseRandom implements RandomSource {
  abstract readonly seeded: boolean;
  abstract nextU32(): number;

  fillU32(out: Uint32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.nextU32();
  }

  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  nextInt(n: number): number {
    if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`nextInt bound ${n} outside 1..2^32`);
    // Lemire-style rejection on the 32-bit product, done in floating point (exact below 2^53).
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    while (i < n) {
      let w = this.nextU32();
      for (let k = 0; k < 4 && i < n; k++, w >>>= 8) out[i++] = w & 0xff;
    }
    return out;
  }
}

/** xoshiro128** 1.0. State must not be all zero (seeding below guarantees it). */
export class SeededRandom extends BaseRandom {
  readonly seeded = true;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` plus a `stream` label give independent, reproducible streams (state = SHA-256 of both). */
  constructor(seed: number | bigint | string, stream = '') {
    super();
    const digest = sha256(new TextEncoder().encode(`qtls-bb84-seed:${String(seed)}:${stream}`));
    const dv = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
    this.s0 = dv.getUint32(0, true);
    this.s1 = dv.getUint32(4, true);
    this.s2 = dv.getUint32(8, true);
    this.s3 = dv.getUint32(12, true);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Seed directly from 16 bytes (used for public seeds exchanged in protocol messages). */
  static fromBytes(seed: Uint8Array, stream = ''): SeededRandom {
    let hex = '';
    for (const b of seed) hex += b.toString(16).padStart(2, '0');
    return new SeededRandom(hex, stream);
  }

  /** Raw state (for known-answer tests against the reference implementation). */
  static fromState(s0: number, s1: number, s2: number, s3: number): SeededRandom {
    const r = new SeededRandom(0);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  override fillU32(out: Uint32Array): void {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(s1, 5);
      out[i] = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
  }
}

/** The OS CSPRNG, read through a 64 KiB buffer. */
export class CryptoRandom extends BaseRandom {
  readonly seeded = false;
  private readonly buf = new Uint32Array(16384);
  private pos = this.buf.length;

  nextU32(): number {
    if (this.pos === this.buf.length) {
      randomFillSync(this.buf);
      this.pos = 0;
    }
    return this.buf[this.pos++];
  }

  override fillU32(out: Uint32Array): void {
    randomFillSync(out);
  }

  override bytes(n: number): Uint8Array {
    return randomFillSync(new Uint8Array(n));
  }
}

/**
 * A named random stream: seeded (reproducible) when `seed` is given, otherwise the OS CSPRNG. `fast` streams
 * in unseeded mode are xoshiro128** keyed from the CSPRNG — used only for the simulated physics ("nature":
 * loss, dark counts, misalignment), never for anything a party keeps secret.
 */
export function randomStream(seed: number | bigint | string | undefined, stream: string, fast = false): RandomSource {
  if (seed !== undefined) return new SeededRandom(seed, stream);
  if (fast) return SeededRandom.fromBytes(randomFillSync(new Uint8Array(32)), stream);
  return new CryptoRandom();
}
