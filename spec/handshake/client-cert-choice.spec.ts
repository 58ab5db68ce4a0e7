// Which client certificate answers a CertificateRequest: one of a type the server listed (RFC 5246
// §7.4.6) and, among several, one issued under a CA the server named (§7.4.4 certificate_authorities).
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from '../../lib/index.js';
import { generateKeyPair, issueCertificate } from '../../lib/pki/issue.js';
import { parsePrivateKey } from '../../lib/pki/keys.js';
import { parseCertificates } from '../../lib/pki/x509.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));

describe('client certificate choice', () => {
  it('picks the certificate issued under a CA the server named, whatever the order of the pairs', async () => {
    // A second client identity under the "unknown" root, which this server trusts (and names).
    const root = parseCertificates(fx('unknown-root-ca.pem'))[0]!;
    const kp = generateKeyPair('P-256');
    const other = issueCertificate({
      subject: { CN: 'other-client' }, publicKey: kp.publicKey, issuer: root, issuerKey: parsePrivateKey(fx('unknown-root-ca-key.pem')),
      notBefore: new Date('2025-01-01'), notAfter: new Date('2045-01-01'), isCA: false, extKeyUsage: ['clientAuth'],
    });
    const srv = createServer(
      { cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem'), requestCert: true, rejectUnauthorized: true, ca: fx('unknown-root-ca.pem') },
      (s: TLSSocket) => s.end(String(s.getPeerCertificate().subject && (s.getPeerCertificate().subject as { CN: string }).CN)),
    );
    srv.on('tlsClientError', () => {});
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      // The fixture client certificate (under the other root) is listed first; the server names only its own CA.
      const c = connect({
        host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: fx('ca.pem'),
        cert: [fx('client-chain.pem'), Buffer.from(other.pem)], key: [fx('client-key.pem'), Buffer.from(kp.pem)],
      });
      let data = '';
      c.on('data', (d: Buffer) => (data += d));
      await once(c, 'end');
      expect(data).to.equal('other-client');
    } finally {
      srv.close();
    }
  });
});
