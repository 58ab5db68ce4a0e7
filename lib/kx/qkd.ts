// QKD as a first-class key exchange (qtls private-use suites, docs/qkd-in-tls.md).
//
//   ClientHello     qkd_sae extension: { opaque sae_id<1..255>; uint8 apis<1..255> }   (client = slave SAE)
//   ServerKeyExchange (signed with the server certificate, like ECDHE's):
//                   struct { uint8 api; opaque master_sae_id<1..255>; opaque key_id<1..2^16-1>; }
//   ClientKeyExchange  empty: nothing secret travels
//   premaster       the QKD key (256 bits by default)
//
// The server, as master SAE, asks its KME for a new key for the client's SAE (ETSI 014 enc_keys / 004
// GET_KEY); the client, as slave SAE, asks its own KME for the same key by ID. Each side awaits only
// its own KME inside its own flight, so neither ever waits for the other's KME round trip: the 2019
// deadlock cannot happen. The hybrid exchange (hybrid.ts) adds ECDHE to the same messages.
import { TLSError } from '../alert.js';
import { ExtensionType } from '../handshake/extensions.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';
import { DEFAULT_QKD_KEY_BITS, apiCode, checkKeySize, kmeCall, kmeName, qkdOptions, requireQkd } from './qkd-options.js';
import { serverKmeCall } from './qkd-key-budget.js';

export interface QkdSaeExtension {
  saeId: string;
  apis: number[];
}

export function encodeQkdSaeExtension(e: QkdSaeExtension): Uint8Array {
  return new Writer().vec8(Buffer.from(e.saeId, 'utf8')).vec8(new Uint8Array(e.apis)).finish();
}

export function parseQkdSaeExtension(data: Uint8Array): QkdSaeExtension {
  const r = new Reader(data, 'qkd_sae');
  const saeId = Buffer.from(r.vec8('sae_id', 1)).toString('utf8');
  const apis = [...r.vec8('apis', 1)];
  r.end();
  return { saeId, apis };
}

/** The client's SAE ID and whether it speaks our KME's delivery API; undefined → QKD can't run. */
export function clientSae(ctx: Pick<KxContext, 'clientExtensions' | 'options'>): string | undefined {
  const q = qkdOptions(ctx.options);
  const raw = ctx.clientExtensions.get(ExtensionType.qkd_sae);
  if (!q || !raw) return undefined;
  let ext: QkdSaeExtension;
  try {
    ext = parseQkdSaeExtension(raw);
  } catch {
    return undefined;
  }
  return ext.apis.includes(apiCode(q.delivery)) ? ext.saeId : undefined;
}

/** The QKD half, shared by the first-class and the hybrid exchange. */
export class QkdState {
  private key: Uint8Array | undefined;

  /** Server (master SAE): fetch a new key for the client's SAE; returns the QKDParams. */
  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    const q = requireQkd(ctx.options);
    const slave = clientSae(ctx);
    if (!slave) throw new TLSError('handshake_failure', 'client did not announce a usable QKD SAE ID');
    const bits = q.keySizeBits ?? DEFAULT_QKD_KEY_BITS;
    // Under the server's key budget: a refused ClientHello fails here, before any KME call.
    const k = await serverKmeCall(q, ctx.signal, `enc_keys for ${slave}`, (signal) => q.delivery.getKey(slave, { sizeBits: bits, signal }));
    checkKeySize(k.key, bits, kmeName(q, k.kmeId));
    this.key = k.key;
    Object.assign(ctx.info, { qkdKeyId: k.keyId, qkdMasterSae: q.saeId, qkdSlaveSae: slave, qkdApi: q.delivery.api, qkdKme: kmeName(q, k.kmeId) });
    return new Writer().u8(apiCode(q.delivery)).vec8(Buffer.from(q.saeId, 'utf8')).vec16(Buffer.from(k.keyId, 'utf8')).finish();
  }

  static skipParams(r: Reader): void {
    r.u8('api');
    r.vec8('master_sae_id', 1);
    r.vec16('key_id', 1);
  }

  /** Client (slave SAE): read QKDParams and fetch the same key from our KME. */
  async processParams(ctx: KxContext, r: Reader): Promise<void> {
    const q = requireQkd(ctx.options);
    const api = r.u8('api');
    const master = Buffer.from(r.vec8('master_sae_id', 1)).toString('utf8');
    const keyId = Buffer.from(r.vec16('key_id', 1)).toString('utf8');
    if (api !== apiCode(q.delivery)) throw new TLSError('illegal_parameter', `server used QKD delivery API ${api}, which we did not offer`);
    const bits = q.keySizeBits ?? DEFAULT_QKD_KEY_BITS;
    const k = await kmeCall(q, ctx.signal, `dec_keys for key ${keyId}`, (signal) => q.delivery.getKeyById(master, keyId, { sizeBits: bits, signal }));
    if (k.keyId !== keyId) throw new TLSError('handshake_failure', `KME returned key ${k.keyId} instead of ${keyId}`);
    checkKeySize(k.key, bits, kmeName(q, k.kmeId));
    this.key = k.key;
    Object.assign(ctx.info, { qkdKeyId: keyId, qkdMasterSae: master, qkdSlaveSae: q.saeId, qkdApi: q.delivery.api, qkdKme: kmeName(q, k.kmeId) });
  }

  /** The key, handed over once: the exchange keeps no copy. */
  take(): Uint8Array {
    const k = this.key;
    if (!k) throw new TLSError('internal_error', 'QKD key missing');
    this.key = undefined;
    return k;
  }
}

class QkdKeyExchange implements KeyExchange {
  private readonly qkd = new QkdState();
  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    return this.qkd.serverParams(ctx);
  }
  async serverPremaster(_ctx: KxContext, cke: Uint8Array): Promise<Uint8Array> {
    if (cke.length !== 0) throw new TLSError('decode_error', 'QKD ClientKeyExchange must be empty');
    return this.qkd.take();
  }
  readServerParams(r: Reader): void {
    QkdState.skipParams(r);
  }
  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) throw new TLSError('unexpected_message', 'QKD suite but the server sent no ServerKeyExchange');
    const r = new Reader(params, 'QKDParams');
    await this.qkd.processParams(ctx, r);
    r.end();
  }
  async clientKeyExchange(): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    return { message: new Uint8Array(0), premaster: this.qkd.take() };
  }
}

/** The qkd_sae extension a client sends when it offers QKD suites. */
export function qkdClientHelloExtensions(options: Readonly<Record<string, unknown>>): Array<[number, Uint8Array]> {
  const q = qkdOptions(options);
  return q ? [[ExtensionType.qkd_sae, encodeQkdSaeExtension({ saeId: q.saeId, apis: [apiCode(q.delivery)] })]] : [];
}

export const qkdProvider: KeyExchangeProvider = {
  name: 'QKD',
  clientHelloExtensions: qkdClientHelloExtensions,
  serverCanUse: (ctx) => clientSae(ctx) !== undefined,
  clientCanOffer: (options) => qkdOptions(options) !== undefined,
  create: () => new QkdKeyExchange(),
};
