// Finite-field DHE (RFC 5246 §7.4.3 ServerDHParams, RFC 7919 negotiated groups).
// Client policy, by the server's p:
// - an RFC 7919 prime (ffdhe2048/3072/4096) is accepted;
// - an RFC 3526 MODP prime (modp2048 … modp8192, lib/crypto/modp-groups.ts) is accepted if it has at
//   least minDHSize bits (default 2048) — what OpenSSL 3 s_server without -dhparam and node:tls with
//   dhparam 'auto' send; fixed, well-known safe primes, so as trustworthy as the RFC 7919 ones;
// - any other p only when the user allows custom groups (option allowCustomDHGroups), and then it must
//   be odd, at least minDHSize and at most MAX_DH_SIZE bits.
// A known prime must come with g = 2 (else illegal_parameter). Private exponents: the named group's
// exponentBits (lib/crypto/dh.ts, modp-groups.ts: ≥ 2× the group's security strength, RFC 7919 §5.2).
import { TLSError } from '../alert.js';
import { os2ip, bitLength } from '../crypto/bigint.js';
import { dhSharedSecret, ffdheGroup, ffdheGroupByPrime, generateDhKeyPair, validateDhPublic, type NamedDhGroup } from '../crypto/dh.js';
import { modpGroupByPrime } from '../crypto/modp-groups.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { i2osp } from '../crypto/bigint.js';
import { parseDhParams, type DhParams } from './dh-params.js';
import type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';
import { preferredCommon } from './ecdhe.js';

export const DEFAULT_MIN_DH_SIZE = 2048;
export const MAX_DH_SIZE = 10_000;

const isFfdhe = (g: number) => g >= 256 && g <= 511;

/** Exponent size for a custom group, by the strength estimates RFC 7919 Appendix A uses. */
function exponentBitsFor(pBits: number): number {
  return pBits <= 2048 ? 256 : pBits <= 3072 ? 320 : pBits <= 4096 ? 384 : 448;
}

/** The RFC 7919 or RFC 3526 group whose prime is p (exact match), if any. */
function namedGroupByPrime(p: bigint): NamedDhGroup | undefined {
  return ffdheGroupByPrime(p) ?? modpGroupByPrime(p);
}

/** Our private exponent size for p: the named group's (e.g. 512 for modp8192), else by p's size. */
export function dhExponentBits(p: bigint): number {
  return namedGroupByPrime(p)?.exponentBits ?? exponentBitsFor(bitLength(p));
}

interface ServerGroup {
  p: bigint;
  g: bigint;
  exponentBits: number;
  name: string;
}

/**
 * RFC 7919 §4: if the client offered FFDHE groups, pick one of them (ours first) or don't use DHE at
 * all; if it offered none, use the configured dhparam or ffdhe2048.
 */
export function pickDhGroup(ctx: Pick<KxContext, 'clientGroups' | 'groups' | 'options' | 'preferClientGroups'>): ServerGroup | undefined {
  const offered = ctx.clientGroups.filter(isFfdhe);
  if (offered.length > 0) {
    for (const code of preferredCommon(offered, ctx.groups, ctx.preferClientGroups)) {
      const g = ffdheGroup(code);
      if (g) return fromGroup(g);
    }
    return undefined;
  }
  const custom = customParams(ctx.options);
  if (custom) {
    // A dhparam holding a known prime is reported (and sized) as that group.
    const named = namedGroupByPrime(custom.p);
    return named ? fromGroup(named) : { p: custom.p, g: custom.g, exponentBits: exponentBitsFor(bitLength(custom.p)), name: `custom-${bitLength(custom.p)}` };
  }
  return fromGroup(ffdheGroup(256)!);
}

function fromGroup(g: NamedDhGroup): ServerGroup {
  return { p: g.p, g: g.g, exponentBits: g.exponentBits, name: g.name };
}

const parsedParams = new WeakMap<object, DhParams>();
/** The `dhparam` option (PEM or DER), parsed once per options object. */
function customParams(options: Readonly<Record<string, unknown>>): DhParams | undefined {
  const v = options.dhparam;
  if (v === undefined || v === 'auto') return undefined;
  let p = parsedParams.get(options);
  if (!p) {
    p = parseDhParams(v as string | Uint8Array);
    parsedParams.set(options, p);
  }
  return p;
}

/** node:tls minDHSize: the smallest DH prime, in bits, the client accepts (default 2048). */
export function minDhSize(options: Readonly<Record<string, unknown>>): number {
  return typeof options.minDHSize === 'number' ? options.minDHSize : DEFAULT_MIN_DH_SIZE;
}

/** Client-side policy check of the server's group (see the comment at the top). */
export function checkServerGroup(p: bigint, g: bigint, options: Readonly<Record<string, unknown>>): string {
  const min = minDhSize(options);
  const named = ffdheGroupByPrime(p) ?? modpGroupByPrime(p);
  if (named) {
    if (g !== named.g) throw new TLSError('illegal_parameter', `${named.name} with generator ${g} instead of ${named.g}`);
    // Well known, but the user's floor still holds (e.g. minDHSize 3072 refuses ffdhe2048 and modp2048).
    if (named.bits < min) throw new TLSError('insufficient_security', `DH group ${named.name} (${named.bits} bits) is below the minimum of ${min}`);
    return named.name;
  }
  if (options.allowCustomDHGroups !== true) throw new TLSError('insufficient_security', `server sent a ${bitLength(p)}-bit DH group that is not an RFC 7919 or RFC 3526 group (allowCustomDHGroups is off)`);
  if (p % 2n === 0n) throw new TLSError('illegal_parameter', 'DH prime is even');
  if (bitLength(p) < min) throw new TLSError('insufficient_security', `DH group of ${bitLength(p)} bits is below the minimum of ${min}`);
  // A huge prime is a CPU attack on the client (a 65536-bit modexp takes seconds); OpenSSL caps at 10000.
  if (bitLength(p) > MAX_DH_SIZE) throw new TLSError('illegal_parameter', `DH group of ${bitLength(p)} bits exceeds the maximum of ${MAX_DH_SIZE}`);
  if (g <= 1n || g >= p - 1n) throw new TLSError('illegal_parameter', 'DH generator out of range (must satisfy 1 < g < p-1)');
  return `custom-${bitLength(p)}`;
}

/** The DHE half, reusable by DHE_PSK. */
export class DheState {
  private p = 0n;
  private g = 0n;
  private x = 0n;
  private peer: Uint8Array | undefined;

  serverParams(ctx: KxContext): Uint8Array {
    const group = pickDhGroup(ctx);
    if (!group) throw new TLSError('handshake_failure', 'no finite-field group in common with the client');
    const kp = generateDhKeyPair(group.p, group.g, group.exponentBits);
    this.p = group.p;
    this.g = group.g;
    this.x = kp.x;
    ctx.info.group = group.name;
    return new Writer().vec16(i2osp(group.p, Math.ceil(bitLength(group.p) / 8))).vec16(i2osp(group.g, Math.max(1, Math.ceil(bitLength(group.g) / 8)))).vec16(kp.publicKey).finish();
  }

  serverSecret(r: Reader): Uint8Array {
    const yc = r.vec16('dh_Yc', 1);
    return dhSharedSecret(this.p, yc, this.x);
  }

  static skipParams(r: Reader): void {
    r.vec16('dh_p', 1);
    r.vec16('dh_g', 1);
    r.vec16('dh_Ys', 1);
  }

  processParams(ctx: KxContext, r: Reader): void {
    const p = os2ip(r.vec16('dh_p', 1));
    const g = os2ip(r.vec16('dh_g', 1));
    const ys = r.vec16('dh_Ys', 1);
    ctx.info.group = checkServerGroup(p, g, ctx.options);
    validateDhPublic(p, ys);
    this.p = p;
    this.g = g;
    this.peer = ys;
  }

  clientShare(): { message: Uint8Array; secret: Uint8Array } {
    if (!this.peer) throw new TLSError('internal_error', 'DHE client share before server params');
    const kp = generateDhKeyPair(this.p, this.g, dhExponentBits(this.p));
    const secret = dhSharedSecret(this.p, this.peer, kp.x);
    return { message: new Writer().vec16(kp.publicKey).finish(), secret };
  }
}

class DheKeyExchange implements KeyExchange {
  private readonly dh = new DheState();
  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    return this.dh.serverParams(ctx);
  }
  async serverPremaster(_ctx: KxContext, cke: Uint8Array): Promise<Uint8Array> {
    const r = new Reader(cke, 'ClientKeyExchange');
    const z = this.dh.serverSecret(r);
    r.end();
    return z;
  }
  readServerParams(r: Reader): void {
    DheState.skipParams(r);
  }
  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) throw new TLSError('unexpected_message', 'DHE suite but the server sent no ServerKeyExchange');
    const r = new Reader(params, 'ServerDHParams');
    this.dh.processParams(ctx, r);
    r.end();
  }
  async clientKeyExchange(): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    const { message, secret } = this.dh.clientShare();
    return { message, premaster: secret };
  }
}

export const dheProvider: KeyExchangeProvider = {
  name: 'DHE',
  serverCanUse: (ctx) => pickDhGroup(ctx) !== undefined,
  clientCanOffer: () => true,
  create: () => new DheKeyExchange(),
};
