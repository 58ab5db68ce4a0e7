import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, formatTraceEvent, type TraceEvent } from '../../lib/index.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

describe('debug traces', () => {
  it('reports every handshake message in order on both sides, with readable details and no secrets', async () => {
    const serverTrace: TraceEvent[] = [];
    const clientTrace: TraceEvent[] = [];
    const srv = createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem'), trace: (e) => serverTrace.push(e) }, (s) => s.end('bye'));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem'), trace: (e) => clientTrace.push(e), sessionTickets: false });
      let master = '';
      c.on('keylog', (l: Buffer) => (master = l.toString().trim().split(' ')[2]!));
      c.resume();
      await once(c, 'end');
      const lines = clientTrace.map(formatTraceEvent);
      const names = clientTrace.filter((e) => e.kind !== 'application_data').map((e) => `${e.direction} ${e.name}`);
      expect(names).to.deep.equal([
        'out client_hello', 'in server_hello', 'in certificate', 'in server_key_exchange', 'in server_hello_done',
        'out client_key_exchange', 'out ChangeCipherSpec', 'out finished', 'in ChangeCipherSpec', 'in finished', 'in close_notify', 'out close_notify',
      ]);
      expect(lines[0]).to.match(/^-> ClientHello \(\d+ bytes\) version 0x303; \d+ suites .*SNI localhost; extensions: server_name, extended_master_secret/);
      expect(lines[1]).to.match(/^<- ServerHello \(\d+ bytes\) TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; extensions: .*extended_master_secret/);
      expect(lines[2]).to.match(/^<- Certificate \(\d+ bytes\) #0 .*CN=localhost.* \| #1 /);
      expect(lines[3]).to.match(/named curve x25519/);
      expect(lines.find((l) => l.includes('Finished'))).to.match(/\[encrypted\]/);
      expect(lines.join('\n')).to.match(/<- ApplicationData \(3 bytes\)/);
      // The trace never contains the master secret.
      expect(master).to.have.length(96);
      expect(lines.join('\n')).to.not.include(master);
      expect(serverTrace.filter((e) => e.kind === 'handshake').map((e) => `${e.direction} ${e.name}`)).to.deep.equal([
        'in client_hello', 'out server_hello', 'out certificate', 'out server_key_exchange', 'out server_hello_done',
        'in client_key_exchange', 'in finished', 'out finished',
      ]);
    } finally {
      srv.close();
    }
  });

  it('describes a malformed message instead of throwing', () => {
    const line = formatTraceEvent({ direction: 'in', kind: 'handshake', type: 1, name: 'client_hello', length: 3, raw: new Uint8Array([1, 0, 0, 3, 3, 3, 0]) });
    expect(line).to.match(/malformed: .*truncated/);
  });
});
