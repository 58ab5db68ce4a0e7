// Constant-time comparison for MACs, Finished verify_data and encoded signatures.

/**
 * True when a and b hold the same bytes. The running time depends only on the lengths, never on where
 * the first difference is. A length mismatch returns false at once (lengths are public).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
