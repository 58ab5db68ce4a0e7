// TLS speed as ratios against node:tls, measured in one run on the same machine (absolute numbers
// depend on the machine; the ratio is what we track). Four pairs per measurement: qtls↔qtls and
// node↔node, each for full handshakes per second and bulk throughput per suite.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { connect, createServer } from '../lib/index.js';

const f = (n: string) => readFileSync(new URL(`../fixtures/pki/${n}`, import.meta.url));
const cert = f('ecdsa-p256-chain.pem');
const key = f('ecdsa-p256-key.pem');
const ca = f('ca.pem');

type Impl = 'qtls' | 'node';

async function withServer<T>(impl: Impl, ciphers: string, onConn: (s: import('node:stream').Duplex) => void, body: (port: number) => Promise<T>): Promise<T> {
  const srv =
    impl === 'qtls'
      ? createServer({ cert, key, ciphers }, onConn)
      : tls.createServer({ cert, key, ciphers, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }, onConn);
  srv.listen(0, '127.0.0.1');
  await once(srv as import('node:events').EventEmitter, 'listening');
  try {
    return await body((srv.address() as AddressInfo).port);
  } finally {
    srv.close();
  }
}

function dial(impl: Impl, port: number, ciphers: string): import('node:stream').Duplex {
  const o = { host: '127.0.0.1', port, servername: 'localhost', ca, ciphers, sessionTickets: false };
  return impl === 'qtls' ? connect(o) : tls.connect({ ...o, maxVersion: 'TLSv1.2' });
}

async function handshakesPerSecond(impl: Impl, ciphers: string, seconds: number): Promise<number> {
  return withServer(impl, ciphers, (s) => s.end(), async (port) => {
    let n = 0;
    const until = Date.now() + seconds * 1000;
    const t0 = performance.now();
    while (Date.now() < until) {
      const c = dial(impl, port, ciphers);
      await once(c, impl === 'qtls' ? 'secureConnect' : 'secureConnect');
      c.destroy();
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  });
}

async function throughputMBs(impl: Impl, ciphers: string, megabytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  return withServer(impl, ciphers, (s) => s.resume(), async (port) => {
    const c = dial(impl, port, ciphers);
    await once(c, 'secureConnect');
    const t0 = performance.now();
    for (let sent = 0; sent < megabytes * 1024 * 1024; sent += chunk.length) {
      if (!c.write(chunk)) await once(c, 'drain');
    }
    await new Promise<void>((r) => c.end(r));
    const s = (performance.now() - t0) / 1000;
    c.destroy();
    return megabytes / s;
  });
}

export async function runTlsBench(out: (line: string) => void = console.log): Promise<void> {
  out('TLS: qtls vs node:tls (loopback, ECDSA P-256 certificate, x25519) — ratio = qtls / node');
  const hsSuite = 'ECDHE-ECDSA-AES128-GCM-SHA256';
  const q = await handshakesPerSecond('qtls', hsSuite, 3);
  const n = await handshakesPerSecond('node', hsSuite, 3);
  out(`  full handshakes/s   ${hsSuite.padEnd(32)} qtls ${q.toFixed(1).padStart(7)}  node ${n.toFixed(1).padStart(7)}  ratio ${(q / n).toFixed(3)}`);
  for (const suite of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
    const qt = await throughputMBs('qtls', suite, 32);
    const nt = await throughputMBs('node', suite, 32);
    out(`  bulk MB/s           ${suite.padEnd(32)} qtls ${qt.toFixed(1).padStart(7)}  node ${nt.toFixed(1).padStart(7)}  ratio ${(nt > 0 ? qt / nt : 0).toFixed(3)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runTlsBench();
