// Cryptographically secure random bytes: the one place the stack draws randomness from.
import { randomBytes as nodeRandomBytes } from 'node:crypto';

export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randomBytes: invalid length ${n}`);
  const b = nodeRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
