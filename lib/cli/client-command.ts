// `qtls client`: a TLS client for interop testing, in the spirit of `openssl s_client`:
// stdin goes to the connection, received data to stdout, a one-line summary on stderr.
// --reconnect: like `s_client -reconnect`, no data; one connection and four resumptions, each printed
// on stdout as "New, TLSv1.2, Cipher is X" or "Reused, TLSv1.2, Cipher is X".
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect } from '../net/connect.js';
import type { ClientOptions } from '../net/options.js';
import type { TLSSocket } from '../net/tls-socket.js';
import { QKD_FLAGS, QKD_USAGE, qkdTlsOptions } from './qkd-flags.js';
import { TRACE_FLAGS, TRACE_USAGE, traceOption, traceSecrets } from './trace-flags.js';
import { describeError, list, parseHostPort, readFileOption, UsageError, type IO } from './args.js';

export const CLIENT_USAGE = `usage: qtls client HOST:PORT [--servername NAME] [--ca FILE] [--insecure]
                   [--ciphers LIST] [--groups LIST] [--alpn LIST] [--cert FILE --key FILE]
                   [--psk HEX [--psk-identity ID]] [--reconnect] [--sess-out FILE] [--sess-in FILE]
                   [--status [--status-out FILE]] [${QKD_USAGE}] ${TRACE_USAGE}
  --status asks for a stapled OCSP response (s_client -status) and reports it on stderr; qtls does not
  check it — --status-out saves the DER for \`openssl ocsp -respin FILE …\``;

/** s_client's default PSK identity. */
const DEFAULT_PSK_IDENTITY = 'Client_identity';
/** --reconnect: connections after the first one (each tries to resume the latest session). */
const RECONNECTS = 4;
const SESSION_PEM = 'QTLS SESSION';

/** A --psk value: hex, as openssl's -psk (at least one byte). */
export function parsePskHex(value: string): Buffer {
  const hex = value.replace(/^0x/i, '');
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) throw new UsageError(`--psk must be an even number of hex digits, got "${value}"`);
  return Buffer.from(hex, 'hex');
}

/** A session as --sess-out writes it: PEM around the session Buffer (it holds the master secret: keep it private). */
export function encodeSessionFile(session: Buffer): string {
  const b64 = session.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${SESSION_PEM}-----\n${b64}-----END ${SESSION_PEM}-----\n`;
}

export function decodeSessionFile(text: string): Buffer {
  const m = new RegExp(`-----BEGIN ${SESSION_PEM}-----([\\s\\S]*?)-----END ${SESSION_PEM}-----`).exec(text);
  if (!m) throw new UsageError(`no "${SESSION_PEM}" block in the --sess-in file (it must come from qtls client --sess-out)`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export async function runClientCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      servername: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      ciphers: { type: 'string' },
      groups: { type: 'string' },
      alpn: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      psk: { type: 'string' },
      'psk-identity': { type: 'string' },
      reconnect: { type: 'boolean', default: false },
      'sess-out': { type: 'string' },
      'sess-in': { type: 'string' },
      status: { type: 'boolean', default: false },
      'status-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...TRACE_FLAGS,
      ...QKD_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(CLIENT_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected exactly one HOST:PORT');
  const { host, port } = parseHostPort(positionals[0]);
  const qkd = qkdTlsOptions(values, 'client', values.ciphers);
  if (values['psk-identity'] !== undefined && values.psk === undefined) throw new UsageError('--psk-identity needs --psk');
  let psk: Pick<ClientOptions, 'pskCallback'> = {};
  if (values.psk !== undefined) {
    if (qkd && 'pskCallback' in qkd) throw new UsageError('--psk cannot be combined with a PSK-compatible --qkd mode');
    const key = parsePskHex(values.psk);
    const identity = values['psk-identity'] ?? DEFAULT_PSK_IDENTITY;
    psk = { pskCallback: () => ({ identity, psk: key }) };
  }
  if (values['status-out'] !== undefined && !values.status) throw new UsageError('--status-out needs --status');
  const sessIn = values['sess-in'];
  let session = sessIn === undefined ? undefined : decodeSessionFile(readFileOption(sessIn, 'session')!.toString('latin1'));
  const sessOut = values['sess-out'];
  const saveSession = (s: Buffer) => {
    if (sessOut !== undefined) writeFileSync(sessOut, encodeSessionFile(s), { mode: 0o600 });
  };
  const options: ClientOptions = {
    host, port,
    servername: values.servername,
    ca: readFileOption(values.ca, 'CA'),
    rejectUnauthorized: !values.insecure,
    ciphers: values.ciphers,
    groups: values.groups,
    ALPNProtocols: list(values.alpn),
    cert: readFileOption(values.cert, 'certificate'),
    key: readFileOption(values.key, 'key'),
    requestOCSP: values.status,
    ...qkd,
    ...psk,
    ...traceOption(values, io.stderr),
  };
  const onOcsp = (socket: TLSSocket) => {
    if (!values.status) return;
    socket.on('OCSPResponse', (r: Buffer | null) => {
      io.stderr.write(r ? `OCSP response: ${r.length} bytes (not checked by qtls)\n` : 'OCSP response: no response sent\n');
      if (r && values['status-out'] !== undefined) writeFileSync(values['status-out'], r);
    });
  };

  if (values.reconnect) {
    for (let i = 0; i <= RECONNECTS; i++) {
      const r = await handshakeOnly({ ...options, session }, io, onOcsp);
      if (!r.ok) return 1;
      if (r.session) {
        session = r.session;
        saveSession(session);
      }
    }
    return 0;
  }

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      resolve(code);
    };
    const socket = connect({ ...options, session });
    onOcsp(socket);
    traceSecrets(values, socket, io.stderr);
    socket.on('session', saveSession);
    socket.on('secureConnect', () => {
      io.stderr.write(summary(socket, host, port));
      io.stdin.pipe(socket);
    });
    socket.on('data', (d: Buffer) => io.stdout.write(d));
    socket.on('end', () => finish(0));
    socket.on('close', () => finish(socket.tlsError && socket.tlsError.alert !== 'close_notify' ? 1 : 0));
    socket.on('error', (err) => {
      io.stderr.write(`error: ${describeError(err)}\n`);
      finish(1);
    });
  });
}

function summary(socket: TLSSocket, host: string, port: number): string {
  const c = socket.getCipher();
  const kx = socket.getKeyExchangeInfo();
  const verify = socket.authorized ? 'verified' : `NOT verified (${socket.authorizationErrorDetails?.message ?? 'no certificate'})`;
  return (
    `connected to ${host}:${port}: ${socket.getProtocol()} ${c?.standardName} group=${(kx.group as string) ?? 'none'}` +
    ` alpn=${socket.alpnProtocol || 'none'}${kx.qkdKeyId ? ` qkd_key_id=${String(kx.qkdKeyId)}` : ''}` +
    `${kx.pskIdentity ? ` psk_identity=${String(kx.pskIdentity)}` : ''}${kx.pskIdentityHint ? ` psk_hint=${String(kx.pskIdentityHint)}` : ''}` +
    ` session=${socket.isSessionReused() ? 'reused' : 'new'} certificate ${verify}\n`
  );
}

/**
 * One --reconnect round: handshake, print s_client's New/Reused line, close. Resolves with the session
 * to resume next (the one this connection offered when the server sent nothing newer).
 */
function handshakeOnly(options: ClientOptions, io: IO, onSocket: (s: TLSSocket) => void): Promise<{ ok: boolean; session: Buffer | undefined }> {
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    let ok = false;
    const socket = connect(options);
    onSocket(socket);
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('secureConnect', () => {
      ok = true;
      io.stderr.write(summary(socket, options.host!, options.port!));
      io.stdout.write(`${socket.isSessionReused() ? 'Reused' : 'New'}, ${socket.getProtocol()}, Cipher is ${socket.getCipher()?.name}\n`);
      socket.end();
    });
    socket.on('data', () => {});
    socket.on('error', (err) => {
      io.stderr.write(`error: ${describeError(err)}\n`);
      ok = false;
    });
    socket.on('close', () => resolve({ ok, session: session ?? (options.session as Buffer | undefined) }));
  });
}
