// The PSK family: plain PSK (RFC 4279 §2), DHE_PSK (RFC 4279 §3) and ECDHE_PSK (RFC 5489 §2).
// premaster = uint16 len(other) || other || uint16 len(psk) || psk, where other is N zero bytes for
// plain PSK and the (EC)DH shared secret otherwise.
import { TLSError } from '../alert.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { DheState, pickDhGroup } from './dhe.js';
import { EcdheState, pickEcdheGroup } from './ecdhe.js';
import type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';

/** RFC 4279 §5.3: identities and hints up to 128 bytes must be supported; we accept up to 2^16-1. */
export const MAX_PSK_LENGTH = 64 * 1024;

/** Client: pskCallback(hint) → { identity, psk } | null (node:tls shape; may be async). */
export type ClientPskCallback = (hint: string | null) => PskAnswer | null | undefined | Promise<PskAnswer | null | undefined>;
export interface PskAnswer {
  identity: string;
  psk: Uint8Array;
}
/** Server: pskCallback(socket, identity) → psk | null (node:tls shape; may be async). */
export type ServerPskCallback = (socket: unknown, identity: string) => Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;

export function pskPremaster(other: Uint8Array, psk: Uint8Array): Uint8Array {
  return new Writer().vec16(other).vec16(psk).finish();
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

type Inner = { kind: 'none' } | { kind: 'ecdhe'; state: EcdheState } | { kind: 'dhe'; state: DheState };

/** One implementation, three exchanges: the inner (EC)DH part is optional. */
export class PskKeyExchange implements KeyExchange {
  private readonly inner: Inner;
  private hint: string | null = null;

  constructor(kind: Inner['kind']) {
    this.inner = kind === 'ecdhe' ? { kind, state: new EcdheState() } : kind === 'dhe' ? { kind, state: new DheState() } : { kind };
  }

  /** Server side: the identity hint to send (node: pskIdentityHint). Subclasses (QKD) override. */
  protected async serverHint(ctx: KxContext): Promise<string | undefined> {
    const h = ctx.options.pskIdentityHint;
    // A function computes the hint per connection (PSK-compatible QKD sends a fresh key_ID).
    if (typeof h === 'function') return String(await (h as (socket: unknown) => string | Promise<string>)(ctx.socket));
    return typeof h === 'string' ? h : undefined;
  }

  /** Server side: resolve an identity to a key. Subclasses (QKD) override. */
  protected async serverLookup(ctx: KxContext, identity: string): Promise<Uint8Array | undefined> {
    const cb = ctx.options.pskCallback as ServerPskCallback | undefined;
    if (!cb) throw new TLSError('internal_error', 'PSK suite selected without a pskCallback');
    const psk = await cb(ctx.socket, identity);
    return psk ?? undefined;
  }

  /** Client side: choose identity and key given the hint. Subclasses (QKD) override. */
  protected async clientChoose(ctx: KxContext, hint: string | null): Promise<PskAnswer | undefined> {
    const cb = ctx.options.pskCallback as ClientPskCallback | undefined;
    if (!cb) throw new TLSError('internal_error', 'PSK suite offered without a pskCallback');
    return (await cb(hint)) ?? undefined;
  }

  async serverParams(ctx: KxContext): Promise<Uint8Array | undefined> {
    const hint = await this.serverHint(ctx);
    if (this.inner.kind === 'none') {
      // RFC 4279 §2: without a hint the server omits ServerKeyExchange.
      return hint === undefined ? undefined : new Writer().vec16(Buffer.from(hint, 'utf8')).finish();
    }
    const w = new Writer().vec16(Buffer.from(hint ?? '', 'utf8'));
    w.bytes(this.inner.state.serverParams(ctx));
    return w.finish();
  }

  async serverPremaster(ctx: KxContext, cke: Uint8Array): Promise<Uint8Array> {
    const r = new Reader(cke, 'ClientKeyExchange');
    const identity = text(r.vec16('psk_identity'));
    const other = this.inner.kind === 'none' ? undefined : this.inner.state.serverSecret(r);
    r.end();
    ctx.info.pskIdentity = identity;
    const psk = await this.serverLookup(ctx, identity);
    // RFC 4279 §2: an unknown identity MAY be answered with unknown_psk_identity.
    if (!psk || psk.length === 0) throw new TLSError('unknown_psk_identity', `unknown PSK identity "${identity.slice(0, 64)}"`);
    return pskPremaster(other ?? new Uint8Array(psk.length), psk);
  }

  readServerParams(r: Reader): void {
    r.vec16('psk_identity_hint');
    if (this.inner.kind === 'ecdhe') {
      r.u8('curve_type');
      r.u16('namedcurve');
      r.vec8('public', 1);
    } else if (this.inner.kind === 'dhe') {
      DheState.skipParams(r);
    }
  }

  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) {
      if (this.inner.kind !== 'none') throw new TLSError('unexpected_message', `${ctx.suite.name} requires a ServerKeyExchange`);
      this.hint = null;
      return;
    }
    const r = new Reader(params, 'ServerKeyExchange');
    const hintBytes = r.vec16('psk_identity_hint');
    this.hint = hintBytes.length ? text(hintBytes) : null;
    if (this.hint !== null) ctx.info.pskIdentityHint = this.hint;
    if (this.inner.kind !== 'none') this.inner.state.processParams(ctx, r);
    r.end();
  }

  async clientKeyExchange(ctx: KxContext): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    const answer = await this.clientChoose(ctx, this.hint);
    if (!answer || !answer.psk || answer.psk.length === 0) throw new TLSError('handshake_failure', 'no PSK available for this server (pskCallback returned nothing)');
    if (answer.psk.length > MAX_PSK_LENGTH) throw new TLSError('internal_error', 'PSK too long');
    ctx.info.pskIdentity = answer.identity;
    const w = new Writer().vec16(Buffer.from(answer.identity, 'utf8'));
    let other: Uint8Array;
    if (this.inner.kind === 'none') {
      other = new Uint8Array(answer.psk.length);
    } else {
      const share = this.inner.state.clientShare();
      w.bytes(share.message);
      other = share.secret;
    }
    return { message: w.finish(), premaster: pskPremaster(other, answer.psk) };
  }
}

const hasPskCallback = (options: Readonly<Record<string, unknown>>) => typeof options.pskCallback === 'function';

export const pskProvider: KeyExchangeProvider = {
  name: 'PSK',
  serverCanUse: (ctx) => hasPskCallback(ctx.options),
  clientCanOffer: hasPskCallback,
  serverKeyExchangeOptional: true,
  create: () => new PskKeyExchange('none'),
};

export const ecdhePskProvider: KeyExchangeProvider = {
  name: 'ECDHE_PSK',
  serverCanUse: (ctx) => hasPskCallback(ctx.options) && pickEcdheGroup(ctx) !== undefined,
  clientCanOffer: hasPskCallback,
  create: () => new PskKeyExchange('ecdhe'),
};

export const dhePskProvider: KeyExchangeProvider = {
  name: 'DHE_PSK',
  serverCanUse: (ctx) => hasPskCallback(ctx.options) && pickDhGroup(ctx) !== undefined,
  clientCanOffer: hasPskCallback,
  create: () => new PskKeyExchange('dhe'),
};
