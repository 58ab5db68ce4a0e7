// The hostile peers themselves: when they behave, qtls completes handshakes with them and data flows.
// Every other hostile test relies on these scripts being correct up to the point where they deviate.
import { expect } from 'chai';
import { HostileClient } from './helpers/hostile-client.js';
import { HostileServer } from './helpers/hostile-server.js';
import { useProcessGuard, within } from './helpers/guard.js';
import { startQtlsClient, startQtlsServer, type QtlsServer } from './helpers/qtls.js';

describe('hostile/peers: the scripted peers complete real handshakes with qtls', () => {
  useProcessGuard();

  for (const identity of ['ecdsa', 'rsa'] as const) {
    it(`hostile client ↔ qtls server (${identity}): handshake, echo`, async () => {
      const srv: QtlsServer = await startQtlsServer({ identity });
      try {
        const c = await HostileClient.connect(srv.port);
        await c.handshake();
        c.sendApplicationData('ping');
        expect(Buffer.from(await c.conn.readApplicationData(4)).toString()).to.equal('ping');
        c.conn.destroy();
      } finally {
        await srv.close();
      }
    });

    it(`qtls client ↔ hostile server (${identity}): handshake, data both ways`, async () => {
      const hs = await HostileServer.listen();
      try {
        const client = startQtlsClient({ port: hs.port });
        const s = await hs.next(identity);
        await s.handshake();
        await within(client.secure, 3000, 'secureConnect');
        client.socket.write('hello');
        expect(Buffer.from(await s.conn.readApplicationData(5)).toString()).to.equal('hello');
        s.sendApplicationData('world');
        const got = await within(new Promise<Buffer>((r) => client.socket.once('data', r)), 3000, 'data');
        expect(got.toString()).to.equal('world');
        client.socket.destroy();
      } finally {
        await hs.close();
      }
    });
  }
});
