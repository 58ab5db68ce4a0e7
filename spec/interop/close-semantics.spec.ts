// How a connection that ends without close_notify is reported, compared with node:tls: a bare TCP FIN
// after application data is an end of stream (no error), a TCP RST is ECONNRESET. Checked for clients
// (the node:tls server cuts its TCP socket) and for servers (the client cuts its own).
import { expect } from 'chai';
import { connect as netConnect, type Socket } from 'node:net';
import * as nodeTls from 'node:tls';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca } from '../helpers/fixtures.js';
import { LOCALHOST, listenLocal } from '../helpers/ports.js';
import { describeReport, runClient, startEchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';
import { connect as qtlsConnect } from '../../lib/index.js';

type Cut = 'fin' | 'rst';
const cutSocket = (raw: Socket, how: Cut) => (how === 'fin' ? raw.end() : raw.resetAndDestroy());

describe('interop: ends without close_notify (truncation, reset) vs node:tls', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  for (const how of ['fin', 'rst'] as const) {
    it(`server ${how === 'fin' ? 'sends a bare TCP FIN' : 'resets the TCP connection'} after data: qtls and node clients report the same`, async () => {
      const server = nodeTls.createServer({ cert: CERTS.rsa.chain(), key: CERTS.rsa.key() }, (s) => {
        s.on('error', () => {});
        s.write('hello\n', () => setTimeout(() => cutSocket((s as unknown as { _parent: Socket })._parent, how), 20));
      });
      cleanup.defer(() => new Promise((r) => server.close(r)));
      const port = await listenLocal(server);
      const reports: Partial<Record<Impl, EndpointReport>> = {};
      for (const impl of ['node', 'qtls'] as const) {
        reports[impl] = await runClient(impl, { port, servername: 'localhost', ca: ca(), maxVersion: 'TLSv1.2' }, { closeBy: 'server' });
      }
      const [n, q] = [reports.node!, reports.qtls!];
      const why = `${describeReport(n)}\n${describeReport(q)}`;
      expect(q.received.toString(), why).to.equal('hello\n');
      expect(q.ended, why).to.equal(n.ended);
      expect(q.error?.code, why).to.equal(n.error?.code);
      expect(how === 'fin' ? q.error : q.error?.code, why).to.equal(how === 'fin' ? undefined : 'ECONNRESET');
      expect(q.alertsIn, why).to.deep.equal([]);
    });

    it(`client ${how === 'fin' ? 'sends a bare TCP FIN' : 'resets the TCP connection'} after data: qtls and node servers report the same`, async () => {
      const seen: Partial<Record<Impl, EndpointReport>> = {};
      for (const impl of ['node', 'qtls'] as const) {
        const server = await startEchoServer(impl, { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() }, cleanup);
        const raw = netConnect({ host: LOCALHOST, port: server.port });
        const client = qtlsConnect({ socket: raw, servername: 'localhost', ca: ca() });
        client.on('error', () => {});
        client.on('data', () => setTimeout(() => cutSocket(raw, how), 20));
        client.once('secureConnect', () => client.write('hello\n'));
        const session = await server.session(0);
        await session.closed;
        seen[impl] = session;
      }
      const [n, q] = [seen.node!, seen.qtls!];
      const why = `${describeReport(n)}\n${describeReport(q)}`;
      expect(q.received.toString(), why).to.equal('hello\n');
      expect(q.ended, why).to.equal(n.ended);
      expect(q.error?.code, why).to.equal(n.error?.code);
      expect(q.alertsIn, why).to.deep.equal([]);
    });
  }
});
