// A strict, bounded HTTP/1.1 response parser (RFC 9112): status line, header fields, and a body framed by
// Content-Length (§6.3), chunked transfer coding (§7.1) or connection close. Anything ambiguous — obs-fold,
// both Content-Length and Transfer-Encoding, conflicting lengths, an unknown coding — is an error.

export class HttpParseError extends Error {
  override readonly name = 'HttpParseError';
}

export interface ParsedResponse {
  status: number;
  reason: string;
  /** lower-case names; repeated fields joined with ", " */
  headers: Map<string, string>;
  body: Buffer;
  /** the connection may carry another request */
  keepAlive: boolean;
}

export interface ParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

type BodyMode = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private phase: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'done' = 'head';
  private status = 0;
  private reason = '';
  private headers = new Map<string, string>();
  private mode: BodyMode = { kind: 'none' };
  private chunkLeft = 0;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private keepAlive = true;

  constructor(
    private readonly limits: ParserLimits,
    private readonly requestMethod: string,
  ) {}

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Bytes received after the end of the response (a well-behaved server sends none). */
  get leftover(): number {
    return this.phase === 'done' ? this.buf.length : 0;
  }

  /** Feeds bytes; returns the response once complete. */
  feed(data: Buffer): ParsedResponse | undefined {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    this.step();
    return this.phase === 'done' ? this.result() : undefined;
  }

  /** The peer closed the connection; returns the response if close was its framing. */
  end(): ParsedResponse {
    if (this.phase === 'body' && this.mode.kind === 'close') {
      this.phase = 'done';
      return this.result();
    }
    if (this.phase === 'done') return this.result();
    throw new HttpParseError(
      this.phase === 'head' && this.buf.length === 0 ? 'connection closed before a response' : 'truncated response',
    );
  }

  /** True once at least one byte of the response arrived. */
  get started(): boolean {
    return this.phase !== 'head' || this.buf.length > 0;
  }

  private result(): ParsedResponse {
    return {
      status: this.status,
      reason: this.reason,
      headers: this.headers,
      body: Buffer.concat(this.body),
      keepAlive: this.keepAlive && this.mode.kind !== 'close',
    };
  }

  private step(): void {
    for (;;) {
      switch (this.phase) {
        case 'head':
          if (!this.parseHead()) return;
          break;
        case 'body':
          if (this.mode.kind === 'length') {
            const n = Math.min(this.mode.left, this.buf.length);
            this.take(n);
            this.mode.left -= n;
            if (this.mode.left === 0) this.phase = 'done';
            else return;
          } else if (this.mode.kind === 'close') {
            this.take(this.buf.length);
            return;
          } else {
            this.phase = 'done';
          }
          break;
        case 'chunk-size': {
          const line = this.line(1024);
          if (line === undefined) return;
          const m = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
          if (!m) throw new HttpParseError('bad chunk size line');
          this.chunkLeft = parseInt(m[1]!, 16);
          if (this.bodyBytes + this.chunkLeft > this.limits.maxBodyBytes) throw new HttpParseError('response body too large');
          this.phase = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.chunkLeft, this.buf.length);
          this.take(n);
          this.chunkLeft -= n;
          if (this.chunkLeft > 0) return;
          this.phase = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf':
          if (this.buf.length < 2) return;
          if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) throw new HttpParseError('chunk not followed by CRLF');
          this.buf = this.buf.subarray(2);
          this.phase = 'chunk-size';
          break;
        case 'trailers': {
          const line = this.line(this.limits.maxHeaderBytes);
          if (line === undefined) return;
          if (line === '') this.phase = 'done';
          break;
        }
        case 'done':
          return;
      }
    }
  }

  private take(n: number): void {
    if (n === 0) return;
    this.bodyBytes += n;
    if (this.bodyBytes > this.limits.maxBodyBytes) throw new HttpParseError('response body too large');
    this.body.push(Buffer.from(this.buf.subarray(0, n)));
    this.buf = this.buf.subarray(n);
  }

  private line(max: number): string | undefined {
    const i = this.buf.indexOf('\r\n');
    if (i < 0) {
      if (this.buf.length > max) throw new HttpParseError('line too long');
      return undefined;
    }
    if (i > max) throw new HttpParseError('line too long');
    const s = this.buf.subarray(0, i).toString('latin1');
    this.buf = this.buf.subarray(i + 2);
    return s;
  }

  private parseHead(): boolean {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buf.length > this.limits.maxHeaderBytes) throw new HttpParseError('response header too large');
      return false;
    }
    if (end > this.limits.maxHeaderBytes) throw new HttpParseError('response header too large');
    const head = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end + 4);
    const lines = head.split('\r\n');
    const sl = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: ([^\r\n]*))?$/.exec(lines[0]!);
    if (!sl) throw new HttpParseError('bad status line');
    const minor = sl[1]!;
    const status = Number(sl[2]);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      if (l.startsWith(' ') || l.startsWith('\t')) throw new HttpParseError('obsolete line folding');
      const c = l.indexOf(':');
      if (c <= 0) throw new HttpParseError('bad header line');
      const name = l.slice(0, c);
      if (!TOKEN.test(name)) throw new HttpParseError('bad header name');
      const value = l.slice(c + 1).trim();
      if (/[\0\r\n]/.test(value)) throw new HttpParseError('bad header value');
      const k = name.toLowerCase();
      const prev = headers.get(k);
      headers.set(k, prev === undefined ? value : `${prev}, ${value}`);
    }
    if (status >= 100 && status < 200) {
      if (status === 101) throw new HttpParseError('unexpected protocol switch');
      return true; // interim response: parse the next head
    }
    this.status = status;
    this.reason = sl[3] ?? '';
    this.headers = headers;
    const conn = (headers.get('connection') ?? '').toLowerCase();
    this.keepAlive = minor === '1' ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
    const te = headers.get('transfer-encoding');
    const cl = headers.get('content-length');
    if (this.requestMethod === 'HEAD' || status === 204 || status === 304) {
      this.mode = { kind: 'none' };
    } else if (te !== undefined) {
      if (cl !== undefined) throw new HttpParseError('both Content-Length and Transfer-Encoding');
      if (te.toLowerCase() !== 'chunked') throw new HttpParseError(`unsupported transfer coding ${te}`);
      this.mode = { kind: 'chunked' };
    } else if (cl !== undefined) {
      const parts = cl.split(/\s*,\s*/);
      if (!parts.every((p) => p === parts[0]) || !/^\d{1,12}$/.test(parts[0]!)) throw new HttpParseError('bad Content-Length');
      const n = Number(parts[0]);
      if (n > this.limits.maxBodyBytes) throw new HttpParseError('response body too large');
      this.mode = { kind: 'length', left: n };
    } else {
      this.mode = { kind: 'close' };
    }
    this.phase = this.mode.kind === 'chunked' ? 'chunk-size' : this.mode.kind === 'length' && this.mode.left === 0 ? 'done' : 'body';
    if (this.mode.kind === 'none') this.phase = 'done';
    return true;
  }
}
