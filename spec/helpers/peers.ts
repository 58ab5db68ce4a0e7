// TLS endpoints for interop tests, qtls or node:tls behind one interface: an echo server factory with
// automatic cleanup, and a client that sends a payload, reads the echo and closes. Each returns an
// EndpointReport: what that endpoint says it negotiated, what it received, how the connection ended.
// The openssl CLI peers live in ./openssl.ts (re-exported here).
import * as nodeTls from 'node:tls';
import type { Duplex } from 'node:stream';
import { connect as qtlsConnect, createServer as qtlsCreateServer, type ClientOptions, type ServerOptions } from '../../lib/index.js';
import type { Cleanup } from './cleanup.js';
import { LOCALHOST, listenLocal } from './ports.js';

export * from './openssl.js';

export type Impl = 'qtls' | 'node';

export interface EndpointReport {
  impl: Impl;
  role: 'client' | 'server';
  /** The handshake completed ('secureConnect' / 'secureConnection'). */
  secure: boolean;
  cipher: { name: string; standardName: string; version: string } | undefined;
  protocol: string | null | undefined;
  /** getEphemeralKeyInfo(): node reports it on clients only (null on servers). */
  ephemeral: Record<string, unknown> | null | undefined;
  alpn: string | false | null | undefined;
  authorized: boolean | undefined;
  /** authorizationError normalised to its code (node: a string code; qtls: an Error with .code). */
  authorizationCode: string | undefined;
  /** getPeerCertificate(): the fields compared across implementations (undefined: none received). */
  peer: { subjectCN: unknown; issuerCN: unknown; subjectaltname: unknown; fingerprint256: unknown } | undefined;
  /** All application data received, in order. */
  readonly received: Buffer;
  /** Bytes received so far (cheap, unlike `received`). */
  readonly receivedLength: number;
  /** Append received data (used by the helpers). */
  push(d: Buffer): void;
  /** 'end' was emitted: the peer finished its side of the stream. */
  ended: boolean;
  error: (Error & { code?: string; alert?: string }) | undefined;
  /** 'keylog' lines (without the trailing newline). */
  keylog: string[];
  /** 'keylog' event payloads exactly as emitted (node: Buffer, newline-terminated). */
  keylogRaw: Buffer[];
  /** socket.servername: the SNI a server received (node: false when none); the client's own. */
  servername: unknown;
  /** isSessionReused() once secure. */
  reused: boolean | undefined;
  /** Client: the last 'session' event's Buffer (to resume with `session`). */
  session: Buffer | undefined;
  /** qtls only (from the trace hook): alert names received / sent, e.g. ['close_notify']. */
  alertsIn: string[];
  alertsOut: string[];
  /** Resolves on 'close'. */
  closed: Promise<void>;
}

type AnySocket = Duplex & {
  getCipher(): unknown;
  getProtocol(): string | null;
  getEphemeralKeyInfo(): unknown;
  alpnProtocol: string | false | null;
  authorized: boolean;
  authorizationError?: unknown;
  getPeerCertificate(): Record<string, unknown> | null;
  isSessionReused(): boolean;
  servername?: unknown;
};

function newReport(impl: Impl, role: 'client' | 'server'): EndpointReport {
  let chunks: Buffer[] = [];
  let length = 0;
  return {
    impl, role, secure: false, cipher: undefined, protocol: undefined, ephemeral: undefined, alpn: undefined,
    authorized: undefined, authorizationCode: undefined, peer: undefined, servername: undefined, reused: undefined, session: undefined,
    ended: false, error: undefined, keylog: [], keylogRaw: [], alertsIn: [], alertsOut: [], closed: Promise.resolve(),
    get received() {
      if (chunks.length !== 1) chunks = [Buffer.concat(chunks, length)];
      return chunks[0]!;
    },
    get receivedLength() {
      return length;
    },
    push(d: Buffer) {
      chunks.push(d);
      length += d.length;
    },
  };
}

function authorizationCode(e: unknown): string | undefined {
  if (e === undefined || e === null) return undefined;
  if (typeof e === 'string') return e;
  return (e as { code?: string }).code ?? String((e as Error).message ?? e);
}

function captureSecure(r: EndpointReport, s: AnySocket): void {
  r.secure = true;
  r.cipher = s.getCipher() as EndpointReport['cipher'];
  r.protocol = s.getProtocol();
  r.ephemeral = s.getEphemeralKeyInfo() as EndpointReport['ephemeral'];
  r.alpn = s.alpnProtocol;
  r.authorized = s.authorized;
  r.authorizationCode = authorizationCode(s.authorizationError);
  r.reused = s.isSessionReused();
  r.servername = s.servername;
  const pc = s.getPeerCertificate();
  if (pc && Object.keys(pc).length > 0) {
    const cn = (x: unknown) => (x as { CN?: unknown } | undefined)?.CN;
    r.peer = { subjectCN: cn(pc.subject), issuerCN: cn(pc.issuer), subjectaltname: pc.subjectaltname, fingerprint256: pc.fingerprint256 };
  }
}

interface TraceEvent {
  direction: 'in' | 'out';
  kind: string;
  name: string;
}

/** A trace hook recording alerts into whichever report is current (one connection at a time). */
function alertTracer(current: () => EndpointReport | undefined): (e: TraceEvent) => void {
  return (e) => {
    const r = current();
    if (!r || e.kind !== 'alert') return;
    (e.direction === 'in' ? r.alertsIn : r.alertsOut).push(e.name);
  };
}

function keylogText(line: Buffer | string): string {
  return line.toString().replace(/\n$/, '');
}

// ---------- servers ----------

export interface EchoServerBehaviour {
  /** End (close_notify) after echoing this many bytes, instead of waiting for the client to close. */
  closeAfter?: number;
}

export interface EchoServer {
  impl: Impl;
  port: number;
  /** The underlying node:tls or qtls server (for events such as newSession/resumeSession). */
  server: nodeTls.Server | ReturnType<typeof qtlsCreateServer>;
  /** One report per connection whose handshake completed, in order. */
  sessions: EndpointReport[];
  /** Handshake failures ('tlsClientError'). */
  clientErrors: Array<Error & { code?: string; alert?: string }>;
  /** Resolves with the next session (index = sessions seen so far when called, or `index`). */
  session(index?: number, timeoutMs?: number): Promise<EndpointReport>;
  /** Resolves with the next handshake failure. */
  clientError(index?: number, timeoutMs?: number): Promise<Error & { code?: string; alert?: string }>;
  close(): Promise<void>;
}

/**
 * An echo server (qtls or node:tls) on 127.0.0.1: every byte received is written back; when the client
 * ends, the server ends too. `options` are node:tls-shaped server options; with `trace` unset, qtls
 * alerts are recorded into the session (attribution assumes one connection at a time).
 */
export async function startEchoServer(impl: Impl, options: ServerOptions & nodeTls.TlsOptions, cleanup: Cleanup, behaviour: EchoServerBehaviour = {}): Promise<EchoServer> {
  const sessions: EndpointReport[] = [];
  const clientErrors: EchoServer['clientErrors'] = [];
  const sockets = new Set<Duplex>();
  const keylogs = new Map<unknown, { text: string[]; raw: Buffer[] }>();
  let current: EndpointReport | undefined;
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());

  const onSecure = (sock: AnySocket) => {
    const r = newReport(impl, 'server');
    current = r;
    captureSecure(r, sock);
    const logged = keylogs.get(sock) ?? { text: [], raw: [] };
    r.keylog = logged.text;
    r.keylogRaw = logged.raw;
    keylogs.set(sock, logged);
    sockets.add(sock);
    r.closed = new Promise<void>((resolve) => sock.once('close', () => (sockets.delete(sock), resolve())));
    let echoed = 0;
    sock.on('data', (d: Buffer) => {
      r.push(d);
      sock.write(d);
      echoed += d.length;
      if (behaviour.closeAfter !== undefined && echoed >= behaviour.closeAfter) sock.end();
    });
    sock.on('end', () => {
      r.ended = true;
      sock.end();
    });
    sock.on('error', (e: Error) => (r.error ??= e));
    sessions.push(r);
    changed();
  };
  const onKeylog = (line: Buffer, sock: unknown) => {
    let logged = keylogs.get(sock);
    if (!logged) keylogs.set(sock, (logged = { text: [], raw: [] }));
    logged.text.push(keylogText(line));
    logged.raw.push(line);
  };
  const onClientError = (e: Error) => {
    clientErrors.push(e);
    changed();
  };

  let server: nodeTls.Server | ReturnType<typeof qtlsCreateServer>;
  if (impl === 'node') {
    server = nodeTls.createServer(options as nodeTls.TlsOptions, onSecure as never);
  } else {
    const opts: ServerOptions = { ...options };
    opts.trace ??= alertTracer(() => current);
    server = qtlsCreateServer(opts, onSecure as never);
  }
  server.on('keylog', onKeylog);
  server.on('tlsClientError', onClientError);
  const port = await listenLocal(server as never);

  const waitFor = <T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = get();
        if (v !== undefined) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${impl} server: no ${what} within ${timeoutMs} ms (sessions ${sessions.length}, client errors: ${clientErrors.map((e) => e.message).join('; ') || 'none'})`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }));
  cleanup.defer(close);
  return {
    impl,
    port,
    server,
    sessions,
    clientErrors,
    session: (index = sessions.length, timeoutMs = 10_000) => waitFor(() => sessions[index], `session #${index}`, timeoutMs),
    clientError: (index = clientErrors.length, timeoutMs = 10_000) => waitFor(() => clientErrors[index], `client error #${index}`, timeoutMs),
    close,
  };
}

// ---------- clients ----------

export interface ClientRun {
  /** Sent once the handshake completes. */
  payload?: Buffer;
  /** 'client' (default): end() once the whole echo is back; 'server': wait for the server to close. */
  closeBy?: 'client' | 'server';
  timeoutMs?: number;
}

/**
 * Connect (qtls or node:tls) to 127.0.0.1:port, send the payload, collect what comes back and close.
 * Never rejects: failures are in report.error. Resolves once the socket has closed.
 */
export async function runClient(impl: Impl, options: ClientOptions & nodeTls.ConnectionOptions, run: ClientRun = {}): Promise<EndpointReport> {
  const r = newReport(impl, 'client');
  const payload = run.payload ?? Buffer.alloc(0);
  const opts = { host: LOCALHOST, ...options };
  let sock: AnySocket;
  if (impl === 'node') {
    sock = nodeTls.connect(opts as nodeTls.ConnectionOptions) as unknown as AnySocket;
  } else {
    (opts as ClientOptions).trace ??= alertTracer(() => r);
    sock = qtlsConnect(opts as ClientOptions) as unknown as AnySocket;
  }
  sock.on('keylog', (line: Buffer) => {
    r.keylog.push(keylogText(line));
    r.keylogRaw.push(line);
  });
  sock.on('session', (session: Buffer) => (r.session = session));
  r.closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.once('secureConnect', () => {
    captureSecure(r, sock);
    if (payload.length) sock.write(payload);
    else if (run.closeBy !== 'server') sock.end();
  });
  sock.on('data', (d: Buffer) => {
    r.push(d);
    if (run.closeBy !== 'server' && r.receivedLength >= payload.length) sock.end();
  });
  sock.on('end', () => (r.ended = true));
  sock.on('error', (e: Error) => (r.error ??= e));
  const timer = setTimeout(() => sock.destroy(new Error(`${impl} client: connection not closed within ${run.timeoutMs ?? 10_000} ms`)), run.timeoutMs ?? 10_000);
  await r.closed;
  clearTimeout(timer);
  return r;
}

/** A one-line summary of a report for assertion messages. */
export function describeReport(r: EndpointReport): string {
  return `${r.impl} ${r.role}: secure=${r.secure} cipher=${r.cipher?.name} eph=${JSON.stringify(r.ephemeral)} received=${r.receivedLength}B ended=${r.ended} alerts in=[${r.alertsIn}] out=[${r.alertsOut}] error=${r.error ? `${r.error.code ?? ''} ${r.error.message}` : 'none'}`;
}
