// The qtls side of hostile tests: a server that records every client error, a well-behaved client
// used to prove the server still serves, and a client whose failure the test awaits.
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { expect } from 'chai';
import { AlertDescription, TLSError, type AlertName } from '../../../lib/alert.js';
import { connect, createServer, type ClientOptions, type ServerOptions, type Server, type TLSSocket } from '../../../lib/index.js';
import { CA, IDENTITIES, pem, type IdentityName } from './fixtures.js';
import { deferred, within } from './guard.js';
import type { AlertSeen, RawConn } from './raw-conn.js';
import { HostileClient } from './hostile-client.js';
import type { HostileServer, ServerScript } from './hostile-server.js';

export interface QtlsServer {
  server: Server;
  port: number;
  /** Every 'tlsClientError', in order. */
  clientErrors: Error[];
  /** Errors of connections after the handshake ('error' on a secure socket). */
  connErrors: Error[];
  secureConnections: TLSSocket[];
  /** The next tlsClientError (or error of an established connection) after this call. */
  nextError(ms?: number): Promise<Error>;
  /** The next secure connection after this call. */
  nextSecure(ms?: number): Promise<TLSSocket>;
  close(): Promise<void>;
}

/**
 * A qtls server with the given identity that echoes application data (unless `onSecure` takes the
 * connection over).
 */
export async function startQtlsServer(
  o: { identity?: IdentityName; options?: Partial<ServerOptions>; onSecure?: (s: TLSSocket) => void } = {},
): Promise<QtlsServer> {
  const id = IDENTITIES[o.identity ?? 'ecdsa'];
  const server = createServer({ cert: pem(id.chain), key: pem(id.key), ...o.options });
  const h: QtlsServer = {
    server,
    port: 0,
    clientErrors: [],
    connErrors: [],
    secureConnections: [],
    nextError: () => Promise.reject(new Error('unset')),
    nextSecure: () => Promise.reject(new Error('unset')),
    close: () => Promise.resolve(),
  };
  let errWaiters: Array<(e: Error) => void> = [];
  let secureWaiters: Array<(s: TLSSocket) => void> = [];
  const onErr = (e: Error) => {
    const ws = errWaiters;
    errWaiters = [];
    ws.forEach((w) => w(e));
  };
  server.on('tlsClientError', (e: Error) => {
    h.clientErrors.push(e);
    onErr(e);
  });
  server.on('secureConnection', (s: TLSSocket) => {
    h.secureConnections.push(s);
    s.on('error', (e: Error) => {
      h.connErrors.push(e);
      onErr(e);
    });
    const ws = secureWaiters;
    secureWaiters = [];
    ws.forEach((w) => w(s));
    if (o.onSecure) o.onSecure(s);
    else s.on('data', (d: Buffer) => s.write(d));
  });
  // The promises may be abandoned when a test fails early: never let them become unhandled rejections.
  const quiet = <T>(p: Promise<T>): Promise<T> => (p.catch(() => {}), p);
  h.nextError = (ms = 3000) => quiet(within(new Promise<Error>((r) => errWaiters.push(r)), ms, 'an error on the qtls server'));
  h.nextSecure = (ms = 3000) => quiet(within(new Promise<TLSSocket>((r) => secureWaiters.push(r)), ms, 'a secure connection on the qtls server'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  h.port = (server.address() as AddressInfo).port;
  h.close = async () => {
    for (const s of h.secureConnections) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return h;
}

/** A well-behaved qtls client: handshake, echo round trip, close. Proves the server still serves. */
export async function expectServerStillServes(port: number, options: Partial<ClientOptions> = {}): Promise<void> {
  const c = connect({ port, host: '127.0.0.1', servername: 'localhost', ca: CA(), ...options });
  const errored = deferred<never>();
  c.on('error', (e) => errored.reject(e));
  try {
    await within(Promise.race([new Promise<void>((r) => c.once('secureConnect', () => r())), errored.promise]), 3000, 'a normal handshake with the qtls server');
    c.write('still alive?');
    const echo = await within(Promise.race([new Promise<Buffer>((r) => c.once('data', r)), errored.promise]), 3000, 'the echo');
    expect(echo.toString()).to.equal('still alive?');
  } finally {
    c.destroy();
  }
}

export interface QtlsClient {
  socket: TLSSocket;
  /** Resolves with the error the socket emitted. */
  error: Promise<Error>;
  secure: Promise<void>;
}

/** A qtls client to `port` (or over `socket`) that the test expects to fail; errors never go unhandled. */
export function startQtlsClient(o: Partial<ClientOptions> & { port?: number; socket?: Duplex } = {}): QtlsClient {
  const socket = connect({ host: '127.0.0.1', servername: 'localhost', ca: CA(), ...o } as ClientOptions);
  const error = deferred<Error>();
  const secure = deferred<void>();
  socket.on('error', (e) => error.resolve(e));
  socket.once('secureConnect', () => secure.resolve());
  error.promise.then((e) => secure.reject(e));
  return { socket, error: error.promise, secure: secure.promise };
}

/** The alert we expect on the wire and as the API error. */
export interface Expectation {
  alert: AlertName;
  /** The API error message must match. */
  message: RegExp;
  /** Level on the wire (default fatal). */
  level?: 'fatal' | 'warning';
  /** The alert must (true) / must not (false) be encrypted; undefined: don't care. */
  encrypted?: boolean;
}

/**
 * The alert to check: the first one, or — when a fatal alert is expected — the first fatal one after
 * any warning no_renegotiation (refusals that precede the end of a renegotiation flood).
 */
async function firstAlert(conn: RawConn, want: Expectation): Promise<AlertSeen> {
  for (;;) {
    const a = await conn.expectAlert();
    if (want.level !== 'warning' && a.level === 1 && a.description === AlertDescription.no_renegotiation) continue;
    return a;
  }
}

export function expectWireAlert(seen: AlertSeen, want: Expectation): void {
  const level = want.level === 'warning' ? 1 : 2;
  expect(seen.text, 'alert on the wire').to.equal(`${want.level ?? 'fatal'} ${want.alert}`);
  expect([seen.level, seen.description], 'alert bytes on the wire').to.deep.equal([level, AlertDescription[want.alert]]);
  if (want.encrypted !== undefined) expect(seen.encrypted, 'alert record encrypted').to.equal(want.encrypted);
}

export function expectApiError(err: Error, want: Expectation, origin: 'local' | 'remote' = 'local'): void {
  expect(err, `API error (${err.message})`).to.be.instanceOf(TLSError);
  const e = err as TLSError;
  expect(e.alert, `API error alert (${e.message})`).to.equal(want.alert);
  expect(e.origin).to.equal(origin);
  expect(e.code).to.equal(`ERR_TLS_ALERT_${want.alert.toUpperCase()}`);
  expect(e.message).to.match(want.message);
}

/**
 * One server-side hostile case: a hostile client connects to `srv` and runs `act`; the test then
 * checks the alert the server put on the wire, the error the server reported, that the server closed
 * the connection, and that it still completes a normal handshake with the next client.
 */
export async function serverCase(
  srv: QtlsServer,
  act: (c: HostileClient) => unknown,
  want: Expectation,
  o: { goodClient?: Partial<ClientOptions> } = {},
): Promise<{ client: HostileClient; error: Error; alert: AlertSeen }> {
  const errP = srv.nextError();
  const c = await HostileClient.connect(srv.port);
  try {
    await act(c);
    c.conn.flush();
    const alert = await firstAlert(c.conn, want);
    expectWireAlert(alert, want);
    const error = await errP;
    expectApiError(error, want);
    await c.conn.waitClosed();
    await expectServerStillServes(srv.port, o.goodClient);
    return { client: c, error, alert };
  } finally {
    c.conn.destroy();
  }
}

/** A well-behaved handshake between a fresh qtls client and the hostile server's correct script. */
export async function expectClientStillWorks(hs: HostileServer): Promise<void> {
  const client = startQtlsClient({ port: hs.port });
  const s = await hs.next();
  try {
    await s.handshake();
    await within(client.secure, 3000, 'secureConnect of the next qtls client');
    s.sendApplicationData('ok?');
    const got = await within(new Promise<Buffer>((r) => client.socket.once('data', r)), 3000, 'data on the next qtls client');
    expect(got.toString()).to.equal('ok?');
  } finally {
    client.socket.destroy();
    s.conn.destroy();
  }
}

/**
 * One client-side hostile case: a qtls client connects to the hostile server, which runs `act`; the
 * test then checks the alert the client put on the wire (decrypted when the client had switched to
 * its keys), the client's error, that the client hung up, and that a new client still works.
 */
export async function clientCase(
  hs: HostileServer,
  act: (s: ServerScript) => unknown,
  want: Expectation,
  o: { identity?: IdentityName; client?: Partial<ClientOptions> } = {},
): Promise<{ script: ServerScript; error: Error; alert: AlertSeen }> {
  const client = startQtlsClient({ port: hs.port, ...o.client });
  const s = await hs.next(o.identity);
  try {
    await act(s);
    s.conn.flush();
    const alert = await firstAlert(s.conn, want);
    expectWireAlert(alert, want);
    const error = await within(client.error, 3000, 'the qtls client error');
    expectApiError(error, want);
    await s.conn.waitClosed();
    await expectClientStillWorks(hs);
    return { script: s, error, alert };
  } finally {
    client.socket.destroy();
    s.conn.destroy();
  }
}
