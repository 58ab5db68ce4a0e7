// Ephemeral ECDH for ECDHE key exchange (RFC 8422): x25519 (RFC 7748) and the NIST curves P-256/P-384.
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { TLSError } from '../alert.js';

/** RFC 8422 §5.1.1 NamedCurve codes (TLS 1.3 calls them NamedGroup) for the curves we support. */
export const EcdhGroup = { secp256r1: 23, secp384r1: 24, x25519: 29 } as const;
export type EcdhGroupName = keyof typeof EcdhGroup;
export type EcdhGroupCode = (typeof EcdhGroup)[EcdhGroupName];

const groupNames = new Map<number, EcdhGroupName>(
  Object.entries(EcdhGroup).map(([k, v]) => [v, k as EcdhGroupName]),
);

export function isEcdhGroup(code: number): code is EcdhGroupCode {
  return groupNames.has(code);
}

export function ecdhGroupName(code: number): string {
  return groupNames.get(code) ?? `unknown_group(${code})`;
}

export interface EcdhKeyPair {
  /** x25519: 32-byte scalar; NIST: big-endian scalar of the curve's size. Secret. */
  privateKey: Uint8Array;
  /** As sent in ECPoint (RFC 8422 §5.4): 32 bytes for x25519, 0x04||X||Y for NIST curves. */
  publicKey: Uint8Array;
}

type NistCurve = typeof p256;
function nist(group: number): { curve: NistCurve; size: number } | undefined {
  if (group === EcdhGroup.secp256r1) return { curve: p256, size: 32 };
  if (group === EcdhGroup.secp384r1) return { curve: p384, size: 48 };
  return undefined;
}

function unsupported(group: number): never {
  throw new TLSError('illegal_parameter', `unsupported ECDH group ${ecdhGroupName(group)}`);
}

export function generateEcdhKeyPair(group: EcdhGroupCode): EcdhKeyPair {
  if (group === EcdhGroup.x25519) {
    const { secretKey, publicKey } = x25519.keygen();
    return { privateKey: secretKey, publicKey };
  }
  const n = nist(group) ?? unsupported(group);
  const secretKey = n.curve.utils.randomSecretKey();
  return { privateKey: secretKey, publicKey: n.curve.getPublicKey(secretKey, false) };
}

/**
 * The ECDH shared secret (premaster secret) from our private key and the peer's wire-format public key.
 * An invalid peer key throws TLSError('illegal_parameter').
 */
export function ecdhSharedSecret(group: EcdhGroupCode, privateKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  if (group === EcdhGroup.x25519) {
    if (privateKey.length !== 32) throw new TypeError('x25519 private key must be 32 bytes');
    if (peerPublic.length !== 32) {
      throw new TLSError('illegal_parameter', `x25519 public key must be 32 bytes, got ${peerPublic.length}`);
    }
    let z: Uint8Array;
    try {
      // noble rejects low-order points before the ladder and an all-zero result after it.
      z = x25519.getSharedSecret(privateKey, peerPublic);
    } catch (cause) {
      throw new TLSError('illegal_parameter', 'x25519 peer public key is a low-order point (all-zero shared secret)', 'local', { cause });
    }
    // RFC 7748 §6.1: MUST check for the all-zero value and abort. Kept even though noble checks too.
    let acc = 0;
    for (const b of z) acc |= b;
    if (acc === 0) throw new TLSError('illegal_parameter', 'x25519 shared secret is all zero (RFC 7748 §6.1)');
    return z;
  }

  const n = nist(group) ?? unsupported(group);
  const name = ecdhGroupName(group);
  if (privateKey.length !== n.size) throw new TypeError(`${name} private key must be ${n.size} bytes`);
  // RFC 8422 §5.11: the point must be in uncompressed form (the only format TLS 1.2 peers may use since
  // RFC 8422 deprecated ec_point_formats other than uncompressed), of the right length, on the curve and
  // not the point at infinity.
  if (peerPublic.length !== 1 + 2 * n.size || peerPublic[0] !== 0x04) {
    const form = peerPublic[0] === 0x02 || peerPublic[0] === 0x03 ? 'compressed' : 'malformed';
    throw new TLSError('illegal_parameter', `${name} public key is ${form}: expected 0x04||X||Y of ${1 + 2 * n.size} bytes, got ${peerPublic.length} bytes`);
  }
  let point;
  try {
    point = n.curve.Point.fromBytes(peerPublic);
    point.assertValidity(); // on the curve, coordinates < p, not infinity
  } catch (cause) {
    throw new TLSError('illegal_parameter', `${name} public key is not a valid point on the curve`, 'local', { cause });
  }
  let shared: Uint8Array;
  try {
    shared = n.curve.getSharedSecret(privateKey, point.toBytes(false), true);
  } catch (cause) {
    throw new TLSError('illegal_parameter', `${name} key agreement failed`, 'local', { cause });
  }
  // RFC 8422 §5.10: the premaster secret is the x-coordinate only, as a field-size big-endian string.
  return shared.subarray(1);
}
