// connect(): a TLS client over TCP (or over a Duplex the caller provides), shaped like node:tls.connect.
import { connect as netConnect } from 'node:net';
import { clientConfig, type ClientOptions } from './options.js';
import { TLSSocket } from './tls-socket.js';

export function connect(options: ClientOptions, secureConnectListener?: () => void): TLSSocket;
export function connect(port: number, host?: string, options?: ClientOptions, secureConnectListener?: () => void): TLSSocket;
export function connect(...args: unknown[]): TLSSocket {
  let options: ClientOptions;
  let cb: (() => void) | undefined;
  if (typeof args[0] === 'number') {
    const [port, host, opts, listener] = args as [number, string | undefined, ClientOptions | undefined, (() => void) | undefined];
    options = { ...(opts ?? {}), port, host: host ?? opts?.host };
    cb = listener ?? (typeof opts === 'function' ? (opts as () => void) : undefined);
  } else {
    options = (args[0] ?? {}) as ClientOptions;
    cb = args[1] as (() => void) | undefined;
  }
  // Built (and so validated) synchronously: a bad option throws at the call site, as with node:tls.
  const config = clientConfig(options);
  const transport = options.socket ?? netConnect(options.path ? { path: options.path } : { host: options.host ?? 'localhost', port: options.port ?? 443 });
  const socket = new TLSSocket(
    transport,
    { role: 'client', config: (signal, onKeylog) => ({ ...config, signal, onKeylog }) },
    { handshakeTimeout: options.handshakeTimeout, trace: options.trace },
  );
  if (cb) socket.once('secureConnect', cb);
  return socket;
}
