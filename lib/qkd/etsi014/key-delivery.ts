// KeyDelivery over ETSI GS QKD 014: master = enc_keys (one key), slave = dec_keys (one key ID).
import type { DeliveredKey, KeyDelivery, KeyRequestOptions } from '../key-delivery.js';
import { Etsi014Client, type Etsi014ClientOptions } from './client.js';

export class Etsi014KeyDelivery implements KeyDelivery {
  readonly api = '014' as const;
  private readonly client: Etsi014Client;

  /** Either a ready client or the options to build one. */
  constructor(clientOrOptions: Etsi014Client | Etsi014ClientOptions) {
    this.client = clientOrOptions instanceof Etsi014Client ? clientOrOptions : new Etsi014Client(clientOrOptions);
  }

  get kme(): string {
    return this.client.kme;
  }

  async getKey(slaveSaeId: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    checkSize(opts.sizeBits);
    const res = await this.client.getKey(
      slaveSaeId,
      { number: 1, size: opts.sizeBits },
      opts.signal ? { signal: opts.signal } : {},
    );
    const k = res.keys[0]!;
    return { keyId: k.keyId, key: k.key };
  }

  async getKeyById(masterSaeId: string, keyId: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    checkSize(opts.sizeBits);
    const res = await this.client.getKeyWithKeyIds(masterSaeId, [keyId], {
      sizeBits: opts.sizeBits,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const k = res.keys[0]!;
    return { keyId: k.keyId, key: k.key };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function checkSize(bits: number): void {
  if (!Number.isSafeInteger(bits) || bits <= 0 || bits % 8 !== 0) {
    throw new RangeError(`key size must be a positive multiple of 8 bits, got ${bits}`);
  }
}
