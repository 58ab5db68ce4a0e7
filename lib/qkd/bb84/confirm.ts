// Hash confirmation after Cascade. Cascade has no success check of its own, so Alice sends a universal hash
// of each reconciled frame: a polynomial over GF(p), p = 2^61 − 1, in a random point r chosen by Alice after
// Bob's corrections are fixed, with the frame's 32-bit words as coefficients (and its length last).
// Two different frames of L words collide with probability at most (L + 1)/p < 2^−47 for 10^4-bit frames.
// The 61-bit tag leaks at most 61 bits about the frame; 64 are charged to the leakage budget.
const P = (1n << 61n) - 1n;
export const CONFIRM_KEY_BYTES = 8;
export const CONFIRM_TAG_BYTES = 8;
export const CONFIRM_LEAK_BITS = 64;

/** Maps 8 random bytes to a point r in [1, p − 1]. */
export function confirmPoint(key: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < CONFIRM_KEY_BYTES; i++) v = (v << 8n) | BigInt(key[i]);
  return (v % (P - 1n)) + 1n;
}

/** Polynomial hash of a 0/1 frame at point r, as 8 big-endian bytes. */
export function confirmTag(key: Uint8Array, bits: Uint8Array): Uint8Array {
  const r = confirmPoint(key);
  let h = 0n;
  const n = bits.length;
  for (let w = 0; w < n; w += 32) {
    let word = 0;
    const end = Math.min(n, w + 32);
    for (let i = w; i < end; i++) word |= bits[i] << (i - w);
    h = (h * r + BigInt(word >>> 0)) % P;
  }
  h = (h * r + BigInt(n)) % P;
  const out = new Uint8Array(CONFIRM_TAG_BYTES);
  for (let i = CONFIRM_TAG_BYTES - 1; i >= 0; i--) {
    out[i] = Number(h & 0xffn);
    h >>= 8n;
  }
  return out;
}

export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
