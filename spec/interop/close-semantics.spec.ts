// How a connection that ends without close_notify is reported, compared with node:tls: a bare TCP FIN
// after application data is an end of stream (no error), a TCP RST is ECONNRESET, and so is a TCP close
// in the middle of the handshake. Checked for clients
// (the node:tls server cuts its TCP socket) and for servers (the client cuts its own).
import { expect } from 'chai';
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net';
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

  it('the peer closes TCP during the handshake: ECONNRESET on qtls and node, clients and servers', async () => {
    // A "server" that reads the ClientHello and hangs up.
    const hangup = netCreateServer((s) => s.once('data', () => s.end()));
    cleanup.defer(() => new Promise((r) => hangup.close(r)));
    const hangupPort = await listenLocal(hangup);
    for (const impl of ['node', 'qtls'] as const) {
      const r = await runClient(impl, { port: hangupPort, servername: 'localhost', ca: ca() }, { payload: Buffer.from('x') });
      expect(r.secure, describeReport(r)).to.equal(false);
      expect(r.error?.code, describeReport(r)).to.equal('ECONNRESET');
      // A "client" that connects and hangs up without a ClientHello.
      const server = await startEchoServer(impl, { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() }, cleanup);
      const raw = netConnect({ host: LOCALHOST, port: server.port });
      raw.on('error', () => {});
      raw.on('connect', () => raw.end());
      const err = await server.clientError(0);
      expect(err.code, `${impl} server: ${err.message}`).to.equal('ECONNRESET');
    }
  });

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
