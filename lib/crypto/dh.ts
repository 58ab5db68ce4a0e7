// Finite-field Diffie-Hellman for DHE suites with the RFC 7919 named groups (ffdhe2048/3072/4096).
//
// BigInt modular exponentiation is not constant-time: private exponents stay inside this module, so a
// constant-time or native provider can replace generateDhKeyPair/dhSharedSecret without touching callers.
import { TLSError } from '../alert.js';
import { randomBytes } from './random.js';
import { i2osp, modPow, os2ip } from './bigint.js';

/** RFC 7919 §6.1 NamedGroup codes for the finite-field groups. */
export const FfdheGroupCode = { ffdhe2048: 256, ffdhe3072: 257, ffdhe4096: 258 } as const;
export type FfdheGroupName = keyof typeof FfdheGroupCode;

/** A finite-field group with a fixed, well-known safe prime: RFC 7919 (DhGroup) or RFC 3526 (modp-groups.ts). */
export interface NamedDhGroup {
  readonly name: string;
  readonly p: bigint;
  readonly g: bigint;
  /** Bit length of p. */
  readonly bits: number;
  /**
   * Private exponent size in bits. RFC 7919 Appendix A estimates 103, 125 and 150 bits of strength
   * for ffdhe2048/3072/4096 and asks short exponents of at least 225, 275 and 325 bits; we use 256,
   * 320 and 384 — above both that and twice the strength (§5.2, Pollard kangaroo costs 2^(n/2)). Far cheaper than a full-size exponent, and safe
   * because these are safe primes (no small subgroups for the exponent to leak into beyond {1, p-1}).
   */
  readonly exponentBits: number;
}

/** An RFC 7919 group: a NamedDhGroup with a TLS NamedGroup code (§6.1). */
export interface DhGroup extends NamedDhGroup {
  readonly name: FfdheGroupName;
  readonly code: number;
}

// RFC 7919 Appendix A.1-A.3, generator 2. Checked in spec/crypto/dh.spec.ts against OpenSSL's built-in
// groups, for primality of p and (p-1)/2, and for the 64 fixed ones at each end.
const P2048 = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
    'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
    'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
    '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
    'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
    'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
    '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
    'C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF',
);
const P3072 = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
    'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
    'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
    '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
    'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
    'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
    '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
    'C58EF1837D1683B2C6F34A26C1B2EFFA886B4238611FCFDCDE355B3B6519035B' +
    'BC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C' +
    'AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF' +
    '5CAE82AB9C9DF69EE86D2BC522363A0DABC521979B0DEADA1DBF9A42D5C4484E' +
    '0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF',
);
const P4096 = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
    'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
    'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
    '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
    'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
    'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
    '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
    'C58EF1837D1683B2C6F34A26C1B2EFFA886B4238611FCFDCDE355B3B6519035B' +
    'BC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C' +
    'AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF' +
    '5CAE82AB9C9DF69EE86D2BC522363A0DABC521979B0DEADA1DBF9A42D5C4484E' +
    '0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB' +
    '7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A' +
    '7135C886EFB4318AED6A1E012D9E6832A907600A918130C46DC778F971AD0038' +
    '092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF' +
    '8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E655F6AFFFFFFFFFFFFFFFF',
);

export const FFDHE2048: DhGroup = Object.freeze({ name: 'ffdhe2048', code: 256, p: P2048, g: 2n, bits: 2048, exponentBits: 256 });
export const FFDHE3072: DhGroup = Object.freeze({ name: 'ffdhe3072', code: 257, p: P3072, g: 2n, bits: 3072, exponentBits: 320 });
export const FFDHE4096: DhGroup = Object.freeze({ name: 'ffdhe4096', code: 258, p: P4096, g: 2n, bits: 4096, exponentBits: 384 });

const GROUPS: readonly DhGroup[] = [FFDHE2048, FFDHE3072, FFDHE4096];

export function ffdheGroup(code: number): DhGroup | undefined {
  return GROUPS.find((g) => g.code === code);
}

/** The named group whose prime is p (a server may send RFC 7919 primes in ServerDHParams), if any. */
export function ffdheGroupByPrime(p: bigint | Uint8Array): DhGroup | undefined {
  const n = typeof p === 'bigint' ? p : os2ip(p);
  return GROUPS.find((g) => g.p === n);
}

function byteLength(n: bigint): number {
  return Math.ceil(n.toString(2).length / 8);
}

export interface DhKeyPair {
  /** Private exponent. Secret. */
  x: bigint;
  /** Public value g^x mod p. */
  y: bigint;
  /** y as sent in dh_Ys / dh_Yc, left-padded with zeros to the length of p. */
  publicKey: Uint8Array;
}

/** x is uniformly random with exactly exponentBits bits (top bit set), and below p - 1. */
export function generateDhKeyPair(p: bigint, g: bigint, exponentBits: number): DhKeyPair {
  if (!Number.isInteger(exponentBits) || exponentBits < 160) throw new RangeError(`DH exponent of ${exponentBits} bits is too small`);
  const pBits = p.toString(2).length;
  const bits = Math.min(exponentBits, pBits - 2);
  let x: bigint;
  do {
    x = os2ip(randomBytes(Math.ceil(bits / 8))) & ((1n << BigInt(bits)) - 1n);
    x |= 1n << BigInt(bits - 1);
  } while (x >= p - 1n);
  const y = modPow(g, x, p);
  return { x, y, publicKey: i2osp(y, byteLength(p)) };
}

/**
 * Checks a peer's public value: 1 < y < p - 1 (RFC 7919 §5.1; y = 0, 1 or p - 1 would force the shared
 * secret into {0, 1, p - 1}). With a safe prime this is also the complete subgroup check one can make.
 */
export function validateDhPublic(p: bigint, y: bigint | Uint8Array): bigint {
  const n = typeof y === 'bigint' ? y : os2ip(y);
  if (n <= 1n || n >= p - 1n) throw new TLSError('illegal_parameter', 'DH public value out of range (must satisfy 1 < y < p-1)');
  return n;
}

/**
 * The premaster secret Z = Ys^x mod p with leading zero bytes stripped (RFC 5246 §8.1.2). The peer value
 * is validated first.
 */
export function dhSharedSecret(p: bigint, peerPublic: bigint | Uint8Array, x: bigint): Uint8Array {
  const y = validateDhPublic(p, peerPublic);
  const z = modPow(y, x, p);
  if (z <= 1n || z === p - 1n) throw new TLSError('illegal_parameter', 'DH shared secret is degenerate');
  return i2osp(z, byteLength(z));
}
