import { expect } from 'chai';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, issueCertificate, keyIdentifier } from '../../lib/pki/issue.js';
import { parsePrivateKey } from '../../lib/pki/keys.js';
import { parseCertificates } from '../../lib/pki/x509.js';
import { OID } from '../../lib/pki/oids.js';
import { fixture } from './helpers.js';

const NB = new Date('2025-01-01T00:00:00Z');
const NA = new Date('2045-01-01T00:00:00Z');

function opensslVerify(files: { ca: string; untrusted?: string; leaf: string }, extra: string[] = []): { ok: boolean; out: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtls-issue-'));
  try {
    writeFileSync(path.join(dir, 'ca.pem'), files.ca);
    writeFileSync(path.join(dir, 'leaf.pem'), files.leaf);
    const args = ['verify', '-CAfile', path.join(dir, 'ca.pem'), ...extra];
    if (files.untrusted) {
      writeFileSync(path.join(dir, 'untrusted.pem'), files.untrusted);
      args.push('-untrusted', path.join(dir, 'untrusted.pem'));
    }
    args.push(path.join(dir, 'leaf.pem'));
    try {
      return { ok: true, out: execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' }) };
    } catch (err) {
      return { ok: false, out: String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('pki/issue (issuing X.509 v3 certificates)', () => {
  const root = generateKeyPair('P-256');
  const rootCert = issueCertificate({
    subject: { C: 'DE', O: 'KME sim', CN: 'KME Root' },
    publicKey: root.publicKey,
    issuer: 'self',
    issuerKey: root.privateKey,
    notBefore: NB,
    notAfter: NA,
    isCA: true,
  });
  const inter = generateKeyPair('P-384');
  const interCert = issueCertificate({
    subject: { O: 'KME sim', CN: 'KME Intermediate' },
    publicKey: inter.publicKey,
    issuer: rootCert.certificate,
    issuerKey: root.privateKey,
    notBefore: NB,
    notAfter: NA,
    isCA: true,
    pathLen: 0,
  });

  it('generateKeyPair returns a key and its PKCS#8 PEM, readable by OpenSSL and by parsePrivateKey', () => {
    for (const t of ['P-256', 'P-384', 'ed25519'] as const) {
      const kp = generateKeyPair(t);
      expect(parsePrivateKey(kp.pem)).to.deep.equal(kp.privateKey);
      const nodeKey = crypto.createPrivateKey(kp.pem);
      expect(nodeKey.asymmetricKeyType).to.equal(t === 'ed25519' ? 'ed25519' : 'ec');
    }
  });

  for (const keyType of ['P-256', 'ed25519', 'rsa'] as const) {
    it(`a ${keyType} server leaf under root → intermediate is accepted by openssl verify and parsed by Node`, () => {
      const leafKey = keyType === 'rsa' ? parsePrivateKey(fixture('rsa-key.pem')) : generateKeyPair(keyType).privateKey;
      const leaf = issueCertificate({
        subject: { CN: 'kme-a.example' },
        publicKey: leafKey.publicKey,
        issuer: interCert.certificate,
        issuerKey: inter.privateKey,
        serial: 0x1234,
        notBefore: NB,
        notAfter: new Date('2055-06-01T12:00:00Z'), // GeneralizedTime (>= 2050)
        isCA: false,
        san: { dns: ['kme-a.example', 'localhost'], ip: ['127.0.0.1', '::1'], uri: ['urn:kme:a'] },
        extKeyUsage: ['serverAuth', 'clientAuth'],
      });
      const v = opensslVerify({ ca: rootCert.pem, untrusted: interCert.pem, leaf: leaf.pem }, ['-purpose', 'sslserver']);
      expect(v.ok, v.out).to.equal(true);

      const x = new crypto.X509Certificate(leaf.pem);
      const xi = new crypto.X509Certificate(interCert.pem);
      expect(x.checkIssued(xi)).to.equal(true);
      expect(x.verify(xi.publicKey)).to.equal(true);
      expect(x.subject).to.equal('CN=kme-a.example');
      expect(x.issuer).to.equal('O=KME sim\nCN=KME Intermediate');
      expect(x.serialNumber).to.equal('1234');
      expect(x.subjectAltName).to.equal('DNS:kme-a.example, DNS:localhost, URI:urn:kme:a, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(new Date(x.validTo).toISOString()).to.equal('2055-06-01T12:00:00.000Z');
      expect(x.ca).to.equal(false);
      expect(x.keyUsage).to.deep.equal([OID.serverAuth, OID.clientAuth]);
      expect(x.checkHost('localhost')).to.equal('localhost');
      expect(x.checkIP('::1')).to.equal('::1');
      expect(leaf.certificate.keyUsage).to.deep.equal(keyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
      expect(leaf.certificate.signatureAlgorithm).to.deep.equal({ kind: 'ecdsa', hash: 'sha384' });
      expect(leaf.certificate.authorityKeyIdentifier!.keyIdentifier).to.deep.equal(interCert.certificate.subjectKeyIdentifier);
    });
  }

  it('the CA certificates carry cA, pathLen, keyCertSign and an SKI as OpenSSL computes it', () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: interCert.pem, encoding: 'utf8' });
    expect(text).to.match(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).to.match(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).to.include('Signature Algorithm: ecdsa-with-SHA256');
    const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text)![1]!.replace(/:/g, '').toLowerCase();
    expect(Buffer.from(keyIdentifier(inter.publicKey)).toString('hex')).to.equal(ski);
    expect(new crypto.X509Certificate(rootCert.pem).ca).to.equal(true);
    expect(rootCert.certificate.selfIssued).to.equal(true);
  });

  it('signs with Ed25519 and with sha256WithRSAEncryption issuer keys', () => {
    const ed = generateKeyPair('ed25519');
    const edRoot = issueCertificate({ subject: { CN: 'Ed Root' }, publicKey: ed.publicKey, issuer: 'self', issuerKey: ed.privateKey, notBefore: NB, notAfter: NA, isCA: true });
    expect(edRoot.certificate.signatureAlgorithm).to.deep.equal({ kind: 'ed25519' });
    const rsaKey = parsePrivateKey(fixture('rsa-root-ca-key.pem'));
    const rsaRootCert = parseCertificates(fixture('rsa-root-ca.pem'))[0]!;
    const leafKey = generateKeyPair('P-256');
    const leaf = issueCertificate({ subject: { CN: 'rsa-issued' }, publicKey: leafKey.publicKey, issuer: rsaRootCert, issuerKey: rsaKey, notBefore: NB, notAfter: NA, isCA: false, san: { dns: ['rsa-issued'] } });
    expect(leaf.certificate.signatureAlgorithm).to.deep.equal({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(opensslVerify({ ca: fixture('rsa-root-ca.pem'), leaf: leaf.pem }).ok).to.equal(true);
    expect(opensslVerify({ ca: edRoot.pem, leaf: edRoot.pem }).ok).to.equal(true);
  });

  it('refuses an issuer key that does not belong to the issuer certificate', () => {
    const other = generateKeyPair('P-256');
    expect(() =>
      issueCertificate({ subject: { CN: 'x' }, publicKey: other.publicKey, issuer: rootCert.certificate, issuerKey: other.privateKey, notBefore: NB, notAfter: NA, isCA: false }),
    ).to.throw(TypeError, /does not match the issuer/);
  });

  it('generates distinct positive random serials by default', () => {
    const a = issueCertificate({ subject: { CN: 'a' }, publicKey: root.publicKey, issuer: 'self', issuerKey: root.privateKey, notBefore: NB, notAfter: NA, isCA: false });
    const b = issueCertificate({ subject: { CN: 'a' }, publicKey: root.publicKey, issuer: 'self', issuerKey: root.privateKey, notBefore: NB, notAfter: NA, isCA: false });
    expect(a.certificate.serialNumber > 0n).to.equal(true);
    expect(a.certificate.serial).to.not.equal(b.certificate.serial);
  });
});
