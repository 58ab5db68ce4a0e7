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
