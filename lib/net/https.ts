// Glue for Node's http module: an HTTPS server whose TLS is qtls, and a client connection factory for
// http.request({ createConnection }).
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect } from './connect.js';
import type { ClientOptions, ServerOptions } from './options.js';
import { createServer, type Server } from './server.js';
import type { TLSSocket } from './tls-socket.js';

export interface HttpsServer {
  tls: Server;
  http: HttpServer;
  listen(port: number, host: string, cb?: () => void): void;
  close(cb?: () => void): void;
}

/** An http.Server behind a qtls server: each secure connection is handed to http as its transport. */
export function createHttpsServer(options: ServerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): HttpsServer {
  const http = createHttpServer(handler);
  const tls = createServer(options, (socket: TLSSocket) => http.emit('connection', socket));
  return {
    tls,
    http,
    listen: (port, host, cb) => void tls.listen(port, host, cb),
    close: (cb) => {
      tls.close();
      http.close(() => cb?.());
      http.closeAllConnections?.();
    },
  };
}

/** For http.request({ createConnection: qtlsConnection(opts) }). */
export function qtlsConnection(options: ClientOptions): () => TLSSocket {
  return () => connect(options);
}
