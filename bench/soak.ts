// `npm run soak [-- --seconds N]`: many short connections (full handshakes, resumptions, data, close)
// and one long-lived stream between a qtls client and server, for N seconds (default 60). Samples the
// heap after a forced GC every few seconds and fails (exit 1) if it keeps growing: a leak check for
// people who will run qtls for long. Not part of `npm test`.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { connect, createServer } from '../lib/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run soak does)');

const fx = (n: string) => readFileSync(new URL(`../fixtures/pki/${n}`, import.meta.url));
const srv = createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem') }, (s) => {
  s.on('error', () => {});
  s.on('data', (d: Buffer) => s.write(d));
  s.on('end', () => s.end());
});
srv.on('tlsClientError', () => {});
srv.listen(0, '127.0.0.1');
await once(srv, 'listening');
const port = (srv.address() as AddressInfo).port;
const base = { host: '127.0.0.1', port, servername: 'localhost', ca: fx('ca.pem') };

let connections = 0;
let resumed = 0;
let streamed = 0;
let session: Buffer | undefined;
const until = Date.now() + seconds * 1000;

async function shortConnections(): Promise<void> {
  while (Date.now() < until) {
    const c = connect({ ...base, session: connections % 4 === 0 ? undefined : session });
    c.on('session', (s: Buffer) => (session = s));
    await once(c, 'secureConnect');
    if (c.isSessionReused()) resumed++;
    c.end('ping');
    c.resume();
    await once(c, 'close');
    connections++;
  }
}

async function longStream(): Promise<void> {
  const c = connect(base);
  await once(c, 'secureConnect');
  const chunk = Buffer.alloc(16 * 1024, 7);
  c.on('data', (d: Buffer) => (streamed += d.length));
  while (Date.now() < until) {
    if (!c.write(chunk)) await once(c, 'drain');
    await new Promise((r) => setImmediate(r));
  }
  c.end();
  await once(c, 'close');
}

const samples: number[] = [];
const sampler = setInterval(() => {
  gc();
  const mb = process.memoryUsage().heapUsed / 2 ** 20;
  samples.push(mb);
  console.log(`t=${samples.length * 5}s heap ${mb.toFixed(1)} MiB, ${connections} connections (${resumed} resumed), ${(streamed / 2 ** 20).toFixed(1)} MiB echoed`);
}, 5000);

await Promise.all([shortConnections(), longStream()]);
clearInterval(sampler);
srv.close();
// Compare the second half with the first: a leak grows steadily, noise doesn't.
const half = Math.floor(samples.length / 2);
const avg = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
const early = avg(samples.slice(1, half));
const late = avg(samples.slice(half));
console.log(`heap early ${early.toFixed(1)} MiB, late ${late.toFixed(1)} MiB`);
if (samples.length >= 4 && late > early * 1.5 + 5) {
  console.error('heap keeps growing: possible leak');
  process.exit(1);
}
console.log('soak ok');
