// Test-side primality check for the DH group constants (lib/ never needs one: it only uses fixed,
// published groups and validates peers' values against them).
import { modPow } from '../../lib/crypto/bigint.js';

/** Miller-Rabin with fixed small-prime bases (a probable-prime check, enough to catch a copy slip). */
export function probablyPrime(n: bigint, bases: bigint[]): boolean {
  if (n < 2n) return false;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (const a of bases) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}
