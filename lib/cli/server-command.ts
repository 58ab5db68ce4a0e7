// `qtls server`: a TLS server for interop testing, in the spirit of `openssl s_server`.
import { parseArgs } from 'node:util';
import { createServer } from '../net/server.js';
import type { TLSSocket } from '../net/tls-socket.js';
import type { ServerOptions } from '../net/options.js';
import { parsePskHex } from './client-command.js';
import { QKD_FLAGS, QKD_USAGE, qkdTlsOptions } from './qkd-flags.js';
import { TRACE_FLAGS, TRACE_USAGE, traceOption, traceSecrets } from './trace-flags.js';
import { describeError, list, parsePort, readFileOption, UsageError, type IO } from './args.js';

export const SERVER_USAGE = `usage: qtls server --port P [--host 127.0.0.1] --cert FILE --key FILE
                   [--ciphers LIST] [--groups LIST] [--alpn LIST] [--www] [--ca FILE --verify-client]
                   [--dhparam FILE] [--psk HEX [--psk-identity ID] [--psk-hint HINT]] [--no-tickets]
                   [--status-file FILE]  (staple this DER OCSP response when asked, as s_server -status_file)
                   (with --psk only, --cert/--key may be left out: the server then offers PSK suites only)
                   [${QKD_USAGE}] ${TRACE_USAGE}`;

/** Largest HTTP request head we buffer in --www mode before giving up on the client. */
const MAX_REQUEST_HEAD = 16 * 1024;

export async function runServerCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      ciphers: { type: 'string' },
      groups: { type: 'string' },
      alpn: { type: 'string' },
      www: { type: 'boolean', default: false },
      'verify-client': { type: 'boolean', default: false },
      dhparam: { type: 'string' },
      psk: { type: 'string' },
      'psk-identity': { type: 'string' },
      'psk-hint': { type: 'string' },
      'no-tickets': { type: 'boolean', default: false },
      'status-file': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...TRACE_FLAGS,
      ...QKD_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(SERVER_USAGE + '\n');
    return 0;
  }
  const port = parsePort(values.port);
  if (port === undefined) throw new UsageError('--port is required');
  const qkd = qkdTlsOptions(values, 'server', values.ciphers);
  if ((values['psk-identity'] !== undefined || values['psk-hint'] !== undefined) && values.psk === undefined) throw new UsageError('--psk-identity and --psk-hint need --psk');
  let psk: Pick<ServerOptions, 'pskCallback' | 'pskIdentityHint'> = {};
  if (values.psk !== undefined) {
    if (qkd && 'pskCallback' in qkd) throw new UsageError('--psk cannot be combined with a PSK-compatible --qkd mode');
    const key = parsePskHex(values.psk);
    // With --psk-identity only that identity is known (others get unknown_psk_identity); without it,
    // any identity gets the key, as s_server does.
    const expected = values['psk-identity'];
    psk = { pskCallback: (_socket, identity) => (expected === undefined || identity === expected ? key : null), pskIdentityHint: values['psk-hint'] };
  }
  const pskOnly = (qkd !== undefined && 'pskCallback' in qkd) || values.psk !== undefined;
  if ((!values.cert || !values.key) && !pskOnly) throw new UsageError('--cert and --key are required (or --psk for a PSK-only server)');
  if (!values.cert !== !values.key) throw new UsageError('--cert and --key go together');

  const server = createServer({
    cert: readFileOption(values.cert, 'certificate'),
    key: readFileOption(values.key, 'key'),
    ca: readFileOption(values.ca, 'CA'),
    ciphers: values.ciphers,
    groups: values.groups,
    ALPNProtocols: list(values.alpn),
    requestCert: values['verify-client'],
    rejectUnauthorized: values['verify-client'],
    dhparam: readFileOption(values.dhparam, 'DH parameters'),
    sessionTickets: !values['no-tickets'],
    ...qkd,
    ...psk,
    ...traceOption(values, io.stderr),
  });
  traceSecrets(values, server, io.stderr);
  const ocsp = readFileOption(values['status-file'], 'OCSP response');
  if (ocsp) server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer | null, cb: (err: Error | null, r?: Buffer) => void) => cb(null, ocsp));
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    io.stderr.write(`handshake failed from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: ${describeError(err)}\n`);
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    io.stderr.write(connectionSummary(socket));
    socket.on('error', (err) => io.stderr.write(`connection error: ${describeError(err)}\n`));
    if (values.www) serveWww(socket);
    else socket.pipe(socket);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : String(addr);
  io.stdout.write(`ACCEPT ${bound}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** One line per connection on stderr (tests wait for it): suite, group, PSK identity, resumption, client certificate. */
function connectionSummary(socket: TLSSocket): string {
  const c = socket.getCipher();
  const kx = socket.getKeyExchangeInfo();
  const peer = socket.getPeerCertificate() as { subject?: { CN?: string } };
  const client = peer.subject ? `${peer.subject.CN ?? '?'} (${socket.authorized ? 'verified' : 'NOT verified'})` : 'none';
  return (
    `connection from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: ${socket.getProtocol()} ${c?.standardName}` +
    ` group=${(kx.group as string | undefined) ?? 'none'}${kx.pskIdentity ? ` psk_identity=${String(kx.pskIdentity)}` : ''}` +
    ` session=${socket.isSessionReused() ? 'reused' : 'new'} client_certificate=${client}\n`
  );
}

/** A one-page web server: answer the first HTTP/1.x request line, then close_notify and close. */
function serveWww(socket: TLSSocket): void {
  let head = '';
  const onData = (chunk: Buffer) => {
    head += chunk.toString('latin1');
    // The request line may arrive split over several records; it ends at CRLF or a bare LF.
    const eol = head.indexOf('\n');
    if (eol < 0) {
      if (head.length > MAX_REQUEST_HEAD) socket.destroy();
      return;
    }
    socket.off('data', onData);
    const requestLine = head.slice(0, eol).replace(/\r$/, '');
    const cipher = socket.getCipher();
    const kx = socket.getKeyExchangeInfo();
    const body = [
      'qtls test server',
      `request:  ${requestLine}`,
      `protocol: ${socket.getProtocol()}`,
      `suite:    ${cipher?.standardName} (${cipher?.name})`,
      `group:    ${(kx.group as string | undefined) ?? 'none'}`,
      `sni:      ${socket.servername || 'none'}`,
      `alpn:     ${socket.alpnProtocol || 'none'}`,
      ...Object.entries(kx).filter(([k]) => k !== 'group').map(([k, v]) => `${(k + ':').padEnd(9)} ${String(v)}`),
      '',
    ].join('\n');
    const ok = /^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(requestLine);
    const status = ok ? 'HTTP/1.0 200 ok' : 'HTTP/1.0 400 Bad Request';
    socket.end(`${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  socket.on('data', onData);
}
