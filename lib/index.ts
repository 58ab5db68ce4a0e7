// Public API of qtls. Only re-exports live here.
import './kx/index.js';

export { TLSError, AlertDescription, alertName } from './alert.js';
export { connect } from './net/connect.js';
export { createServer, Server } from './net/server.js';
export { TLSSocket } from './net/tls-socket.js';
export type { ClientOptions, ServerOptions } from './net/options.js';
export { CIPHER_SUITES, registerCipherSuite, suiteById, suiteByName, type CipherSuite } from './suites.js';
export { registerKeyExchange, type KeyExchange, type KeyExchangeProvider, type KxContext } from './kx/index.js';
export { rootCertificates } from './pki/trust-store.js';
