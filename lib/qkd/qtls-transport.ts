// qtls as the TLS under every QKD network piece (ETSI 014/004 clients, KME listeners, KME-to-KME):
// adapters from the node:tls-shaped seam (etsi014/tls-seam.ts) to lib/net. With these the whole QKD
// network runs on qtls itself, mutual TLS included.
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import { connectOptions, serverOptions, type TlsConnect, type TlsServerFactory, type TlsSocketLike } from './etsi014/tls-seam.js';

export const qtlsConnect: TlsConnect = (o) => connect({ ...connectOptions(o) }) as unknown as TlsSocketLike;

export const qtlsServerFactory: TlsServerFactory = (o, onSecureConnection) =>
  createServer({ ...serverOptions(o) }, (s) => onSecureConnection(s as unknown as TlsSocketLike));
