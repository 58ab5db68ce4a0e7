// Public API of qtls. Only re-exports live here.
import './kx/index.js';

export { TLSError, AlertDescription, alertName } from './alert.js';
export { connect } from './net/connect.js';
export { createServer, Server } from './net/server.js';
export { TLSSocket } from './net/tls-socket.js';
export type { ClientOptions, ServerOptions } from './net/options.js';
export { createSecureContext, type SecureContext, type SecureContextOptions } from './net/secure-context.js';
export { CIPHER_SUITES, registerCipherSuite, suiteById, suiteByName, type CipherSuite } from './suites.js';
export { registerKeyExchange, type KeyExchange, type KeyExchangeProvider, type KxContext } from './kx/index.js';
/** The reader KeyExchange.readServerParams() receives. */
export type { Reader } from './wire/reader.js';
export { rootCertificates } from './pki/trust-store.js';
export { formatTraceEvent, traceWriter } from './debug/trace.js';
export type { TraceEvent } from './handshake/engine.js';
export { createHttpsServer, qtlsConnection } from './net/https.js';
export type { ALPNCallback } from './net/alpn-callback.js';
export type { SniContext } from './net/sni-contexts.js';
