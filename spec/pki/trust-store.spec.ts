import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { loadCertificates, resetSystemCertificates, rootCertificates, systemCertificates, SYSTEM_BUNDLE_PATH } from '../../lib/pki/trust-store.js';
import { pemDecodeFirst } from '../../lib/pki/pem.js';
import { TLSError } from '../../lib/alert.js';
import { fixture } from './helpers.js';

describe('pki/trust-store', () => {
  describe('systemCertificates()', () => {
    it('reads the Debian bundle once and caches it', function () {
      if (!existsSync(SYSTEM_BUNDLE_PATH)) {
        const msg = `${SYSTEM_BUNDLE_PATH} is missing: install the ca-certificates package`;
        if (process.env['CI']) throw new Error(msg);
        console.warn(`      skipped: ${msg}`);
        this.skip();
      }
      resetSystemCertificates();
      const a = systemCertificates();
      expect(a.length).to.be.greaterThan(100);
      expect(systemCertificates()).to.equal(a); // same array: cached
      expect(rootCertificates()).to.have.length(a.length);
      expect(a.every((c) => c.basicConstraints?.cA !== false)).to.equal(true);
    });

    it('honours SSL_CERT_FILE and yields an empty store when the file is missing', () => {
      const saved = process.env['SSL_CERT_FILE'];
      try {
        process.env['SSL_CERT_FILE'] = '/nonexistent/bundle.pem';
        resetSystemCertificates();
        expect(systemCertificates()).to.deep.equal([]);
      } finally {
        if (saved === undefined) delete process.env['SSL_CERT_FILE'];
        else process.env['SSL_CERT_FILE'] = saved;
        resetSystemCertificates();
      }
    });
  });

  describe("loadCertificates(ca) — what node's ca option accepts", () => {
    it('a PEM string with several certificates', () => {
      expect(loadCertificates(fixture('ca.pem')).map((c) => c.subject.attributes['CN'])).to.deep.equal(['qtls Test Root CA P-256', 'qtls Test Root CA RSA']);
    });

    it('a Buffer, and an array mixing strings and Buffers', () => {
      expect(loadCertificates(Buffer.from(fixture('root-ca.pem')))).to.have.length(1);
      const list = loadCertificates([fixture('root-ca.pem'), Buffer.from(fixture('ecdsa-p256-chain.pem'))]);
      expect(list).to.have.length(3);
    });

    it('a Buffer holding one DER certificate', () => {
      const der = pemDecodeFirst(fixture('root-ca.pem'), 'CERTIFICATE').der;
      expect(loadCertificates(Buffer.from(der))[0]!.subject.attributes['CN']).to.equal('qtls Test Root CA P-256');
    });

    it('rejects an entry without any certificate, and a corrupt certificate', () => {
      expect(() => loadCertificates('not a certificate')).to.throw(TLSError, /no "CERTIFICATE" PEM block/);
      const broken = fixture('root-ca.pem').replace(/\n[A-Za-z0-9+/]{64}\n/, '\nAAAA\n');
      expect(() => loadCertificates(broken)).to.throw(TLSError);
    });

    it('reads the system bundle text like any other ca value', function () {
      if (!existsSync(SYSTEM_BUNDLE_PATH)) this.skip();
      expect(loadCertificates(readFileSync(SYSTEM_BUNDLE_PATH)).length).to.equal(systemCertificates().length);
    });
  });
});
