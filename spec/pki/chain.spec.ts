import { expect } from 'chai';
import { verifyChain, MAX_CHAIN_CERTS, type ChainResult } from '../../lib/pki/chain.js';
import { generateKeyPair, issueCertificate, type IssueOptions } from '../../lib/pki/issue.js';
import { parsePrivateKey } from '../../lib/pki/keys.js';
import { parseCertificate, parseCertificates, type Certificate } from '../../lib/pki/x509.js';
import { systemCertificates } from '../../lib/pki/trust-store.js';
import { der } from '../../lib/pki/der.js';
import { fixture, LEAF_TYPES } from './helpers.js';

const NOW = new Date('2030-06-01T00:00:00Z');
const NB = new Date('2025-01-01T00:00:00Z');
const NA = new Date('2045-01-01T00:00:00Z');

const certs = (name: string): Certificate[] => parseCertificates(fixture(name));
const one = (name: string): Certificate => certs(name)[0]!;

const anchors = certs('ca.pem');
const root = one('root-ca.pem');
const rootKey = parsePrivateKey(fixture('root-ca-key.pem'));
const inter = one('intermediate-ca.pem');
const interKey = parsePrivateKey(fixture('intermediate-ca-key.pem'));

function expectOk(r: ChainResult, length: number): Certificate[] {
  if (!r.ok) expect.fail(`expected success, got ${r.alert} ${r.code}: ${r.reason}`);
  expect(r.path).to.have.length(length);
  return r.path;
}

function expectFail(r: ChainResult, alert: string, code: string, reason?: RegExp): void {
  if (r.ok) expect.fail(`expected ${alert}/${code}, got success`);
  expect(r.alert, r.reason).to.equal(alert);
  expect(r.code, r.reason).to.equal(code);
  if (reason) expect(r.reason).to.match(reason);
}

/** Throw-away certificates for cases openssl cannot easily make. */
function issue(o: Partial<IssueOptions> & Pick<IssueOptions, 'subject' | 'issuer' | 'issuerKey' | 'isCA' | 'publicKey'>): Certificate {
  return issueCertificate({ notBefore: NB, notAfter: NA, ...o }).certificate;
}

function leafUnder(issuer: Certificate, issuerKey: ReturnType<typeof parsePrivateKey>, extra: Partial<IssueOptions> = {}): Certificate {
  return issue({ subject: { CN: 'localhost' }, publicKey: generateKeyPair('P-256').publicKey, issuer, issuerKey, isCA: false, san: { dns: ['localhost'] }, extKeyUsage: ['serverAuth'], ...extra });
}

function subCA(issuer: Certificate, issuerKey: ReturnType<typeof parsePrivateKey>, cn: string, extra: Partial<IssueOptions> = {}) {
  const kp = generateKeyPair('P-256');
  return { cert: issue({ subject: { CN: cn }, publicKey: kp.publicKey, issuer, issuerKey, isCA: true, ...extra }), key: kp.privateKey };
}

describe('pki/chain (RFC 5280 §6.1 path validation)', () => {
  describe('good chains', () => {
    for (const t of LEAF_TYPES) {
      it(`accepts the ${t} leaf + intermediate up to the P-256 root`, () => {
        const path = expectOk(verifyChain({ chain: certs(`${t}-chain.pem`), trustAnchors: anchors, now: NOW, host: 'localhost' }), 3);
        expect(path[2]!.subject.text).to.equal(root.subject.text);
      });
    }

    it('accepts an RSASSA-PSS-signed certificate under the RSA root', () => {
      expectOk(verifyChain({ chain: certs('rsa-pss-cert.pem'), trustAnchors: anchors, now: NOW }), 2);
    });

    it('accepts intermediates in any order, ignores extra certificates, and a trust anchor sent in the chain', () => {
      const [leaf, ica] = certs('ecdsa-p256-chain.pem');
      const chain = [leaf!, one('unknown-root-ca.pem'), root, one('ed25519-cert.pem'), ica!];
      const path = expectOk(verifyChain({ chain, trustAnchors: anchors, now: NOW }), 3);
      expect(path.map((c) => c.subject.attributes['CN'])).to.deep.equal(['localhost', 'qtls Test Intermediate CA P-256', 'qtls Test Root CA P-256']);
    });

    it('accepts a self-signed leaf that is itself a trust anchor', () => {
      const kp = generateKeyPair('ed25519');
      const selfLeaf = issue({ subject: { CN: 'localhost' }, publicKey: kp.publicKey, issuer: 'self', issuerKey: kp.privateKey, isCA: false, san: { dns: ['localhost'] }, extKeyUsage: ['serverAuth'] });
      expectOk(verifyChain({ chain: [selfLeaf], trustAnchors: [selfLeaf], now: NOW, host: 'localhost' }), 1);
      expectOk(verifyChain({ chain: [root], trustAnchors: anchors, now: NOW }), 1);
    });

    it('finds the right anchor among the whole system store plus the test roots', () => {
      const many = [...systemCertificates(), ...anchors];
      expectOk(verifyChain({ chain: certs('ecdsa-p384-chain.pem'), trustAnchors: many, now: NOW }), 3);
    });

    it('accepts a client certificate for purpose client', () => {
      expectOk(verifyChain({ chain: certs('client-chain.pem'), trustAnchors: anchors, now: NOW, purpose: 'client' }), 3);
    });

    it('accepts a path through a freshly issued sub-CA when pathLen allows it', () => {
      const ca1 = subCA(root, rootKey, 'Level 1', { pathLen: 1 });
      const ca2 = subCA(ca1.cert, ca1.key, 'Level 2', { pathLen: 0 });
      const leaf = leafUnder(ca2.cert, ca2.key);
      expectOk(verifyChain({ chain: [leaf, ca2.cert, ca1.cert], trustAnchors: [root], now: NOW }), 4);
    });
  });

  describe('validity period', () => {
    it('rejects an expired leaf with certificate_expired', () => {
      expectFail(verifyChain({ chain: certs('expired-chain.pem'), trustAnchors: anchors, now: NOW }), 'certificate_expired', 'CERT_HAS_EXPIRED', /has expired/);
    });

    it('rejects a chain before its notBefore with certificate_expired (not yet valid)', () => {
      expectFail(verifyChain({ chain: certs('ecdsa-p256-chain.pem'), trustAnchors: anchors, now: new Date('2024-12-31T23:59:59Z') }), 'certificate_expired', 'CERT_NOT_YET_VALID', /not yet valid/);
    });

    it('rejects when an intermediate has expired', () => {
      const shortCA = subCA(root, rootKey, 'Short-lived CA', { notAfter: new Date('2026-01-01T00:00:00Z') });
      const leaf = leafUnder(shortCA.cert, shortCA.key);
      expectFail(verifyChain({ chain: [leaf, shortCA.cert], trustAnchors: [root], now: NOW }), 'certificate_expired', 'CERT_HAS_EXPIRED', /issuer certificate "Short-lived CA" has expired/);
    });

    it('uses the current time by default', () => {
      expectFail(verifyChain({ chain: certs('expired-chain.pem'), trustAnchors: anchors }), 'certificate_expired', 'CERT_HAS_EXPIRED');
    });
  });

  describe('unknown CA', () => {
    it('rejects a leaf signed by a root that is not trusted', () => {
      expectFail(verifyChain({ chain: certs('unknown-ca-cert.pem'), trustAnchors: anchors, now: NOW }), 'unknown_ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    it('rejects an untrusted root sent in the chain (self-signed certificate in chain)', () => {
      expectFail(verifyChain({ chain: [one('unknown-ca-cert.pem'), one('unknown-root-ca.pem')], trustAnchors: anchors, now: NOW }), 'unknown_ca', 'SELF_SIGNED_CERT_IN_CHAIN', /self-signed/);
    });

    it('rejects an untrusted self-signed leaf', () => {
      expectFail(verifyChain({ chain: [one('unknown-root-ca.pem')], trustAnchors: anchors, now: NOW }), 'unknown_ca', 'DEPTH_ZERO_SELF_SIGNED_CERT', /self-signed/);
    });

    it('rejects a leaf whose intermediate was not sent', () => {
      expectFail(verifyChain({ chain: certs('ecdsa-p256-cert.pem'), trustAnchors: anchors, now: NOW }), 'unknown_ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    it('rejects everything with an empty trust store, and copes with the whole system store as anchors', () => {
      expectFail(verifyChain({ chain: certs('rsa-chain.pem'), trustAnchors: [], now: NOW }), 'unknown_ca', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
      const r = verifyChain({ chain: certs('rsa-chain.pem'), trustAnchors: systemCertificates(), now: NOW });
      expect(r.ok).to.equal(false);
    });
  });

  describe('purpose (extendedKeyUsage)', () => {
    it('rejects a client certificate offered as a server certificate', () => {
      expectFail(verifyChain({ chain: certs('client-chain.pem'), trustAnchors: anchors, now: NOW, purpose: 'server' }), 'unsupported_certificate', 'INVALID_PURPOSE', /does not allow serverAuth/);
    });

    it('rejects a server certificate offered as a client certificate', () => {
      expectFail(verifyChain({ chain: certs('ecdsa-p256-chain.pem'), trustAnchors: anchors, now: NOW, purpose: 'client' }), 'unsupported_certificate', 'INVALID_PURPOSE', /does not allow clientAuth/);
    });

    it('accepts a leaf without extendedKeyUsage for either purpose, and anyExtendedKeyUsage', () => {
      const leaf = leafUnder(inter, interKey, { extKeyUsage: undefined });
      expectOk(verifyChain({ chain: [leaf, inter], trustAnchors: [root], now: NOW, purpose: 'client' }), 3);
      const any = leafUnder(inter, interKey, { extKeyUsage: ['2.5.29.37.0'] });
      expectOk(verifyChain({ chain: [any, inter], trustAnchors: [root], now: NOW }), 3);
    });

    it('rejects an intermediate whose extendedKeyUsage excludes the purpose', () => {
      const clientOnly = subCA(root, rootKey, 'Client-only CA', { extKeyUsage: ['clientAuth'] });
      const leaf = leafUnder(clientOnly.cert, clientOnly.key);
      expectFail(verifyChain({ chain: [leaf, clientOnly.cert], trustAnchors: [root], now: NOW }), 'unsupported_certificate', 'INVALID_PURPOSE');
    });
  });

  describe('CA constraints', () => {
    it('rejects an issuer whose basicConstraints says cA FALSE', () => {
      const notCA = subCA(root, rootKey, 'Not a CA', { isCA: false, keyUsage: ['digitalSignature', 'keyCertSign'] });
      const leaf = leafUnder(notCA.cert, notCA.key);
      expectFail(verifyChain({ chain: [leaf, notCA.cert], trustAnchors: [root], now: NOW }), 'bad_certificate', 'INVALID_CA', /is not a CA/);
    });

    it('rejects a v3 issuer without basicConstraints', () => {
      const noBC = subCA(root, rootKey, 'No basicConstraints', { omitBasicConstraints: true });
      const leaf = leafUnder(noBC.cert, noBC.key);
      expectFail(verifyChain({ chain: [leaf, noBC.cert], trustAnchors: [root], now: NOW }), 'bad_certificate', 'INVALID_CA');
    });

    it('rejects a leaf certificate used as an issuer (the server leaf signs another leaf)', () => {
      const leafKey = parsePrivateKey(fixture('ecdsa-p256-key.pem'));
      const leaf = one('ecdsa-p256-cert.pem');
      const forged = leafUnder(leaf, leafKey, { subject: { CN: 'victim.example' } });
      expectFail(verifyChain({ chain: [forged, leaf, inter], trustAnchors: [root], now: NOW }), 'bad_certificate', 'INVALID_CA');
    });

    it('rejects an issuer whose keyUsage lacks keyCertSign', () => {
      const noSign = subCA(root, rootKey, 'No keyCertSign', { keyUsage: ['digitalSignature', 'cRLSign'] });
      const leaf = leafUnder(noSign.cert, noSign.key);
      expectFail(verifyChain({ chain: [leaf, noSign.cert], trustAnchors: [root], now: NOW }), 'bad_certificate', 'KEYUSAGE_NO_CERTSIGN');
    });

    it('rejects a path longer than the fixture intermediate pathLen 0 allows', () => {
      const sub = subCA(inter, interKey, 'Below pathlen 0');
      const leaf = leafUnder(sub.cert, sub.key);
      expectFail(verifyChain({ chain: [leaf, sub.cert, inter], trustAnchors: [root], now: NOW }), 'bad_certificate', 'PATH_LENGTH_EXCEEDED', /pathLenConstraint/);
    });

    it('rejects pathLen exceeded further up the path (root-issued CA with pathLen 1, two CAs below)', () => {
      const ca1 = subCA(root, rootKey, 'L1', { pathLen: 1 });
      const ca2 = subCA(ca1.cert, ca1.key, 'L2');
      const ca3 = subCA(ca2.cert, ca2.key, 'L3');
      const leaf = leafUnder(ca3.cert, ca3.key);
      expectFail(verifyChain({ chain: [leaf, ca3.cert, ca2.cert, ca1.cert], trustAnchors: [root], now: NOW }), 'bad_certificate', 'PATH_LENGTH_EXCEEDED', /"L1" allows 1/);
    });

    it('rejects a trust anchor with pathLen 0 above an intermediate', () => {
      const kp = generateKeyPair('P-256');
      const strictRoot = issue({ subject: { CN: 'Strict Root' }, publicKey: kp.publicKey, issuer: 'self', issuerKey: kp.privateKey, isCA: true, pathLen: 0 });
      const ca = subCA(strictRoot, kp.privateKey, 'Under strict root');
      const leaf = leafUnder(ca.cert, ca.key);
      expectFail(verifyChain({ chain: [leaf, ca.cert], trustAnchors: [strictRoot], now: NOW }), 'bad_certificate', 'PATH_LENGTH_EXCEEDED');
      expectOk(verifyChain({ chain: [leafUnder(strictRoot, kp.privateKey)], trustAnchors: [strictRoot], now: NOW }), 2);
    });
  });

  describe('critical extensions', () => {
    it('rejects a leaf with an unknown critical extension', () => {
      const leaf = leafUnder(inter, interKey, { extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: der.null() }] });
      expect(leaf.unknownCriticalExtensions).to.deep.equal(['1.3.6.1.4.1.99999.1']);
      expectFail(verifyChain({ chain: [leaf, inter], trustAnchors: [root], now: NOW }), 'unsupported_certificate', 'UNHANDLED_CRITICAL_EXTENSION', /1\.3\.6\.1\.4\.1\.99999\.1/);
    });

    it('rejects an intermediate with an unknown critical extension', () => {
      // policyConstraints (§4.2.1.11): not implemented, so a critical one must stop the path.
      const ca = subCA(root, rootKey, 'Critical CA', { extraExtensions: [{ oid: '2.5.29.36', critical: true, value: der.sequence(der.implicit(0, Uint8Array.of(0))) }] });
      const leaf = leafUnder(ca.cert, ca.key);
      expectFail(verifyChain({ chain: [leaf, ca.cert], trustAnchors: [root], now: NOW }), 'unsupported_certificate', 'UNHANDLED_CRITICAL_EXTENSION', /policyConstraints/);
    });

    it('ignores an unknown non-critical extension', () => {
      const leaf = leafUnder(inter, interKey, { extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, value: der.null() }] });
      expectOk(verifyChain({ chain: [leaf, inter], trustAnchors: [root], now: NOW }), 3);
    });
  });

  describe('signatures', () => {
    it('rejects a certificate whose signature does not verify', () => {
      const good = one('ecdsa-p256-cert.pem');
      const bad = Uint8Array.from(good.der);
      bad[bad.length - 5] ^= 0x01; // inside the ECDSA signature's s
      const tampered = parseCertificate(bad);
      expectFail(verifyChain({ chain: [tampered, inter], trustAnchors: [root], now: NOW }), 'bad_certificate', 'CERT_SIGNATURE_FAILURE', /does not verify/);
    });

    it('rejects a forged intermediate with the right name but another key, and finds the genuine one when both are sent', () => {
      const kp = generateKeyPair('P-256');
      const impostor = issue({
        subject: { C: 'DE', O: 'qtls test PKI', OU: 'Issuing', CN: 'qtls Test Intermediate CA P-256' },
        publicKey: kp.publicKey,
        issuer: 'self',
        issuerKey: kp.privateKey,
        isCA: true,
      });
      expect(impostor.subject.der).to.deep.equal(inter.subject.der);
      const leaf = one('ecdsa-p256-cert.pem');
      // The impostor's key (no SKI match) is skipped or fails the signature; alone, nothing verifies.
      const r = verifyChain({ chain: [leaf, impostor], trustAnchors: [root], now: NOW });
      expect(r.ok).to.equal(false);
      expectOk(verifyChain({ chain: [leaf, impostor, inter], trustAnchors: [root], now: NOW }), 3);
    });

    it('does not trust a certificate that names a trusted root but was signed by another key (unknown_ca)', () => {
      const kp = generateKeyPair('P-256');
      const fakeRoot = issue({ subject: { C: 'DE', O: 'qtls test PKI', CN: 'qtls Test Root CA P-256' }, publicKey: kp.publicKey, issuer: 'self', issuerKey: kp.privateKey, isCA: true });
      const leaf = leafUnder(fakeRoot, kp.privateKey);
      expectFail(verifyChain({ chain: [leaf], trustAnchors: anchors, now: NOW }), 'unknown_ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });
  });

  describe('hostile chains', () => {
    it('rejects an empty chain and an over-long one', () => {
      expectFail(verifyChain({ chain: [], trustAnchors: anchors, now: NOW }), 'certificate_unknown', 'NO_CERTIFICATE');
      const many = new Array<Certificate>(MAX_CHAIN_CERTS + 1).fill(inter);
      expectFail(verifyChain({ chain: [one('ecdsa-p256-cert.pem'), ...many], trustAnchors: anchors, now: NOW }), 'bad_certificate', 'CERT_CHAIN_TOO_LONG');
    });

    it('terminates quickly on a web of same-named CAs that all cross-sign each other', function () {
      this.timeout(20000);
      // 8 CA keys with one name; certificates for every key signed by every other key.
      const keys = Array.from({ length: 8 }, () => generateKeyPair('P-256'));
      const name = { CN: 'Loop CA' };
      const selfs = keys.map((k) => issue({ subject: name, publicKey: k.publicKey, issuer: 'self', issuerKey: k.privateKey, isCA: true }));
      const web: Certificate[] = [];
      for (let i = 0; i < keys.length; i++) {
        for (let j = 0; j < keys.length; j++) {
          if (i !== j && web.length < MAX_CHAIN_CERTS - 1) web.push(issue({ subject: name, publicKey: keys[i]!.publicKey, issuer: selfs[j]!, issuerKey: keys[j]!.privateKey, isCA: true }));
        }
      }
      const leaf = leafUnder(selfs[3]!, keys[3]!.privateKey);
      const start = Date.now();
      const r = verifyChain({ chain: [leaf, ...web], trustAnchors: anchors, now: NOW });
      const ms = Date.now() - start;
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.code, r.reason).to.be.oneOf(['CERT_CHAIN_TOO_COMPLEX', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG']);
      expect(ms).to.be.lessThan(5000);
    });
  });

  describe('host name', () => {
    it('rejects the wrong-name leaf for localhost with bad_certificate, and accepts it for wrong.example', () => {
      expectFail(verifyChain({ chain: certs('wrong-name-chain.pem'), trustAnchors: anchors, now: NOW, host: 'localhost' }), 'bad_certificate', 'ERR_TLS_CERT_ALTNAME_INVALID', /wrong\.example/);
      expectOk(verifyChain({ chain: certs('wrong-name-chain.pem'), trustAnchors: anchors, now: NOW, host: 'wrong.example' }), 3);
      expectOk(verifyChain({ chain: certs('rsa-chain.pem'), trustAnchors: anchors, now: NOW, host: '127.0.0.1' }), 3);
    });
  });
});
