// ECDHE (RFC 8422 §5.4, §5.7): named curves only, uncompressed points only, every received point
// validated by lib/crypto/ecdh.ts.
import { TLSError } from '../alert.js';
import { EcdhGroup, ecdhGroupName, ecdhSharedSecret, generateEcdhKeyPair, isEcdhGroup, type EcdhGroupCode, type EcdhKeyPair } from '../crypto/ecdh.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';

/** RFC 8422 §5.4 ECCurveType.named_curve. */
const NAMED_CURVE = 3;

/**
 * x25519 first: it is about 3× cheaper than P-256 in noble and has no invalid-curve pitfalls; P-256
 * before P-384 for speed. Both NIST curves stay listed (OpenSSL's ECDSA certificate selection needs
 * secp256r1 offered, see DESIGN.md).
 */
export const DEFAULT_ECDHE_GROUPS: EcdhGroupCode[] = [EcdhGroup.x25519, EcdhGroup.secp256r1, EcdhGroup.secp384r1];

/** Server: our most preferred group that the client offered. RFC 8422 §4: no extension = secp256r1 assumed usable. */
export function pickEcdheGroup(ctx: Pick<KxContext, 'clientGroups' | 'groups' | 'preferClientGroups'>): EcdhGroupCode | undefined {
  const offered = ctx.clientGroups.length > 0 ? ctx.clientGroups : [EcdhGroup.secp256r1];
  return preferredCommon(offered, ctx.groups, ctx.preferClientGroups).find(isEcdhGroup);
}

/** The groups both sides have, in our order or (preferClient) in the client's. */
export function preferredCommon(offered: readonly number[], ours: readonly number[], preferClient = false): number[] {
  return preferClient ? offered.filter((g) => ours.includes(g)) : ours.filter((g) => offered.includes(g));
}

/** Encode ServerECDHParams (RFC 8422 §5.4). */
export function encodeEcdhParams(group: number, publicKey: Uint8Array): Uint8Array {
  return new Writer().u8(NAMED_CURVE).u16(group).vec8(publicKey).finish();
}

/** Read ServerECDHParams; checks the group is one we offered (RFC 8422 §5.4: else illegal_parameter). */
export function readEcdhParams(r: Reader, offered: readonly number[]): { group: EcdhGroupCode; publicKey: Uint8Array } {
  const curveType = r.u8('curve_type');
  if (curveType !== NAMED_CURVE) throw new TLSError('illegal_parameter', `ServerKeyExchange curve_type ${curveType} is not named_curve`);
  const group = r.u16('namedcurve');
  if (!isEcdhGroup(group) || !offered.includes(group)) throw new TLSError('illegal_parameter', `server chose group ${ecdhGroupName(group)}, which we did not offer`);
  const publicKey = r.vec8('public', 1);
  return { group, publicKey };
}

/** The ECDHE half, reusable by ECDHE_PSK and the ECDHE+QKD hybrid. */
export class EcdheState {
  group: EcdhGroupCode | undefined;
  private keys: EcdhKeyPair | undefined;
  private peerPublic: Uint8Array | undefined;

  /** Server: choose a group and generate our share; returns ServerECDHParams. */
  serverParams(ctx: KxContext): Uint8Array {
    const group = pickEcdheGroup(ctx);
    if (group === undefined) throw new TLSError('handshake_failure', 'no elliptic-curve group in common with the client');
    this.group = group;
    this.keys = generateEcdhKeyPair(group);
    ctx.info.group = ecdhGroupName(group);
    return encodeEcdhParams(group, this.keys.publicKey);
  }

  /** Server: shared secret from ClientECDiffieHellmanPublic. */
  serverSecret(r: Reader): Uint8Array {
    const pub = r.vec8('ecdh_Yc', 1);
    if (!this.keys || this.group === undefined) throw new TLSError('internal_error', 'ECDHE state missing');
    return ecdhSharedSecret(this.group, this.keys.privateKey, pub);
  }

  /** Client: parse and remember the server's params. */
  processParams(ctx: KxContext, r: Reader): void {
    const { group, publicKey } = readEcdhParams(r, ctx.groups);
    this.group = group;
    this.peerPublic = publicKey;
    ctx.info.group = ecdhGroupName(group);
  }

  /** Client: our share (as ClientECDiffieHellmanPublic) and the shared secret. */
  clientShare(): { message: Uint8Array; secret: Uint8Array } {
    if (this.group === undefined || !this.peerPublic) throw new TLSError('internal_error', 'ECDHE client share before server params');
    const keys = generateEcdhKeyPair(this.group);
    const secret = ecdhSharedSecret(this.group, keys.privateKey, this.peerPublic);
    return { message: new Writer().vec8(keys.publicKey).finish(), secret };
  }
}

class EcdheKeyExchange implements KeyExchange {
  private readonly ecdh = new EcdheState();

  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    return this.ecdh.serverParams(ctx);
  }
  async serverPremaster(_ctx: KxContext, cke: Uint8Array): Promise<Uint8Array> {
    const r = new Reader(cke, 'ClientKeyExchange');
    const z = this.ecdh.serverSecret(r);
    r.end();
    return z;
  }
  readServerParams(r: Reader): void {
    r.u8('curve_type');
    r.u16('namedcurve');
    r.vec8('public', 1);
  }
  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) throw new TLSError('unexpected_message', 'ECDHE suite but the server sent no ServerKeyExchange');
    const r = new Reader(params, 'ServerECDHParams');
    this.ecdh.processParams(ctx, r);
    r.end();
  }
  async clientKeyExchange(): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    const { message, secret } = this.ecdh.clientShare();
    return { message, premaster: secret };
  }
}

export const ecdheProvider: KeyExchangeProvider = {
  name: 'ECDHE',
  serverCanUse: (ctx) => pickEcdheGroup(ctx) !== undefined,
  clientCanOffer: () => true,
  create: () => new EcdheKeyExchange(),
};
