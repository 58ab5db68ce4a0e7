// ETSI GS QKD 004 V2.1.1 client: OPEN_CONNECT (§6.2), GET_KEY (§6.3), CLOSE (§6.4) over one TLS
// connection from the injected tlsConnect. Calls are answered in order, so they are sent one at a time.
// A call returns the KME's status; only transport and framing failures throw (KeyDeliveryError).
import { KeyDeliveryError } from '../key-delivery.js';
import { transportErrorKind } from '../etsi014/http1.js';
import { defaultTlsConnect, isIpLiteral, whenSecure, type Pem, type TlsConnect, type TlsSocketLike } from '../etsi014/tls-seam.js';
import {
  DEFAULT_MAX_PAYLOAD,
  encodeMessage,
  Etsi004DecodeError,
  FrameReader,
  NULL_KSID,
  type CloseResponse,
  type GetKeyResponse,
  type Message004,
  type OpenConnectResponse,
  type Qos,
} from './codec.js';

export interface Etsi004ClientOptions {
  host: string;
  port: number;
  /** This application's certificate and key; the CA of the KME's certificate. */
  cert: Pem;
  key: Pem;
  ca: Pem;
  tlsConnect?: TlsConnect;
  /** Per call, including connecting; default 10 s. */
  timeoutMs?: number;
  maxPayload?: number;
}

export const DEFAULT_QOS: Qos = {
  keyChunkSize: 32,
  maxBps: 0,
  minBps: 0,
  jitter: 0,
  priority: 0,
  timeout: 0,
  ttl: 0,
  metadataMimetype: 'application/json',
};

export type OpenConnectResult = Omit<OpenConnectResponse, 'type'>;
export type GetKeyResult = Omit<GetKeyResponse, 'type'>;
export type CloseResult = Omit<CloseResponse, 'type'>;

export class Etsi004Client {
  readonly kme: string;
  private socket: TlsSocketLike | undefined;
  private ready: Promise<void> | undefined;
  private reader: FrameReader | undefined;
  private waiting: { resolve: (m: Message004) => void; reject: (e: unknown) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: Etsi004ClientOptions) {
    this.kme = `tls://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
  }

  /** §6.2 OPEN_CONNECT. `ksid` undefined = NULL (the KME allocates one). */
  openConnect(source: string, destination: string, qos: Partial<Qos> = {}, ksid?: string, opts: { signal?: AbortSignal } = {}): Promise<OpenConnectResult> {
    return this.call(
      { type: 'open-connect-request', source, destination, qos: { ...DEFAULT_QOS, ...qos }, ksid: ksid ?? NULL_KSID },
      'open-connect-response',
      opts.signal,
    );
  }

  /** §6.3 GET_KEY: the chunk at `index` of the stream; `metadataSize` = room offered for metadata. */
  getKey(ksid: string, index: number, metadataSize = 1024, opts: { signal?: AbortSignal } = {}): Promise<GetKeyResult> {
    return this.call({ type: 'get-key-request', ksid, index, metadataSize }, 'get-key-response', opts.signal);
  }

  /** §6.4 CLOSE. */
  close(ksid: string, opts: { signal?: AbortSignal } = {}): Promise<CloseResult> {
    return this.call({ type: 'close-request', ksid }, 'close-response', opts.signal);
  }

  /** Drops the connection; pending calls fail. */
  end(): void {
    this.closed = true;
    this.drop(new KeyDeliveryError('unreachable', { kme: this.kme, reason: 'client closed' }));
  }

  private call<T extends Message004['type']>(req: Message004, want: T, signal?: AbortSignal): Promise<Omit<Extract<Message004, { type: T }>, 'type'>> {
    const run = async (): Promise<Omit<Extract<Message004, { type: T }>, 'type'>> => {
      if (this.closed) throw new KeyDeliveryError('unreachable', { kme: this.kme, reason: 'client closed' });
      signal?.throwIfAborted();
      const timeoutMs = this.o.timeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      try {
        const reply = await new Promise<Message004>((resolve, reject) => {
          timer = setTimeout(() => {
            const e = new KeyDeliveryError('timeout', { kme: this.kme, reason: `no answer within ${timeoutMs} ms` });
            this.drop(e);
            reject(e);
          }, timeoutMs);
          onAbort = () => {
            this.drop(signal!.reason);
            reject(signal!.reason);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          this.connect().then(() => {
            this.waiting = { resolve, reject };
            this.socket!.write(encodeMessage(req));
          }, reject);
        });
        if (reply.type !== want) {
          const e = new KeyDeliveryError('bad-response', { kme: this.kme, reason: `expected ${want}, got ${reply.type}` });
          this.drop(e);
          throw e;
        }
        const { type: _t, ...rest } = reply as Extract<Message004, { type: T }>;
        return rest as Omit<Extract<Message004, { type: T }>, 'type'>;
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        this.waiting = undefined;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  private connect(): Promise<void> {
    if (this.ready) return this.ready;
    const host = this.o.host;
    const s = (this.o.tlsConnect ?? defaultTlsConnect)({
      host,
      port: this.o.port,
      cert: this.o.cert,
      key: this.o.key,
      ca: this.o.ca,
      ...(isIpLiteral(host) ? {} : { servername: host }),
      rejectUnauthorized: true,
    });
    this.socket = s;
    this.reader = new FrameReader(this.o.maxPayload ?? DEFAULT_MAX_PAYLOAD);
    const mine = (): boolean => this.socket === s;
    s.on('error', (e: Error) => {
      if (mine()) this.drop(new KeyDeliveryError(transportErrorKind(e), { kme: this.kme, reason: e.message, cause: e }));
    });
    s.on('close', () => {
      if (mine()) this.drop(new KeyDeliveryError('unreachable', { kme: this.kme, reason: 'connection closed' }));
    });
    s.on('data', (d: Buffer) => {
      if (!mine()) return;
      let msgs: Message004[];
      try {
        msgs = this.reader!.push(d);
      } catch (e) {
        this.drop(new KeyDeliveryError('bad-response', { kme: this.kme, reason: e instanceof Etsi004DecodeError ? e.message : String(e), cause: e }));
        return;
      }
      for (const m of msgs) {
        const w = this.waiting;
        this.waiting = undefined;
        if (!w) {
          this.drop(new KeyDeliveryError('bad-response', { kme: this.kme, reason: 'unsolicited message' }));
          return;
        }
        w.resolve(m);
      }
    });
    this.ready = whenSecure(s).catch((e: unknown) => {
      const err = new KeyDeliveryError(transportErrorKind(e), { kme: this.kme, reason: e instanceof Error ? e.message : String(e), cause: e });
      if (mine()) this.drop(err);
      throw err;
    });
    return this.ready;
  }

  /** Fails the pending call and forgets the connection (the next call reconnects). */
  private drop(err: unknown): void {
    const w = this.waiting;
    this.waiting = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.ready = undefined;
    this.reader = undefined;
    if (s) {
      s.removeAllListeners('data');
      s.removeAllListeners('close');
      s.on('error', () => {});
      s.destroy();
    }
    w?.reject(err);
  }
}
