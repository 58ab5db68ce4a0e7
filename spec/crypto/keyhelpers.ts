// Test-only: turn node:crypto KeyObjects (e.g. loaded from OpenSSL PEM files) into our key types via JWK.
// The real PEM/DER parsing lives in lib/pki; tests here must not depend on it.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { NamedCurve, PrivateKey, PublicKey } from '../../lib/crypto/keys.js';
import { concat } from '../../lib/wire/bytes.js';

function b64u(s: string | undefined): Uint8Array {
  if (s === undefined) throw new Error('missing JWK field');
  return new Uint8Array(Buffer.from(s, 'base64url'));
}
function big(s: string | undefined): bigint {
  const b = b64u(s);
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

export function publicKeyFromNode(k: KeyObject): PublicKey {
  const jwk = k.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    const n = big(jwk.n);
    return { type: 'rsa', n, e: big(jwk.e), bits: n.toString(2).length };
  }
  if (jwk.kty === 'EC') {
    const curve: NamedCurve = jwk.crv === 'P-256' ? 'P-256' : jwk.crv === 'P-384' ? 'P-384' : (() => { throw new Error(`curve ${jwk.crv}`); })();
    return { type: 'ec', curve, point: concat(Uint8Array.of(4), b64u(jwk.x), b64u(jwk.y)) };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return { type: 'ed25519', raw: b64u(jwk.x) };
  throw new Error(`unsupported key ${jwk.kty}`);
}

export function privateKeyFromNode(k: KeyObject): PrivateKey {
  const jwk = k.export({ format: 'jwk' });
  const pub = publicKeyFromNode(createPublicKey(k));
  if (jwk.kty === 'RSA' && pub.type === 'rsa') {
    return {
      type: 'rsa', n: pub.n, e: pub.e, d: big(jwk.d), p: big(jwk.p), q: big(jwk.q),
      dp: big(jwk.dp), dq: big(jwk.dq), qi: big(jwk.qi), bits: pub.bits, publicKey: pub,
    };
  }
  if (jwk.kty === 'EC' && pub.type === 'ec') return { type: 'ec', curve: pub.curve, d: b64u(jwk.d), publicKey: pub };
  if (jwk.kty === 'OKP' && pub.type === 'ed25519') return { type: 'ed25519', seed: b64u(jwk.d), publicKey: pub };
  throw new Error(`unsupported key ${jwk.kty}`);
}

export function privateKeyFromPem(pem: string | Buffer): PrivateKey {
  return privateKeyFromNode(createPrivateKey(pem));
}

/**
 * Test-only: an RSA private key from (n, e, d) alone, factoring n with the classic method
 * (NIST SP 800-56B rev2 Appendix C.2): k = de - 1 = 2^t·r; for small g, a non-trivial square root of 1
 * among g^r, g^2r, ... reveals p = gcd(x - 1, n).
 */
export function rsaKeyFromNED(n: bigint, e: bigint, d: bigint): PrivateKey & { type: 'rsa' } {
  const modPow = (b: bigint, x: bigint, m: bigint): bigint => {
    let r = 1n;
    b %= m;
    for (; x > 0n; x >>= 1n, b = (b * b) % m) if (x & 1n) r = (r * b) % m;
    return r;
  };
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const inv = (a: bigint, m: bigint): bigint => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return ((s0 % m) + m) % m;
  };
  const k = d * e - 1n;
  let r = k;
  while ((r & 1n) === 0n) r >>= 1n;
  for (let g = 2n; g < 1000n; g++) {
    let x = modPow(g, r, n);
    let root = 0n; // a square root of 1 other than ±1
    for (let i = 0; i < 4096 && x !== 1n && x !== n - 1n; i++) {
      const y = (x * x) % n;
      if (y === 1n) {
        root = x;
        break;
      }
      x = y;
    }
    if (root === 0n) continue;
    const p = gcd(root - 1n, n);
    if (p === 1n || p === n) continue;
    const q = n / p;
    const bits = n.toString(2).length;
    const publicKey = { type: 'rsa' as const, n, e, bits };
    return { type: 'rsa', n, e, d, p, q, dp: d % (p - 1n), dq: d % (q - 1n), qi: inv(q, p), bits, publicKey };
  }
  throw new Error('rsaKeyFromNED: could not factor n');
}
