// A minimal HTTPS/1.1 client over the injected TLS seam: one request at a time per connection, idle
// connections kept briefly for reuse, every wait bounded by a timeout, bodies bounded in size.
// It never retries: a POST to enc_keys that might have been processed must not be sent twice.
import { KeyDeliveryError, type KeyDeliveryErrorKind } from '../key-delivery.js';
import { HttpParseError, ResponseParser, type ParsedResponse } from './http1-parser.js';
import { isIpLiteral, whenSecure, type Pem, type TlsConnect, type TlsSocketLike } from './tls-seam.js';

export interface HttpsTarget {
  /** `https://host:port` (a path, if any, is prefixed to request paths). */
  url: string;
  cert: Pem;
  key: Pem;
  ca: Pem;
  tlsConnect: TlsConnect;
  /** Extra check of the server once authenticated (throw to refuse). */
  verifyServer?: (socket: TlsSocketLike) => void;
}

export interface HttpsClientOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Keep idle connections this long for reuse; 0 disables keep-alive. Default 2000 ms. */
  idleMs?: number;
  maxIdle?: number;
}

export interface HttpsRequest {
  method: 'GET' | 'POST';
  /** path and query, starting with '/' */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
}

export interface HttpsResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

const MAX_HEADER_BYTES = 16 * 1024;

/** Maps a socket or TLS error to the KeyDeliveryError kind. */
export function transportErrorKind(e: unknown): KeyDeliveryErrorKind {
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  const msg = String((e as { message?: unknown } | null)?.message ?? '');
  if (/CERT|ALERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HANDSHAKE/i.test(code) || /certificate|alert/i.test(msg)) {
    return 'unauthorized';
  }
  return 'unreachable';
}

export class HttpsClient {
  readonly base: URL;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly idleMs: number;
  private readonly maxIdle: number;
  private readonly idle: { socket: TlsSocketLike; timer: NodeJS.Timeout; drop: () => void }[] = [];
  private readonly active = new Set<TlsSocketLike>();
  private closed = false;

  constructor(
    private readonly target: HttpsTarget,
    opts: HttpsClientOptions = {},
  ) {
    this.base = new URL(target.url);
    if (this.base.protocol !== 'https:') throw new TypeError(`KME URL must be https: ${target.url}`);
    if (this.base.search || this.base.hash || this.base.username) throw new TypeError(`KME URL must be https://host:port[/path]`);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
    this.idleMs = opts.idleMs ?? 2000;
    this.maxIdle = opts.maxIdle ?? 4;
  }

  get kme(): string {
    return this.base.origin;
  }

  async request(req: HttpsRequest): Promise<HttpsResponse> {
    if (this.closed) throw new KeyDeliveryError('unreachable', { kme: this.kme, reason: 'client closed' });
    req.signal?.throwIfAborted();
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
    const host = this.base.hostname.replace(/^\[(.*)\]$/, '$1');
    const hostHeader = this.base.host;
    const head =
      `${req.method} ${this.prefix}${req.path} HTTP/1.1\r\n` +
      `Host: ${hostHeader}\r\n` +
      `Accept: application/json\r\n` +
      (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '') +
      (this.idleMs > 0 ? '' : 'Connection: close\r\n') +
      '\r\n';
    const wire = body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');

    let socket = this.takeIdle();
    let fresh = false;
    if (!socket) {
      fresh = true;
      socket = this.target.tlsConnect({
        host,
        port: Number(this.base.port || 443),
        cert: this.target.cert,
        key: this.target.key,
        ca: this.target.ca,
        ...(isIpLiteral(host) ? {} : { servername: host }),
        rejectUnauthorized: true,
      });
      // A late error on a socket already given up on must not become an uncaught 'error' event.
      socket.on('error', () => {});
    }
    const s = socket;
    this.active.add(s);
    const parser = new ResponseParser({ maxHeaderBytes: MAX_HEADER_BYTES, maxBodyBytes: this.maxBodyBytes }, req.method);

    return new Promise<HttpsResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, res?: ParsedResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        s.off('data', onData);
        s.off('end', onEnd);
        s.off('close', onEnd);
        s.off('error', onError);
        this.active.delete(s);
        if (err !== undefined || !res) {
          s.destroy();
          reject(err);
          return;
        }
        if (res.keepAlive && parser.leftover === 0 && this.idleMs > 0 && !this.closed) this.putIdle(s);
        else s.destroy();
        resolve({ status: res.status, headers: res.headers, body: res.body });
      };
      const fail = (kind: KeyDeliveryErrorKind, reason: string, cause?: unknown): void =>
        finish(new KeyDeliveryError(kind, { kme: this.kme, reason, cause }));
      const onData = (d: Buffer): void => {
        try {
          const res = parser.feed(d);
          if (res) finish(undefined, res);
        } catch (e) {
          fail('bad-response', e instanceof HttpParseError ? e.message : String(e), e);
        }
      };
      const onEnd = (): void => {
        // A TLS alert (e.g. our certificate refused) may be reported just after the end of the stream:
        // give it a turn so the error says why.
        setImmediate(() => {
          if (settled) return;
          try {
            finish(undefined, parser.end());
          } catch (e) {
            if (parser.started) fail('bad-response', e instanceof Error ? e.message : String(e), e);
            else fail('unreachable', 'connection closed before a response', e);
          }
        });
      };
      const onError = (e: Error): void => fail(transportErrorKind(e), e.message, e);
      const onAbort = (): void => finish(req.signal!.reason);
      const timer = setTimeout(() => fail('timeout', `no response within ${this.timeoutMs} ms`), this.timeoutMs);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      s.on('error', onError);

      const send = (): void => {
        if (settled) return;
        s.on('data', onData);
        s.on('end', onEnd);
        s.on('close', onEnd);
        s.write(wire);
      };
      if (fresh) {
        whenSecure(s, this.target.verifyServer).then(send, (e: unknown) => {
          if (e instanceof KeyDeliveryError) finish(e);
          else fail(transportErrorKind(e), e instanceof Error ? e.message : String(e), e);
        });
      } else {
        send();
      }
    });
  }

  /** Closes idle connections and aborts active ones. */
  close(): void {
    this.closed = true;
    for (const i of this.idle.splice(0)) {
      clearTimeout(i.timer);
      i.drop();
      i.socket.destroy();
    }
    for (const s of this.active) s.destroy();
    this.active.clear();
  }

  private takeIdle(): TlsSocketLike | undefined {
    for (;;) {
      const i = this.idle.pop();
      if (!i) return undefined;
      clearTimeout(i.timer);
      i.drop();
      if (!i.socket.destroyed && i.socket.writable) return i.socket;
      i.socket.destroy();
    }
  }

  private putIdle(s: TlsSocketLike): void {
    if (this.idle.length >= this.maxIdle) {
      s.destroy();
      return;
    }
    const entry = {
      socket: s,
      timer: setTimeout(() => gone(), this.idleMs),
      drop: () => {
        s.off('data', gone);
        s.off('end', gone);
        s.off('close', gone);
        s.off('error', gone);
      },
    };
    // Any event on an idle connection (unsolicited data, close, error) retires it.
    const gone = (): void => {
      clearTimeout(entry.timer);
      entry.drop();
      const k = this.idle.indexOf(entry);
      if (k >= 0) this.idle.splice(k, 1);
      s.destroy();
    };
    entry.timer.unref?.();
    s.on('data', gone);
    s.on('end', gone);
    s.on('close', gone);
    s.on('error', gone);
    this.idle.push(entry);
  }
}
