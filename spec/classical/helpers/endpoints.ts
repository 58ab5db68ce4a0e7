// qtls and node:tls endpoints for the classical key-exchange specs (DHE, PSK, client certificates,
// resumption). Unlike spec/helpers/peers.ts they keep what these specs assert on: the key-exchange
// info, the session and its reuse, the peer certificate — captured at handshake time on both sides.
import * as nodeTls from 'node:tls';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as qtlsConnect, createServer as qtlsCreateServer, type ClientOptions, type ServerOptions, type Server, type TLSSocket } from '../../../lib/index.js';
import type { Cleanup } from '../../helpers/cleanup.js';
import { LOCALHOST, listenLocal } from '../../helpers/ports.js';
import { pki } from '../../helpers/fixtures.js';

export type Impl = 'qtls' | 'node';

export const DH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dh');
export const dhPath = (name: 'dh2048' | 'dh1024' | 'ffdhe2048' | 'ffdhe3072'): string => path.join(DH_DIR, `${name}.pem`);
export const dhParams = (name: 'dh2048' | 'dh1024' | 'ffdhe2048' | 'ffdhe3072'): Buffer => readFileSync(dhPath(name));

/** The RSA server identity (DHE suites are RSA-authenticated). */
export const RSA_SERVER = { cert: pki('rsa-chain.pem'), key: pki('rsa-key.pem') };
export const ECDSA_SERVER = { cert: pki('ecdsa-p256-chain.pem'), key: pki('ecdsa-p256-key.pem') };
/** The client certificate (CN=client, EKU clientAuth, ECDSA P-256, issued by the intermediate). */
export const CLIENT_CERT = { cert: pki('client-chain.pem'), key: pki('client-key.pem') };

export type TlsError = Error & { alert?: string; origin?: 'local' | 'remote'; code?: string };

export interface ConnFacts {
  secure: boolean;
  cipher: string | undefined;
  protocol: string | null | undefined;
  /** getKeyExchangeInfo() (qtls only). */
  kx: Record<string, unknown>;
  ephemeral: Record<string, unknown> | null | undefined;
  reused: boolean;
  authorized: boolean;
  authorizationError: string | undefined;
  /** getPeerCertificate().subject.CN, if a certificate was presented. */
  peerCN: string | undefined;
  received: Buffer;
  error: TlsError | undefined;
}

function facts(): ConnFacts {
  return {
    secure: false, cipher: undefined, protocol: undefined, kx: {}, ephemeral: undefined, reused: false, authorized: false,
    authorizationError: undefined, peerCN: undefined, received: Buffer.alloc(0), error: undefined,
  };
}

type AnySocket = TLSSocket | nodeTls.TLSSocket;

function capture(f: ConnFacts, s: AnySocket): void {
  f.secure = true;
  f.cipher = s.getCipher()?.name;
  f.protocol = s.getProtocol();
  f.kx = 'getKeyExchangeInfo' in s ? s.getKeyExchangeInfo() : {};
  f.ephemeral = s.getEphemeralKeyInfo() as ConnFacts['ephemeral'];
  f.reused = s.isSessionReused();
  f.authorized = s.authorized;
  const ae = s.authorizationError as unknown;
  f.authorizationError = ae === undefined || ae === null ? undefined : typeof ae === 'string' ? ae : ((ae as { code?: string }).code ?? String(ae));
  const cn = (s.getPeerCertificate() as { subject?: { CN?: string } } | null)?.subject?.CN;
  f.peerCN = cn;
}

// ---------- servers ----------

export interface TestServer {
  impl: Impl;
  port: number;
  server: Server | nodeTls.Server;
  connections: ConnFacts[];
  errors: TlsError[];
  /** The first completed handshake not yet returned by next() (waits for it). */
  next(timeoutMs?: number): Promise<ConnFacts>;
  /** Likewise for handshake failures. */
  nextError(timeoutMs?: number): Promise<TlsError>;
  close(): Promise<void>;
}

/**
 * An echo server (qtls or node:tls) on 127.0.0.1. With `closeAfter` it ends each connection (close_notify)
 * once it echoed that many bytes: peers such as `s_client -ign_eof` read until the server closes.
 */
export async function startServer(impl: Impl, options: ServerOptions, cleanup: Cleanup, behaviour: { closeAfter?: number } = {}): Promise<TestServer> {
  const connections: ConnFacts[] = [];
  const errors: TlsError[] = [];
  const sockets = new Set<AnySocket>();
  const listeners = new Set<() => void>();
  const changed = () => [...listeners].forEach((l) => l());
  const onSecure = (s: AnySocket) => {
    const f = facts();
    capture(f, s);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d: Buffer) => {
      f.received = Buffer.concat([f.received, d]);
      s.write(d);
      if (behaviour.closeAfter !== undefined && f.received.length >= behaviour.closeAfter) s.end();
    });
    s.on('end', () => s.end());
    s.on('error', (e: Error) => (f.error ??= e));
    connections.push(f);
    changed();
  };
  const server = impl === 'qtls' ? qtlsCreateServer(options, onSecure) : nodeTls.createServer(options as nodeTls.TlsOptions, onSecure);
  server.on('tlsClientError', (e: TlsError) => {
    errors.push(e);
    changed();
  });
  const port = await listenLocal(server as never);
  const waitFor = <T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = get();
        if (v === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${impl} server: no ${what} within ${timeoutMs} ms (connections ${connections.length}; errors: ${errors.map((e) => e.message).join('; ') || 'none'})`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  let nextConn = 0;
  let nextErr = 0;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }));
  cleanup.defer(close);
  const t: TestServer = {
    impl, port, server, connections, errors, close,
    next: (timeoutMs = 8000) => {
      const i = nextConn++;
      return waitFor(() => connections[i], `connection #${i}`, timeoutMs);
    },
    nextError: (timeoutMs = 8000) => {
      const i = nextErr++;
      return waitFor(() => errors[i], `handshake error #${i}`, timeoutMs);
    },
  };
  return t;
}

// ---------- clients ----------

export interface ClientRun extends ConnFacts {
  /** The last 'session' event's Buffer (what to pass as `session` to resume). */
  session: Buffer | undefined;
  alertsIn: string[];
  alertsOut: string[];
}

/**
 * Connect (qtls or node:tls) to 127.0.0.1:port, send `payload`, wait for its echo, close. Never
 * rejects: a failure is in `error`. Resolves once the socket closed.
 */
export async function runClient(impl: Impl, port: number, options: ClientOptions, payload = 'ping', timeoutMs = 8000): Promise<ClientRun> {
  const r: ClientRun = { ...facts(), session: undefined, alertsIn: [], alertsOut: [] };
  const opts = { host: LOCALHOST, port, ...options };
  let s: AnySocket;
  if (impl === 'qtls') {
    (opts as ClientOptions).trace ??= (e: { kind: string; direction: string; name: string }) => {
      if (e.kind === 'alert') (e.direction === 'in' ? r.alertsIn : r.alertsOut).push(e.name);
    };
    s = qtlsConnect(opts as ClientOptions);
  } else {
    s = nodeTls.connect({ maxVersion: 'TLSv1.2', ...(opts as nodeTls.ConnectionOptions) });
  }
  s.on('session', (b: Buffer) => (r.session = b));
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  s.once('secureConnect', () => {
    capture(r, s);
    s.write(payload);
  });
  s.on('data', (d: Buffer) => {
    r.received = Buffer.concat([r.received, d]);
    if (r.received.length >= payload.length) s.end();
  });
  s.on('error', (e: Error) => (r.error ??= e));
  const timer = setTimeout(() => s.destroy(new Error(`${impl} client: not closed within ${timeoutMs} ms`)), timeoutMs);
  await closed;
  clearTimeout(timer);
  // node emits 'session' for TLS 1.2 on secureConnect; give a late one a tick.
  await new Promise((res) => setImmediate(res));
  return r;
}

export function show(r: ConnFacts | ClientRun): string {
  return `secure=${r.secure} cipher=${r.cipher} kx=${JSON.stringify(r.kx)} eph=${JSON.stringify(r.ephemeral)} reused=${r.reused} authorized=${r.authorized}(${r.authorizationError}) peerCN=${r.peerCN} received=${r.received.length}B error=${r.error ? `${r.error.code ?? ''} ${r.error.message}` : 'none'}${'alertsIn' in r ? ` alerts in=[${r.alertsIn}] out=[${r.alertsOut}]` : ''}`;
}
