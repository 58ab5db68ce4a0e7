// qtls as the TLS under every QKD network piece (ETSI 014/004 clients, KME listeners, KME-to-KME):
// adapters from the node:tls-shaped seam (etsi014/tls-seam.ts) to lib/net. With these the whole QKD
// network runs on qtls itself, mutual TLS included.
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import type { TlsConnect, TlsServerFactory, TlsSocketLike } from './etsi014/tls-seam.js';

export const qtlsConnect: TlsConnect = (o) =>
  connect({
    host: o.host,
    port: o.port,
    cert: o.cert,
    key: o.key,
    ca: o.ca,
    ...(o.servername === undefined ? {} : { servername: o.servername }),
    rejectUnauthorized: o.rejectUnauthorized,
  }) as unknown as TlsSocketLike;

export const qtlsServerFactory: TlsServerFactory = (o, onSecureConnection) =>
  createServer(
    { cert: o.cert, key: o.key, ca: o.ca, requestCert: o.requestCert, rejectUnauthorized: o.rejectUnauthorized },
    (s) => onSecureConnection(s as unknown as TlsSocketLike),
  );
