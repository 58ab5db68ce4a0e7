// Resuming a PSK session re-checks its identity (a revoked PSK must not live on in tickets or the
// session cache), and the resumed connection still reports which identity it runs under.
import { expect } from 'chai';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from '../../lib/index.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('PSK sessions on resumption', () => {
  for (const tickets of [true, false]) {
    it(`resume while the identity is valid, full handshake (refused) once it is revoked — ${tickets ? 'tickets' : 'session IDs'}`, async () => {
      let valid = true;
      const seen: Array<{ reused: boolean; identity: unknown }> = [];
      const srv = createServer(
        { ciphers: 'PSK-AES128-GCM-SHA256', sessionTickets: tickets, pskCallback: (_s, id) => (valid && id === 'alice' ? KEY : null) },
        (s: TLSSocket) => {
          seen.push({ reused: s.isSessionReused(), identity: s.getKeyExchangeInfo().pskIdentity });
          s.end('ok');
        },
      );
      srv.on('tlsClientError', () => {});
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      const port = (srv.address() as AddressInfo).port;
      const dial = async (session?: Buffer): Promise<{ session?: Buffer; reused?: boolean; error?: Error }> => {
        const c = connect({ host: '127.0.0.1', port, ciphers: 'PSK-AES128-GCM-SHA256', sessionTickets: tickets, session, pskCallback: () => ({ identity: 'alice', psk: KEY }) });
        let s: Buffer | undefined;
        c.on('session', (b: Buffer) => (s = b));
        c.resume();
        const r = await new Promise<{ reused?: boolean; error?: Error }>((resolve) => {
          c.once('end', () => resolve({ reused: c.isSessionReused() }));
          c.once('error', (e: Error) => resolve({ error: e }));
        });
        c.destroy();
        return { ...r, session: s ?? session };
      };
      try {
        const first = await dial();
        expect(first.reused).to.equal(false);
        const second = await dial(first.session);
        expect(second.reused).to.equal(true);
        expect(seen[1]).to.deep.equal({ reused: true, identity: 'alice' });
        valid = false;
        const third = await dial(first.session);
        expect(third.error?.message).to.match(/unknown_psk_identity/);
      } finally {
        srv.close();
      }
    });
  }
});
