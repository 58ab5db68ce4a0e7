import { expect } from 'chai';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CertificateParseError, parseCertificate, parseCertificates, type Certificate } from '../../lib/pki/x509.js';
import { parsePrivateKey } from '../../lib/pki/keys.js';
import { pemDecode, pemDecodeFirst } from '../../lib/pki/pem.js';
import { encodeSubjectPublicKeyInfo } from '../../lib/pki/keys.js';
import { subjectAltNameString } from '../../lib/pki/peer-certificate.js';
import { OID } from '../../lib/pki/oids.js';
import { SYSTEM_BUNDLE_PATH } from '../../lib/pki/trust-store.js';
import { TLSError } from '../../lib/alert.js';
import { fixture, fixturePath } from './helpers.js';

const CERT_FIXTURES = [
  'root-ca.pem',
  'rsa-root-ca.pem',
  'intermediate-ca.pem',
  'unknown-root-ca.pem',
  'rsa-cert.pem',
  'ecdsa-p256-cert.pem',
  'ecdsa-p384-cert.pem',
  'ed25519-cert.pem',
  'rsa-pss-cert.pem',
  'expired-cert.pem',
  'wrong-name-cert.pem',
  'unknown-ca-cert.pem',
  'client-cert.pem',
];

function load(name: string): Certificate {
  return parseCertificate(pemDecodeFirst(fixture(name), 'CERTIFICATE').der);
}

/** node's X509Certificate.subject/issuer text: one "key=value" per line. */
function nodeNameText(c: Certificate, which: 'subject' | 'issuer'): string {
  return c[which].rdns.map((rdn) => rdn.map((a) => `${a.name}=${a.value}`).join('+')).join('\n');
}

/** "Subject Key Identifier" etc. from `openssl x509 -text`, as bytes. */
function opensslKeyId(file: string, label: string): Buffer | undefined {
  const text = execFileSync('openssl', ['x509', '-in', fixturePath(file), '-noout', '-text'], { encoding: 'utf8' });
  const m = new RegExp(`${label}:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(text);
  return m ? Buffer.from(m[1]!.replace(/:/g, ''), 'hex') : undefined;
}

describe('pki/x509 (RFC 5280 §4.1)', () => {
  describe('every fixture parses and agrees with Node (OpenSSL)', () => {
    for (const file of CERT_FIXTURES) {
      it(`${file}: subject, issuer, serial, validity, SAN, CA flag, EKU, public key and fingerprint match`, () => {
        const pem = fixture(file);
        const ours = parseCertificates(pem)[0]!;
        const node = new crypto.X509Certificate(pem);
        expect(ours.version).to.equal(3);
        expect(nodeNameText(ours, 'subject')).to.equal(node.subject);
        expect(nodeNameText(ours, 'issuer')).to.equal(node.issuer);
        expect(ours.serial).to.equal(node.serialNumber);
        expect(ours.notBefore.getTime()).to.equal(new Date(node.validFrom).getTime());
        expect(ours.notAfter.getTime()).to.equal(new Date(node.validTo).getTime());
        expect(subjectAltNameString(ours)).to.equal(node.subjectAltName);
        expect(ours.basicConstraints?.cA === true).to.equal(node.ca);
        expect(ours.extKeyUsage).to.deep.equal(node.keyUsage);
        expect(Buffer.from(ours.der).equals(node.raw)).to.equal(true);
        expect(Buffer.from(ours.spki.der).equals(node.publicKey.export({ type: 'spki', format: 'der' }))).to.equal(true);
        expect(ours.publicKey).to.not.equal(null);
        if (node.publicKey.asymmetricKeyType !== 'rsa-pss') {
          expect(Buffer.from(encodeSubjectPublicKeyInfo(ours.publicKey!)).equals(node.publicKey.export({ type: 'spki', format: 'der' }))).to.equal(true);
        }
        const sha256 = crypto.createHash('sha256').update(ours.der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
        expect(sha256).to.equal(node.fingerprint256);
        // The issuer's key verifies the signature, as OpenSSL says.
        expect(ours.selfIssued).to.equal(node.checkIssued(node));
        expect(ours.unknownCriticalExtensions).to.deep.equal([]);
      });
    }
  });

  describe('fields match openssl x509 -text', () => {
    it('a leaf: v3, serial, ECDSA P-256 key, basicConstraints cA false, keyUsage, EKU serverAuth, SAN, SKI and AKI', () => {
      const c = load('ecdsa-p256-cert.pem');
      const ica = load('intermediate-ca.pem');
      expect(c.signatureAlgorithm).to.deep.equal({ kind: 'ecdsa', hash: 'sha256' });
      expect(c.signatureAlgorithmName).to.equal('ecdsaWithSHA256');
      expect(c.subject.attributes).to.deep.equal(Object.assign(Object.create(null), { C: 'DE', O: 'qtls test PKI', CN: 'localhost' }));
      expect(c.issuer.text).to.equal('C=DE, O=qtls test PKI, OU=Issuing, CN=qtls Test Intermediate CA P-256');
      expect(c.basicConstraints).to.deep.equal({ cA: false });
      expect(c.keyUsage).to.deep.equal(['digitalSignature']);
      expect(c.extKeyUsage).to.deep.equal([OID.serverAuth]);
      expect(c.subjectAltName!.dns).to.deep.equal(['localhost']);
      expect(c.subjectAltName!.ip).to.deep.equal(['127.0.0.1', '0:0:0:0:0:0:0:1']);
      expect(Buffer.from(c.subjectKeyIdentifier!).equals(opensslKeyId('ecdsa-p256-cert.pem', 'Subject Key Identifier')!)).to.equal(true);
      expect(Buffer.from(c.authorityKeyIdentifier!.keyIdentifier!).equals(opensslKeyId('ecdsa-p256-cert.pem', 'Authority Key Identifier')!)).to.equal(true);
      expect(c.authorityKeyIdentifier!.keyIdentifier).to.deep.equal(ica.subjectKeyIdentifier);
      expect(c.publicKey).to.deep.equal(parsePrivateKey(fixture('ecdsa-p256-key.pem')).publicKey);
      const { critical } = c.extensions.find((e) => e.oid === OID.basicConstraints)!;
      expect(critical).to.equal(true);
    });

    it('the intermediate: cA true with pathLen 0, keyCertSign + cRLSign', () => {
      const c = load('intermediate-ca.pem');
      expect(c.basicConstraints).to.deep.equal({ cA: true, pathLen: 0 });
      expect(c.keyUsage).to.deep.equal(['keyCertSign', 'cRLSign']);
      expect(c.selfIssued).to.equal(false);
      expect(load('root-ca.pem').selfIssued).to.equal(true);
    });

    it('keys of every type: RSA-2048, P-256, P-384, Ed25519, id-RSASSA-PSS (as RSA)', () => {
      expect(load('rsa-cert.pem').publicKey).to.deep.equal(parsePrivateKey(fixture('rsa-key.pem')).publicKey);
      expect(load('ecdsa-p384-cert.pem').publicKey).to.deep.equal(parsePrivateKey(fixture('ecdsa-p384-key.pem')).publicKey);
      expect(load('ed25519-cert.pem').publicKey).to.deep.equal(parsePrivateKey(fixture('ed25519-key.pem')).publicKey);
      const pss = load('rsa-pss-cert.pem');
      expect(pss.spki.algorithm).to.equal(OID.rsassaPss);
      expect(pss.publicKey).to.deep.equal(parsePrivateKey(fixture('rsa-pss-key.pem')).publicKey);
      expect(load('rsa-root-ca.pem').signatureAlgorithm).to.deep.equal({ kind: 'rsa-pkcs1', hash: 'sha256' });
    });

    it('RSASSA-PSS signature parameters (RFC 4055 §3.1): SHA-256, MGF1-SHA-256, salt 32', () => {
      expect(load('rsa-pss-cert.pem').signatureAlgorithm).to.deep.equal({ kind: 'rsa-pss', hash: 'sha256', mgfHash: 'sha256', saltLength: 32 });
    });

    it('the client certificate: EKU clientAuth and an email SAN', () => {
      const c = load('client-cert.pem');
      expect(c.extKeyUsage).to.deep.equal([OID.clientAuth]);
      expect(c.subjectAltName!.email).to.deep.equal(['client@example.com']);
      expect(c.subject.attributes['CN']).to.equal('client');
    });

    it('validity dates of the expired leaf', () => {
      const c = load('expired-cert.pem');
      expect(c.notBefore.toISOString()).to.equal('2020-01-01T00:00:00.000Z');
      expect(c.notAfter.toISOString()).to.equal('2021-01-01T00:00:00.000Z');
    });
  });

  it('parses a version 1 certificate (no extensions)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qtls-v1-'));
    try {
      const key = fixturePath('ecdsa-p256-key.pem');
      execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=v1 test/O=Example', '-out', path.join(dir, 'v1.csr')], { stdio: 'pipe' });
      execFileSync('openssl', ['x509', '-req', '-in', path.join(dir, 'v1.csr'), '-signkey', key, '-days', '10', '-out', path.join(dir, 'v1.pem')], { stdio: 'pipe' });
      const pem = readFileSync(path.join(dir, 'v1.pem'), 'latin1');
      const c = parseCertificates(pem)[0]!;
      expect(c.version).to.equal(1);
      expect(c.extensions).to.deep.equal([]);
      expect(c.basicConstraints).to.equal(undefined);
      expect(c.serial).to.equal(new crypto.X509Certificate(pem).serialNumber);
      expect(c.subject.attributes).to.deep.equal(Object.assign(Object.create(null), { CN: 'v1 test', O: 'Example' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('malformed certificates are rejected with bad_certificate, never a crash', () => {
    const der = pemDecodeFirst(fixture('ecdsa-p256-cert.pem'), 'CERTIFICATE').der;

    it('rejects every truncation of a certificate', () => {
      for (let n = 0; n < der.length; n++) {
        expect(() => parseCertificate(der.subarray(0, n)), `length ${n}`).to.throw(CertificateParseError);
      }
    });

    it('rejects trailing bytes', () => {
      expect(() => parseCertificate(Uint8Array.from([...der, 0]))).to.throw(CertificateParseError, /trailing/);
    });

    it('rejects an inner signature algorithm that differs from the outer one (§4.1.1.2)', () => {
      // Swap ecdsa-with-SHA256 for ecdsa-with-SHA384 in the outer AlgorithmIdentifier only.
      const copy = Uint8Array.from(der);
      const oid = Buffer.from('06082a8648ce3d040302', 'hex');
      const last = Buffer.from(copy).lastIndexOf(oid);
      copy[last + oid.length - 1] = 0x03;
      expect(() => parseCertificate(copy)).to.throw(CertificateParseError, /differs/);
    });

    it('throws only TLSErrors for 3000 random single-byte corruptions', () => {
      let rejected = 0;
      for (let i = 0; i < 3000; i++) {
        const copy = Uint8Array.from(der);
        const pos = crypto.randomInt(copy.length);
        copy[pos] = crypto.randomInt(256);
        try {
          parseCertificate(copy);
        } catch (err) {
          expect(err, `byte ${pos}: ${(err as Error).message}`).to.be.instanceOf(TLSError);
          expect((err as TLSError).alert).to.equal('bad_certificate');
          rejected++;
        }
      }
      expect(rejected).to.be.greaterThan(0);
    });

    it('rejects garbage with a message naming the structure', () => {
      expect(() => parseCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).to.throw(CertificateParseError, /certificate: DER: Certificate/);
    });
  });

  describe(`Debian CA bundle ${SYSTEM_BUNDLE_PATH}`, () => {
    it('parses every certificate without error, agreeing with Node on names, serial and validity', function () {
      if (!existsSync(SYSTEM_BUNDLE_PATH)) {
        const msg = `${SYSTEM_BUNDLE_PATH} is missing: install the ca-certificates package`;
        if (process.env['CI']) throw new Error(msg);
        console.warn(`      skipped: ${msg}`);
        this.skip();
      }
      const text = readFileSync(SYSTEM_BUNDLE_PATH, 'latin1');
      const ders = pemDecode(text, 'CERTIFICATE');
      expect(ders.length).to.be.greaterThan(100);
      for (const der of ders) {
        const c = parseCertificate(der);
        const node = new crypto.X509Certificate(Buffer.from(der));
        const legacy = node.toLegacyObject();
        expect({ ...c.subject.attributes }, node.subject).to.deep.equal({ ...legacy.subject });
        expect({ ...c.issuer.attributes }, node.issuer).to.deep.equal({ ...legacy.issuer });
        expect(c.serial).to.equal(node.serialNumber);
        expect(c.notAfter.getTime()).to.equal(new Date(node.validTo).getTime());
        expect(c.basicConstraints?.cA === true).to.equal(node.ca);
      }
    });
  });
});
