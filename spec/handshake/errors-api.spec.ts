// What the API reports for refused handshakes: node-style verification codes behind the alert, and a
// clear error for an SNICallback answer qtls cannot use.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, TLSError } from '../../lib/index.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

async function serve(options: Parameters<typeof createServer>[0]) {
  const srv = createServer(options, (s) => s.end());
  const clientErrors: Error[] = [];
  srv.on('tlsClientError', (e: Error) => clientErrors.push(e));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { srv, port: (srv.address() as AddressInfo).port, clientErrors };
}

async function failedConnect(port: number): Promise<TLSError> {
  const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fx('ca.pem') });
  const [err] = (await once(c, 'error')) as [TLSError];
  return err;
}

describe('handshake errors on the API', () => {
  it('a rejected server certificate carries the node verification code as its cause', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['expired', 'certificate_expired', /^CERT_HAS_EXPIRED$/],
      ['unknown-ca', 'unknown_ca', /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/],
      ['wrong-name', 'bad_certificate', /^ERR_TLS_CERT_ALTNAME_INVALID$/],
    ];
    for (const [name, alert, code] of cases) {
      const file = name === 'unknown-ca' ? 'unknown-ca-cert.pem' : `${name}-chain.pem`;
      const { srv, port } = await serve({ cert: fx(file), key: fx(`${name}-key.pem`) });
      try {
        const err = await failedConnect(port);
        expect(err, name).to.be.instanceOf(TLSError);
        expect(err.alert, name).to.equal(alert);
        expect(String((err.cause as { code?: string } | undefined)?.code), name).to.match(code);
      } finally {
        srv.close();
      }
    }
  });

  it('an SNICallback that answers with something other than { cert, key } fails the handshake clearly', async () => {
    const { srv, port, clientErrors } = await serve({
      cert: fx('ecdsa-p256-chain.pem'),
      key: fx('ecdsa-p256-key.pem'),
      SNICallback: (_name, cb) => cb(null, { context: 'a node SecureContext' } as never),
    });
    try {
      const err = await failedConnect(port);
      expect(err.message).to.match(/internal_error/);
      await new Promise((r) => setImmediate(r));
      expect(clientErrors.map((e) => e.message).join('\n')).to.match(/SNICallback must call back with \{ cert, key \}/);
    } finally {
      srv.close();
    }
  });
});
