// ECDHE + QKD hybrid: both secrets feed the premaster the way RFC 5489 §2 combines ECDHE and a PSK,
//   premaster = uint16 len(Z) || Z || uint16 len(K) || K      (Z: ECDH secret, K: QKD key)
// so an attacker has to break both the elliptic-curve exchange and the QKD link. Messages:
//   ServerKeyExchange = QKDParams || ServerECDHParams (signed);  ClientKeyExchange = ClientECDiffieHellmanPublic.
import { TLSError } from '../alert.js';
import { Reader } from '../wire/reader.js';
import { EcdheState, pickEcdheGroup } from './ecdhe.js';
import type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';
import { pskPremaster } from './psk.js';
import { QkdState, clientSae, qkdClientHelloExtensions } from './qkd.js';
import { qkdOptions } from './qkd-options.js';

class HybridKeyExchange implements KeyExchange {
  private readonly qkd = new QkdState();
  private readonly ecdh = new EcdheState();

  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    const ecParams = this.ecdh.serverParams(ctx);
    const qkdParams = await this.qkd.serverParams(ctx);
    const out = new Uint8Array(qkdParams.length + ecParams.length);
    out.set(qkdParams, 0);
    out.set(ecParams, qkdParams.length);
    return out;
  }
  async serverPremaster(_ctx: KxContext, cke: Uint8Array): Promise<Uint8Array> {
    const r = new Reader(cke, 'ClientKeyExchange');
    const z = this.ecdh.serverSecret(r);
    r.end();
    return pskPremaster(z, this.qkd.take());
  }
  readServerParams(r: Reader): void {
    QkdState.skipParams(r);
    r.u8('curve_type');
    r.u16('namedcurve');
    r.vec8('public', 1);
  }
  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) throw new TLSError('unexpected_message', 'ECDHE_QKD suite but the server sent no ServerKeyExchange');
    const r = new Reader(params, 'ServerKeyExchange');
    // Validate the ECDH part before spending a QKD key on a handshake that would fail anyway.
    const qkdStart = r.offset;
    QkdState.skipParams(r);
    const qkdEnd = r.offset;
    this.ecdh.processParams(ctx, r);
    r.end();
    await this.qkd.processParams(ctx, new Reader(params.subarray(qkdStart, qkdEnd), 'QKDParams'));
  }
  async clientKeyExchange(): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    const { message, secret } = this.ecdh.clientShare();
    return { message, premaster: pskPremaster(secret, this.qkd.take()) };
  }
}

export const hybridProvider: KeyExchangeProvider = {
  name: 'ECDHE_QKD',
  clientHelloExtensions: qkdClientHelloExtensions,
  serverCanUse: (ctx) => clientSae(ctx) !== undefined && pickEcdheGroup(ctx) !== undefined,
  clientCanOffer: (options) => qkdOptions(options) !== undefined,
  create: () => new HybridKeyExchange(),
};
