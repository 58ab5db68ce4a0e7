// The KME side of ETSI GS QKD 004 on its own port: mutual TLS (injected node:tls-shaped server), then
// request/response frames (codec.ts) handled one at a time per connection by a backend. A connection
// whose certificate names no known application, or that sends a malformed frame, is closed.
import type { Pem, TlsServerFactory, TlsSocketLike } from '../etsi014/tls-seam.js';
import { defaultTlsServerFactory } from '../etsi014/tls-seam.js';
import { identityOf, startTlsListener, type IdentitySource } from '../kme/listener.js';
import {
  DEFAULT_MAX_PAYLOAD,
  encodeMessage,
  FrameReader,
  type CloseResponse,
  type GetKeyRequest,
  type GetKeyResponse,
  type Message004,
  type OpenConnectRequest,
  type OpenConnectResponse,
} from './codec.js';

/** What a KME does for each 004 call; `caller` is the authenticated application (SAE) ID. */
export interface Etsi004Backend {
  /** May this certificate identity use the service at all? */
  accepts(caller: string): boolean;
  openConnect(caller: string, req: OpenConnectRequest): Promise<Omit<OpenConnectResponse, 'type'>>;
  getKey(caller: string, req: GetKeyRequest): Promise<Omit<GetKeyResponse, 'type'>>;
  close(caller: string, ksid: string): Promise<Omit<CloseResponse, 'type'>>;
}

export interface Etsi004ServerOptions {
  host: string;
  port: number;
  cert: Pem;
  key: Pem;
  ca: Pem;
  backend: Etsi004Backend;
  tlsServerFactory?: TlsServerFactory;
  identity?: IdentitySource;
  maxPayload?: number;
  /** Close a connection idle this long; default 120 s. */
  idleMs?: number;
  log?: (line: string) => void;
}

export interface RunningEtsi004Server {
  port: number;
  close(): Promise<void>;
}

export async function startEtsi004Server(o: Etsi004ServerOptions): Promise<RunningEtsi004Server> {
  const log = o.log ?? (() => {});
  const l = await startTlsListener(
    { host: o.host, port: o.port, cert: o.cert, key: o.key, ca: o.ca, tlsServerFactory: o.tlsServerFactory ?? defaultTlsServerFactory },
    (socket) => serveConnection(socket, o, log),
  );
  return l;
}

function serveConnection(socket: TlsSocketLike, o: Etsi004ServerOptions, log: (line: string) => void): void {
  const caller = identityOf(socket, o.identity ?? 'cn');
  if (caller === undefined || !o.backend.accepts(caller)) {
    log(`004: refused a connection from ${caller ?? 'an unnamed certificate'}`);
    socket.destroy();
    return;
  }
  const reader = new FrameReader(o.maxPayload ?? DEFAULT_MAX_PAYLOAD);
  let chain: Promise<void> = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => socket.destroy(), o.idleMs ?? 120_000);
    idle.unref?.();
  };
  arm();
  socket.on('close', () => idle && clearTimeout(idle));
  socket.on('data', (d: Buffer) => {
    arm();
    let msgs: Message004[];
    try {
      msgs = reader.push(d);
    } catch (e) {
      log(`004: ${caller}: ${e instanceof Error ? e.message : String(e)}; closing`);
      socket.destroy();
      return;
    }
    for (const m of msgs) {
      chain = chain.then(async () => {
        if (socket.destroyed) return;
        const reply = await answer(o.backend, caller, m);
        if (!reply) {
          log(`004: ${caller}: unexpected ${m.type}; closing`);
          socket.destroy();
          return;
        }
        if (!socket.destroyed) socket.write(reply);
      }).catch((e: unknown) => {
        log(`004: ${caller}: ${e instanceof Error ? e.message : String(e)}; closing`);
        socket.destroy();
      });
    }
  });
  socket.on('end', () => {
    try {
      reader.end();
    } catch {
      /* a cut frame: nothing to answer */
    }
    // Answer what was asked before the client's half-close, then close.
    void chain.then(() => {
      if (!socket.destroyed) socket.end();
    });
  });
}

async function answer(b: Etsi004Backend, caller: string, m: Message004): Promise<Uint8Array | undefined> {
  switch (m.type) {
    case 'open-connect-request':
      return encodeMessage({ type: 'open-connect-response', ...(await b.openConnect(caller, m)) });
    case 'get-key-request': {
      const r = await b.getKey(caller, m);
      const bytes = encodeMessage({ type: 'get-key-response', ...r });
      r.key.fill(0);
      return bytes;
    }
    case 'close-request':
      return encodeMessage({ type: 'close-response', ...(await b.close(caller, m.ksid)) });
    default:
      return undefined; // a response sent to the server
  }
}
