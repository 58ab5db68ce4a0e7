import { expect } from 'chai';
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { formatCertDate, toPeerCertificate, type DetailedPeerCertificate } from '../../lib/pki/peer-certificate.js';
import { parseCertificates } from '../../lib/pki/x509.js';
import { fixture } from './helpers.js';
import { der } from '../../lib/pki/der.js';
import { generateKeyPair, issueCertificate } from '../../lib/pki/issue.js';
import { parsePrivateKey } from '../../lib/pki/keys.js';

const FILES = ['rsa-cert.pem', 'ecdsa-p256-cert.pem', 'ecdsa-p384-cert.pem', 'ed25519-cert.pem', 'client-cert.pem', 'root-ca.pem', 'rsa-root-ca.pem', 'rsa-pss-cert.pem'];

/** Fields of node's legacy object we reproduce exactly (node adds infoAccess for AIA; none of ours have it). */
function comparable(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'issuerCertificate') continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('hex') : v && typeof v === 'object' && !Array.isArray(v) ? { ...v } : v;
  }
  return out;
}

describe('pki/peer-certificate (node getPeerCertificate() shape)', () => {
  for (const file of FILES) {
    it(`${file}: equals node's X509Certificate.toLegacyObject(), field for field and in order`, () => {
      const pem = fixture(file);
      const ours = toPeerCertificate(parseCertificates(pem)[0]!);
      const node = new crypto.X509Certificate(pem).toLegacyObject();
      if (file === 'rsa-pss-cert.pem') {
        // OpenSSL 3.0 exposes no modulus for id-RSASSA-PSS keys; compare the rest.
        for (const k of ['modulus', 'bits', 'exponent', 'pubkey'] as const) delete (ours as unknown as Record<string, unknown>)[k];
      }
      expect(comparable(ours)).to.deep.equal(comparable(node));
      expect(Object.keys(ours)).to.deep.equal(Object.keys(node));
    });
  }

  it('agrees with X509Certificate on subject, issuer, subjectAltName, validFrom/To, fingerprint256 and serialNumber', () => {
    const pem = fixture('rsa-cert.pem');
    const x = new crypto.X509Certificate(pem);
    const p = toPeerCertificate(parseCertificates(pem)[0]!);
    expect(Object.entries(p.subject).map(([k, v]) => `${k}=${v}`).join('\n')).to.equal(x.subject);
    expect(Object.entries(p.issuer).map(([k, v]) => `${k}=${v}`).join('\n')).to.equal(x.issuer);
    expect(p.subjectaltname).to.equal(x.subjectAltName);
    expect(p.valid_from).to.equal(x.validFrom);
    expect(p.valid_to).to.equal(x.validTo);
    expect(p.fingerprint256).to.equal(x.fingerprint256);
    expect(p.serialNumber).to.equal(x.serialNumber);
  });

  it('reports Authority Information Access as infoAccess, like node', () => {
    const ica = parseCertificates(fixture('intermediate-ca.pem'))[0]!;
    const key = parsePrivateKey(fixture('intermediate-ca-key.pem'));
    const uri = (s: string) => der.implicit(6, Buffer.from(s));
    const aia = der.sequence(
      der.sequence(der.oid('1.3.6.1.5.5.7.48.1'), uri('http://ocsp.example/')),
      der.sequence(der.oid('1.3.6.1.5.5.7.48.2'), uri('http://ca.example/ica.der')),
      der.sequence(der.oid('1.3.6.1.5.5.7.48.1'), uri('http://ocsp2.example/a,b')),
    );
    const leaf = issueCertificate({
      subject: { CN: 'aia.example' },
      publicKey: generateKeyPair('P-256').publicKey,
      issuer: ica,
      issuerKey: key,
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
      isCA: false,
      san: { dns: ['aia.example'] },
      extraExtensions: [{ oid: '1.3.6.1.5.5.7.1.1', critical: false, value: aia }],
    });
    const ours = toPeerCertificate(leaf.certificate);
    const node = new crypto.X509Certificate(leaf.pem).toLegacyObject();
    expect({ ...ours.infoAccess }).to.deep.equal({ ...(node as unknown as { infoAccess: object }).infoAccess });
    expect(ours.infoAccess!['OCSP - URI']).to.deep.equal(['http://ocsp.example/', 'http://ocsp2.example/a,b']);
    expect(comparable(ours)).to.deep.equal(comparable(node));
    expect(Object.keys(ours)).to.deep.equal(Object.keys(node));
  });

  it('formats dates as OpenSSL does, with a space-padded day', () => {
    expect(formatCertDate(new Date('2030-01-01T00:00:00Z'))).to.equal('Jan  1 00:00:00 2030 GMT');
    expect(formatCertDate(new Date('2045-12-31T23:59:09Z'))).to.equal('Dec 31 23:59:09 2045 GMT');
  });

  it("matches a real node:tls client's getPeerCertificate(true), including the issuerCertificate chain", async () => {
    const server = tls.createServer({ key: fixture('ecdsa-p256-key.pem'), cert: fixture('ecdsa-p256-chain.pem') }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const nodePeer = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
        const sock = tls.connect({ port, host: '127.0.0.1', ca: fixture('ca.pem'), servername: 'localhost' }, () => {
          resolve(sock.getPeerCertificate(true));
          sock.end();
        });
        sock.on('error', reject);
      });
      const chain = parseCertificates(fixture('ecdsa-p256-chain.pem'));
      const root = parseCertificates(fixture('root-ca.pem'));
      const ours = toPeerCertificate(chain[0]!, [chain[1]!, root[0]!]);
      let a: DetailedPeerCertificate = ours;
      let b: tls.DetailedPeerCertificate = nodePeer;
      for (let depth = 0; depth < 3; depth++) {
        expect(comparable(a), `depth ${depth}`).to.deep.equal(comparable(b));
        a = a.issuerCertificate;
        b = b.issuerCertificate;
      }
      // node ends the chain with the root pointing at itself; so do we.
      expect(a.issuerCertificate).to.equal(a);
      expect(b.issuerCertificate).to.equal(b);
    } finally {
      server.close();
    }
  });
});
