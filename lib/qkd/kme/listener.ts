// An HTTPS listener with mandatory client certificates: a node:tls-shaped server (injected factory,
// requestCert + rejectUnauthorized) whose authenticated sockets are handed to a node:http server with
// `httpServer.emit('connection', socket)` — so swapping the TLS server changes nothing else.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  certCommonName,
  certSanUris,
  type Pem,
  type TlsServerFactory,
  type TlsServerLike,
  type TlsSocketLike,
} from '../etsi014/tls-seam.js';

/** How a KME reads a client's identity from its certificate (ETSI 014 §4.3: the SAE ID). */
export type IdentitySource = 'cn' | 'san-uri';

/** The client's identity from its (already chain-verified) certificate, or undefined. */
export function identityOf(socket: unknown, source: IdentitySource): string | undefined {
  const s = socket as Partial<TlsSocketLike> | null;
  if (!s || typeof s.getPeerCertificate !== 'function') return undefined;
  const cert = s.getPeerCertificate(false);
  if (source === 'cn') return certCommonName(cert);
  const uris = certSanUris(cert);
  return uris.length === 1 ? uris[0] : undefined;
}

export interface TlsListenerOptions {
  host: string;
  port: number;
  cert: Pem;
  key: Pem;
  ca: Pem;
  tlsServerFactory: TlsServerFactory;
}

export interface RunningListener {
  port: number;
  close(): Promise<void>;
}

/** Starts a mutual-TLS listener and calls `onSocket` with each authenticated connection. */
export async function startTlsListener(o: TlsListenerOptions, onSocket: (socket: TlsSocketLike) => void): Promise<RunningListener> {
  const sockets = new Set<TlsSocketLike>();
  const server: TlsServerLike = o.tlsServerFactory(
    { cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {}); // per-connection failures are the handler's business
      onSocket(socket);
    },
  );
  // Handshake failures (no or untrusted client certificate) are per connection; never fatal.
  (server as unknown as { on(ev: string, l: () => void): void }).on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.on('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Starts an HTTPS listener: node:http parsing over the injected TLS server. */
export async function startHttpsListener(
  o: TlsListenerOptions,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<RunningListener> {
  const httpServer = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5000 }, handler);
  const tls = await startTlsListener(o, (socket) => httpServer.emit('connection', withSocketMethods(socket)));
  return {
    port: tls.port,
    close: async () => {
      await tls.close();
      httpServer.closeAllConnections();
      httpServer.close();
    },
  };
}

/**
 * node:http calls net.Socket methods (setTimeout for keep-alive, setNoDelay, setKeepAlive). node:tls
 * sockets have them; a bare Duplex from another TLS stack may not — give it minimal ones.
 */
function withSocketMethods(socket: TlsSocketLike): Duplex {
  const s = socket as TlsSocketLike & Record<string, unknown>;
  if (typeof s['setTimeout'] !== 'function') {
    let timer: NodeJS.Timeout | undefined;
    s['setTimeout'] = (ms: number, cb?: () => void) => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (cb) socket.once('timeout', cb);
      if (ms > 0) timer = setTimeout(() => socket.emit('timeout'), ms);
      return socket;
    };
    socket.once('close', () => timer && clearTimeout(timer));
  }
  for (const m of ['setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof s[m] !== 'function') s[m] = () => socket;
  }
  return socket;
}
