// createServer(): a TLS server over a net.Server, shaped like node:tls.Server.
import { EventEmitter } from 'node:events';
import { createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { ServerConfig } from '../handshake/server.js';
import { serverConfigTemplate, type ServerOptions } from './options.js';
import { TLSSocket } from './tls-socket.js';
import { SessionCache, type SessionStore } from '../handshake/session-cache.js';
import { decodeSessionState } from '../handshake/session-state.js';
import { TicketKeys } from '../handshake/tickets.js';
import { alpnSelector } from './alpn-callback.js';
import { ocspResponder } from './ocsp-request.js';
import { SniContexts, type SniContext } from './sni-contexts.js';
import { withoutContextOptions, type SecureContext } from './secure-context.js';
import { validateObject } from './validate.js';

/** node:tls's default handshake timeout for servers. */
const DEFAULT_HANDSHAKE_TIMEOUT = 120_000;

export class Server extends EventEmitter {
  private readonly net: NetServer;
  private template: Omit<ServerConfig, 'signal' | 'onKeylog'>;
  private options: ServerOptions;
  private readonly ticketKeys: TicketKeys;
  private readonly cache = new SessionCache();
  private readonly contexts = new SniContexts();
  private selectAlpn: ServerConfig['selectAlpn'];
  /** Session-ID resumption through node's newSession/resumeSession events when the user listens to them. */
  private readonly sessionStore: SessionStore = {
    lookup: (id) =>
      this.listenerCount('resumeSession') === 0
        ? this.cache.lookup(id)
        : new Promise((resolve) =>
            this.emit('resumeSession', Buffer.from(id), (err: Error | null, data?: Buffer | null) => {
              if (err || !data) return resolve(undefined);
              try {
                resolve(decodeSessionState(data));
              } catch {
                resolve(undefined);
              }
            }),
          ),
    store: (id, state, encoded) =>
      this.listenerCount('newSession') === 0
        ? this.cache.store(id, state, encoded)
        : new Promise<void>((resolve) => this.emit('newSession', Buffer.from(id), Buffer.from(encoded), () => resolve())),
  };

  constructor(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void) {
    super();
    this.options = options;
    this.template = serverConfigTemplate(options);
    this.selectAlpn = alpnSelector(options);
    this.ticketKeys = new TicketKeys(options.ticketKeys);
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
    this.net = netCreateServer((raw) => this.accept(raw));
    this.net.on('listening', () => this.emit('listening'));
    this.net.on('close', () => this.emit('close'));
    this.net.on('error', (e) => this.emit('error', e));
  }

  /** Wrap an already-accepted transport (a net.Socket or any Duplex) as a server-side TLS connection. */
  accept(raw: Socket | import('node:stream').Duplex): TLSSocket {
    const socket: TLSSocket = new TLSSocket(
      raw,
      {
        role: 'server',
        config: (signal, onKeylog) => ({
          ...this.template,
          // As node: an SNICallback replaces the addContext() contexts (they feed node's default one).
          selectCertificates: this.template.selectCertificates ?? (this.contexts.size > 0 ? async (name) => this.contexts.select(name) : undefined),
          // The table runs no user code, so resumption may consult it (for the client-certificate check).
          selectForResumption: !this.template.selectCertificates && this.contexts.size > 0 ? (name) => this.contexts.select(name) : undefined,
          selectAlpn: this.selectAlpn,
          // As node: stapling is asked for only while someone listens to 'OCSPRequest'.
          ocspResponse: this.listenerCount('OCSPRequest') > 0 ? ocspResponder(this, socket, this.template.trustAnchors) : undefined,
          sessionStore: this.sessionStore,
          ticketKeys: this.options.sessionTickets === false ? undefined : this.ticketKeys,
          signal,
          onKeylog,
        }),
      },
      { handshakeTimeout: this.options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, trace: this.options.trace },
    );
    const onError = (err: Error) => {
      // Before the handshake completes an error belongs to the server ('tlsClientError'); the
      // server keeps serving.
      this.emit('tlsClientError', err, socket);
    };
    socket.on('error', onError);
    socket.on('keylog', (line: Buffer) => this.emit('keylog', line, socket));
    socket.once('secure', () => {
      socket.off('error', onError);
      // An error after the handshake with no listener of the user's must not crash the process.
      if (socket.listenerCount('error') === 0) socket.on('error', () => {});
      this.emit('secureConnection', socket);
    });
    return socket;
  }

  /**
   * Replace the secure context of new connections (node: setSecureContext). As node, the context options
   * (cert, key, ca, ciphers, ecdhCurve/groups, sigalgs, dhparam, honorCipherOrder…) are replaced as a
   * whole: one not given is back to its default (no certificate, system CAs…), not kept from before. A
   * `secureContext` (createSecureContext()) stands for all of them. Other options given are updated.
   */
  setSecureContext(options: ServerOptions): void {
    validateObject(options, 'options');
    const next: ServerOptions = { ...withoutContextOptions(this.options), ...options };
    // Built before anything changes: bad options throw and leave the server as it was.
    const template = serverConfigTemplate(next);
    const selectAlpn = alpnSelector(next);
    this.options = next;
    this.template = template;
    this.selectAlpn = selectAlpn;
  }

  /**
   * Serve `context`'s certificate to clients whose SNI matches `hostname` (node: addContext). The
   * hostname may hold `*` wildcards ('*.example.com'); the most recently added match wins; clients
   * without SNI, or matching nothing, get the default certificate. Ignored when an SNICallback is set.
   * `context` is a createSecureContext() context or the `{ cert, key, ca }` options. As node, a client it
   * serves gets its certificate and, with requestCert, is verified against its `ca` (without one, the
   * system store — not the server's `ca`), which the CertificateRequest names.
   */
  addContext(hostname: string, context: SecureContext | SniContext): void {
    this.contexts.add(hostname, context);
  }

  /** RFC 5077 ticket keys (node: getTicketKeys/setTicketKeys), 48 bytes per key. */
  getTicketKeys(): Buffer {
    return this.ticketKeys.get();
  }
  setTicketKeys(keys: Buffer): void {
    this.ticketKeys.set(keys);
  }

  /** Same arguments as net.Server#listen. */
  listen(...args: unknown[]): this {
    (this.net.listen as (...a: unknown[]) => unknown).apply(this.net, args);
    return this;
  }
  close(cb?: (err?: Error) => void): this {
    this.net.close(cb);
    return this;
  }
  address(): AddressInfo | string | null {
    return this.net.address();
  }
  get listening(): boolean {
    return this.net.listening;
  }
  ref(): this {
    this.net.ref();
    return this;
  }
  unref(): this {
    this.net.unref();
    return this;
  }
  getConnections(cb: (err: Error | null, count: number) => void): void {
    this.net.getConnections(cb);
  }
}

export function createServer(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server {
  return new Server(options, secureConnectionListener);
}
