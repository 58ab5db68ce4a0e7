// The TLS seam of every QKD network piece (014 client, 004 client, KME listeners, KME-to-KME calls).
//
// Everything here is node:tls-shaped so that qtls's own TLS stack (lib/net: `connect`, `createServer`,
// same option names, same 'secureConnect' / 'secureConnection' events, Duplex sockets with
// getPeerCertificate()) can replace node:tls without touching the callers. Each client and server takes
// `tlsConnect` / `tlsServerFactory` options; when left out, the defaults below are used.
//
// SWITCHING TO QTLS is one line each: point `defaultTlsConnect` / `defaultTlsServerFactory` at the
// adapters in lib/qkd/qtls-transport.ts (see the bottom of this file), or pass them per instance.
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { qtlsConnect, qtlsServerFactory } from '../qtls-transport.js';

/** The fields of node:tls's PeerCertificate this code reads. */
export interface PeerCertificateLike {
  subject?: Record<string, string | string[] | undefined>;
  /** node:tls format: "DNS:localhost, IP Address:127.0.0.1, URI:urn:x" */
  subjectaltname?: string;
}

/**
 * A TLS connection: a Duplex carrying application data, plus the authenticated peer certificate.
 * Client sockets must emit 'secureConnect' once the handshake (including the peer's certificate
 * verification) is complete; nothing is written before that.
 */
export interface TlsSocketLike extends Duplex {
  getPeerCertificate(detailed?: boolean): PeerCertificateLike | Record<string, never> | null;
}

/** PEM text or bytes, as node:tls accepts them. */
export type Pem = string | Buffer;

export interface TlsClientOptions {
  host: string;
  port: number;
  cert: Pem;
  key: Pem;
  ca: Pem;
  /** SNI and certificate name to check; left out for IP addresses (RFC 6066 §3 forbids IP literals). */
  servername?: string;
  rejectUnauthorized: boolean;
}

export type TlsConnect = (opts: TlsClientOptions) => TlsSocketLike;

export interface TlsServerOptions {
  cert: Pem;
  key: Pem;
  ca: Pem;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export interface TlsServerLike {
  listen(port: number, host: string, callback?: () => void): unknown;
  close(callback?: (err?: Error) => void): unknown;
  address(): AddressInfo | string | null;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export type TlsServerFactory = (
  opts: TlsServerOptions,
  onSecureConnection: (socket: TlsSocketLike) => void,
) => TlsServerLike;

/** The seam's client options in node:tls spelling (qtls uses the same names). */
export function connectOptions(o: TlsClientOptions): TlsClientOptions {
  return {
    host: o.host,
    port: o.port,
    cert: o.cert,
    key: o.key,
    ca: o.ca,
    ...(o.servername === undefined ? {} : { servername: o.servername }),
    rejectUnauthorized: o.rejectUnauthorized,
  };
}

/** The seam's server options in node:tls spelling (qtls uses the same names). */
export function serverOptions(o: TlsServerOptions): TlsServerOptions {
  return { cert: o.cert, key: o.key, ca: o.ca, requestCert: o.requestCert, rejectUnauthorized: o.rejectUnauthorized };
}

export const nodeTlsConnect: TlsConnect = (o) => tls.connect(connectOptions(o)) as unknown as TlsSocketLike;

export const nodeTlsServerFactory: TlsServerFactory = (o, onSecureConnection) =>
  tls.createServer(serverOptions(o), (s) => onSecureConnection(s as unknown as TlsSocketLike));

// The defaults: every QKD network piece runs on qtls itself, mutual TLS included. node:tls stays
// available per instance (nodeTlsConnect / nodeTlsServerFactory), e.g. to cross-check another stack.
// (Wrapped in arrows so the import cycle tls-seam → qtls-transport → tls-seam resolves lazily.)
export const defaultTlsConnect: TlsConnect = (o) => qtlsConnect(o);
export const defaultTlsServerFactory: TlsServerFactory = (o, cb) => qtlsServerFactory(o, cb);

/** True for IPv4/IPv6 literals, which must not be sent as SNI. */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * Waits until a client socket is authenticated ('secureConnect'), or fails with its error / close.
 * `verify` may throw to refuse the peer (e.g. a KME certificate with the wrong KME ID).
 */
export function whenSecure(socket: TlsSocketLike, verify?: (s: TlsSocketLike) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onSecure = (): void => {
      cleanup();
      try {
        verify?.(socket);
        resolve();
      } catch (e) {
        socket.destroy();
        reject(e);
      }
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(Object.assign(new Error('connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
    };
    socket.on('secureConnect', onSecure);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** Subject CN of a peer certificate, when there is exactly one. */
export function certCommonName(cert: PeerCertificateLike | Record<string, never> | null): string | undefined {
  const cn = cert?.subject?.['CN'];
  return typeof cn === 'string' ? cn : undefined;
}

/** The URI subjectAltNames of a peer certificate (node:tls `subjectaltname` string form). */
export function certSanUris(cert: PeerCertificateLike | Record<string, never> | null): string[] {
  const san = cert?.subjectaltname;
  if (typeof san !== 'string') return [];
  return san
    .split(/,\s*/)
    .filter((e) => e.startsWith('URI:'))
    .map((e) => e.slice(4));
}
