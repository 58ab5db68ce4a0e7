// `qtls demo` (npm start): HTTPS end to end on qtls — a local server and a client fetching a page.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createHttpsServer, qtlsConnection } from '../net/https.js';
import type { TLSSocket } from '../net/tls-socket.js';
import type { IO } from './args.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/pki/${name}`, import.meta.url));

export async function runDemoCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { serve: { type: 'boolean', default: false }, port: { type: 'string', default: '0' } } });
  const server = createHttpsServer({ cert: fixture('ecdsa-p256-chain.pem'), key: fixture('ecdsa-p256-key.pem') }, (req, res) => {
    const tls = req.socket as unknown as TLSSocket;
    const c = tls.getCipher();
    res.setHeader('content-type', 'text/plain');
    res.end(`Hello over qtls!\nYou asked for ${req.url} using ${c?.standardName} (${tls.getProtocol()}).\n`);
  });
  await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
  const addr = server.tls.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  io.stdout.write(`qtls HTTPS server listening on https://localhost:${port}/\n`);

  try {
    const { status, body, socket } = await fetchPage(port);
    const c = socket.getCipher();
    io.stdout.write(
      [
        `client: GET https://localhost:${port}/hello -> ${status}`,
        `  protocol ${socket.getProtocol()}, suite ${c?.standardName}, group ${String(socket.getKeyExchangeInfo().group)}`,
        `  server certificate ${socket.authorized ? 'verified' : 'NOT verified'} against fixtures/pki/ca.pem`,
        `page:`,
        ...body.trimEnd().split('\n').map((l) => `  | ${l}`),
        '',
      ].join('\n'),
    );
  } finally {
    if (!values.serve) await new Promise<void>((r) => server.close(r));
  }
  if (values.serve) {
    io.stdout.write('serving until Ctrl-C\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await new Promise<void>((r) => server.close(r));
  }
  return 0;
}

function fetchPage(port: number): Promise<{ status: number; body: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    let socket: TLSSocket | undefined;
    const connect = qtlsConnection({ host: '127.0.0.1', port, servername: 'localhost', ca: fixture('ca.pem') });
    const req = request(
      { host: 'localhost', port, path: '/hello', createConnection: () => (socket = connect()) as never },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: socket! }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
