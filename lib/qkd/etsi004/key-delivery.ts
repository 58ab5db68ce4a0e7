// KeyDelivery over ETSI GS QKD 004. Key IDs are `<KSID>/<index>` (index in decimal).
//   master: OPEN_CONNECT(source = me, destination = slave, NULL KSID) once per (slave, size) — the KME
//           answers at once with status 1 "peer not yet connected" — then GET_KEY at the next index.
//           A stream lives for the TTL the KME answered (QoS, seconds): the master moves to a new stream
//           before the end (keeping a margin for the slave to fetch), and once more if the KME says the
//           stream is gone (GET_KEY status 3: expired, or the slave closed it).
//   slave:  OPEN_CONNECT(source = me, destination = master, the master's KSID) once per stream, then
//           GET_KEY at the index from the key ID.
import { KeyDeliveryError, type DeliveredKey, type KeyDelivery, type KeyRequestOptions } from '../key-delivery.js';
import { saeUri } from './app-uri.js';
import { Etsi004Client, type Etsi004ClientOptions } from './client.js';
import { Status004, statusError } from './status.js';

export interface Etsi004KeyDeliveryOptions extends Etsi004ClientOptions {
  /** This application's SAE ID (its certificate's identity at the KME). */
  saeId: string;
  /** Metadata room offered on GET_KEY; default 1024 bytes. */
  metadataSize?: number;
  /** Clock for stream lifetimes, ms; default Date.now (tests inject one). */
  now?: () => number;
}

interface MasterStream {
  ksid: string;
  next: number;
  /** stop taking chunks from it at this time (ms): its TTL minus a margin for the slave; Infinity: no TTL */
  retireAt: number;
}

/** The slave fetches after the master: stop using a stream this much before the KME closes it. */
function retireMargin(ttlMs: number): number {
  return Math.min(60_000, ttlMs / 4);
}

const KEY_ID_RE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(0|[1-9]\d{0,9})$/;

export function encode004KeyId(ksid: string, index: number): string {
  return `${ksid}/${index}`;
}

export function parse004KeyId(keyId: string): { ksid: string; index: number } | undefined {
  const m = KEY_ID_RE.exec(keyId);
  if (!m) return undefined;
  const index = Number(m[2]);
  return index <= 0xffffffff ? { ksid: m[1]!, index } : undefined;
}

export class Etsi004KeyDelivery implements KeyDelivery {
  readonly api = '004' as const;
  private readonly client: Etsi004Client;
  /** master side: open streams by `${slave}|${chunkBytes}` */
  private readonly streams = new Map<string, Promise<MasterStream>>();
  /** slave side: streams joined */
  private readonly joined = new Map<string, Promise<void>>();

  constructor(private readonly o: Etsi004KeyDeliveryOptions) {
    this.client = new Etsi004Client(o);
  }

  get kme(): string {
    return this.client.kme;
  }

  async getKey(slaveSaeId: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    const chunk = chunkBytes(opts.sizeBits);
    const k = `${slaveSaeId}|${chunk}`;
    for (let attempt = 0; ; attempt++) {
      const { entry } = await this.masterStream(k, slaveSaeId, chunk, opts.signal);
      const stream = await entry;
      const index = stream.next++;
      try {
        return await this.fetch(stream.ksid, index, chunk, opts.signal);
      } catch (e) {
        // Status 3: the KME no longer has the stream open for us (its TTL ran out, or the slave closed it).
        if (attempt === 0 && e instanceof KeyDeliveryError && e.status === Status004.PEER_APP_NOT_CONNECTED) {
          this.retire(k, entry);
          continue;
        }
        throw e;
      }
    }
  }

  /** The master's current stream to `slave` for this size: a new one when there is none or it is due to retire. */
  private async masterStream(k: string, slaveSaeId: string, chunk: number, signal?: AbortSignal): Promise<{ entry: Promise<MasterStream> }> {
    const now = this.o.now ?? Date.now;
    const have = this.streams.get(k);
    if (have) {
      const r = await have.catch(() => undefined);
      if (r && now() < r.retireAt) return { entry: have };
      if (r) this.retire(k, have);
    }
    let s = this.streams.get(k);
    if (!s) {
      const t0 = now();
      s = this.open(saeUri(slaveSaeId), chunk, undefined, signal).then(({ ksid, ttl }) => ({
        ksid,
        next: 0,
        retireAt: ttl > 0 ? t0 + ttl * 1000 - retireMargin(ttl * 1000) : Infinity,
      }));
      this.streams.set(k, s);
      const mine = s;
      s.catch(() => {
        if (this.streams.get(k) === mine) this.streams.delete(k);
      });
    }
    return { entry: s };
  }

  /** Stop using a master stream; CLOSE it at the KME (best effort) so it does not wait for its TTL there. */
  private retire(k: string, entry: Promise<MasterStream>): void {
    if (this.streams.get(k) !== entry) return;
    this.streams.delete(k);
    entry.then((r) => this.client.close(r.ksid)).catch(() => undefined);
  }

  async getKeyById(masterSaeId: string, keyId: string, opts: KeyRequestOptions): Promise<DeliveredKey> {
    const chunk = chunkBytes(opts.sizeBits);
    const id = parse004KeyId(keyId);
    if (!id) throw new KeyDeliveryError('not-found', { kme: this.client.kme, reason: `not a 004 key ID: ${keyId}` });
    let j = this.joined.get(id.ksid);
    if (!j) {
      j = this.open(saeUri(masterSaeId), chunk, id.ksid, opts.signal, 'join').then(() => undefined);
      this.joined.set(id.ksid, j);
      j.catch(() => this.joined.delete(id.ksid));
    }
    await j;
    return this.fetch(id.ksid, id.index, chunk, opts.signal);
  }

  async close(): Promise<void> {
    const ksids = new Set<string>(this.joined.keys());
    for (const s of this.streams.values()) {
      const r = await s.catch(() => undefined);
      if (r) ksids.add(r.ksid);
    }
    for (const ksid of ksids) {
      try {
        await this.client.close(ksid);
      } catch {
        break; // connection gone: nothing more to close
      }
    }
    this.streams.clear();
    this.joined.clear();
    this.client.end();
  }

  private async open(
    destination: string,
    chunk: number,
    ksid: string | undefined,
    signal?: AbortSignal,
    role: 'own' | 'join' = 'own',
  ): Promise<{ ksid: string; ttl: number }> {
    const r = await this.client.openConnect(saeUri(this.o.saeId), destination, { keyChunkSize: chunk }, ksid, signal ? { signal } : {});
    // Status 1 is the normal answer for the stream's owner: the peer joins later, nobody waits for it.
    if (r.status !== Status004.SUCCESS && r.status !== Status004.PEER_NOT_CONNECTED) throw statusError(this.client.kme, 'OPEN_CONNECT', r.status);
    // A slave joins a stream its master already opened: status 0. Status 1 means the KME did not know
    // the KSID and made us the owner of a new stream (§6.1: a given KSID is used as is), whose keys the
    // master never had: leave it, and report the key ID as unknown.
    if (role === 'join' && r.status === Status004.PEER_NOT_CONNECTED) {
      await this.client.close(r.ksid).catch(() => undefined);
      throw new KeyDeliveryError('not-found', { kme: this.client.kme, status: r.status, reason: `key stream ${ksid} is not known to the KME (no master opened it)` });
    }
    if (r.qos.keyChunkSize !== chunk) {
      throw new KeyDeliveryError('bad-response', { kme: this.client.kme, reason: `KME set Key_chunk_size ${r.qos.keyChunkSize}, asked ${chunk}` });
    }
    if (ksid !== undefined && r.ksid !== ksid) throw new KeyDeliveryError('bad-response', { kme: this.client.kme, reason: 'KME answered another KSID' });
    return { ksid: r.ksid, ttl: r.qos.ttl };
  }

  private async fetch(ksid: string, index: number, chunk: number, signal?: AbortSignal): Promise<DeliveredKey> {
    const g = await this.client.getKey(ksid, index, this.o.metadataSize ?? 1024, signal ? { signal } : {});
    if (g.status !== Status004.SUCCESS) throw statusError(this.client.kme, 'GET_KEY', g.status);
    if (g.index !== index || g.key.length !== chunk) {
      g.key.fill(0);
      throw new KeyDeliveryError('bad-response', { kme: this.client.kme, reason: 'GET_KEY answered another index or size' });
    }
    const out: DeliveredKey = { keyId: encode004KeyId(ksid, index), key: g.key };
    const kmeId = kmeIdFromMetadata(g.metadata);
    if (kmeId !== undefined) out.kmeId = kmeId;
    return out;
  }
}

function chunkBytes(bits: number): number {
  if (!Number.isSafeInteger(bits) || bits <= 0 || bits % 8 !== 0) throw new RangeError(`key size must be a positive multiple of 8 bits, got ${bits}`);
  return bits / 8;
}

function kmeIdFromMetadata(m: Uint8Array): string | undefined {
  if (m.length === 0) return undefined;
  try {
    const v = JSON.parse(Buffer.from(m).toString('utf8')) as unknown;
    const id = (v as { kme_id?: unknown } | null)?.kme_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
