// `qtls client`: a TLS client for interop testing, in the spirit of `openssl s_client`:
// stdin goes to the connection, received data to stdout, a one-line summary on stderr.
import { parseArgs } from 'node:util';
import { connect } from '../net/connect.js';
import { QKD_FLAGS, QKD_USAGE, qkdTlsOptions } from './qkd-flags.js';
import { describeError, list, parseHostPort, readFileOption, UsageError, type IO } from './args.js';

export const CLIENT_USAGE = `usage: qtls client HOST:PORT [--servername NAME] [--ca FILE] [--insecure]
                   [--ciphers LIST] [--groups LIST] [--alpn LIST] [--cert FILE --key FILE]
                   [${QKD_USAGE}]`;

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
      help: { type: 'boolean', short: 'h', default: false },
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

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      resolve(code);
    };
    const socket = connect({
      host, port,
      servername: values.servername,
      ca: readFileOption(values.ca, 'CA'),
      rejectUnauthorized: !values.insecure,
      ciphers: values.ciphers,
      groups: values.groups,
      ALPNProtocols: list(values.alpn),
      cert: readFileOption(values.cert, 'certificate'),
      key: readFileOption(values.key, 'key'),
      ...qkd,
    });
    socket.on('secureConnect', () => {
      const c = socket.getCipher();
      const kx = socket.getKeyExchangeInfo();
      const verify = socket.authorized ? 'verified' : `NOT verified (${socket.authorizationError?.message ?? 'no certificate'})`;
      io.stderr.write(
        `connected to ${host}:${port}: ${socket.getProtocol()} ${c?.standardName} group=${(kx.group as string) ?? 'none'}` +
          ` alpn=${socket.alpnProtocol || 'none'}${kx.qkdKeyId ? ` qkd_key_id=${String(kx.qkdKeyId)}` : ''}` +
          `${kx.pskIdentity ? ` psk_identity=${String(kx.pskIdentity)}` : ''} certificate ${verify}\n`,
      );
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
