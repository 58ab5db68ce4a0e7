// A socket used after a fatal alert fails with the same error (RFC 5246 §7.2.2: the connection is over;
// the API keeps saying why).
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, TLSError } from '../../lib/index.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

describe('after a fatal alert', () => {
  it('later writes fail with the same TLSError', async () => {
    const srv = createServer({ cert: fx('unknown-ca-cert.pem'), key: fx('unknown-ca-key.pem') }, (s) => s.end());
    srv.on('tlsClientError', () => {});
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem') });
      const [first] = (await once(c, 'error')) as [TLSError];
      expect(first).to.be.instanceOf(TLSError);
      expect(first.alert).to.equal('unknown_ca');
      if (!c.destroyed) await once(c, 'close');
      const later = await new Promise<Error | null | undefined>((resolve) => c.write('too late', (e) => resolve(e)));
      expect(later).to.equal(first);
      expect(c.tlsError).to.equal(first);
    } finally {
      srv.close();
    }
  });
});
