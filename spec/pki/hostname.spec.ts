import { expect } from 'chai';
import tls from 'node:tls';
import { checkServerIdentity, HostnameMismatchError, matchesDnsName, parseIp } from '../../lib/pki/hostname.js';
import { parseCertificates } from '../../lib/pki/x509.js';
import { fixture } from './helpers.js';

interface Row {
  host: string;
  san?: string;
  cn?: string;
  ok: boolean;
  why: string;
  /** Set where we are deliberately stricter than node (partial-label wildcards, empty labels): skip the node comparison. */
  node?: boolean;
}

const table: Row[] = [
  { host: 'example.com', san: 'DNS:example.com', ok: true, why: 'exact dNSName' },
  { host: 'EXAMPLE.com', san: 'DNS:example.COM', ok: true, why: 'case-insensitive' },
  { host: 'example.com.', san: 'DNS:example.com', ok: true, why: 'trailing dot on the host ignored' },
  { host: 'example.com', san: 'DNS:example.com.', ok: true, why: 'trailing dot on the pattern ignored' },
  { host: 'www.example.com', san: 'DNS:example.com', ok: false, why: 'no implicit subdomains' },
  { host: 'example.com', san: 'DNS:other.example, DNS:example.com', ok: true, why: 'any dNSName may match' },
  { host: 'a.example.com', san: 'DNS:*.example.com', ok: true, why: 'wildcard is the whole left-most label' },
  { host: 'example.com', san: 'DNS:*.example.com', ok: false, why: 'wildcard needs a label' },
  { host: 'a.b.example.com', san: 'DNS:*.example.com', ok: false, why: 'wildcard matches exactly one label' },
  { host: '.example.com', san: 'DNS:*.example.com', ok: false, why: 'a wildcard never matches an empty label', node: true },
  { host: 'foo.example.com', san: 'DNS:f*o.example.com', ok: false, why: 'no partial-label wildcard', node: true },
  { host: 'foo.example.com', san: 'DNS:foo*.example.com', ok: false, why: 'no partial-label wildcard', node: true },
  { host: 'a.b.example.com', san: 'DNS:a.*.example.com', ok: false, why: 'wildcard only in the left-most label' },
  { host: 'a.com', san: 'DNS:*.com', ok: false, why: 'no wildcard over a TLD (*.com)' },
  { host: 'com', san: 'DNS:*', ok: false, why: 'lone * never matches' },
  { host: 'a.example.com', san: 'DNS:**.example.com', ok: false, why: 'two stars' },
  { host: 'a.xn--bcher-kva.example', san: 'DNS:*.xn--bcher-kva.example', ok: true, why: 'wildcard left of an A-label' },
  { host: 'xn--a.example.com', san: 'DNS:xn--*.example.com', ok: false, why: 'no wildcard inside an A-label' },
  { host: 'a..example.com', san: 'DNS:a..example.com', ok: false, why: 'empty labels never match' },
  { host: 'bücher.example', san: 'DNS:bücher.example', ok: false, why: 'non-ASCII pattern never matches' },
  { host: '127.0.0.1', san: 'IP Address:127.0.0.1', ok: true, why: 'IPv4 iPAddress' },
  { host: '127.0.0.2', san: 'IP Address:127.0.0.1', ok: false, why: 'different IPv4' },
  { host: '127.0.0.1', san: 'DNS:127.0.0.1', ok: false, why: 'an IP host never matches a dNSName' },
  { host: '127.0.0.1', cn: '127.0.0.1', ok: false, why: 'an IP host never matches the CN' },
  { host: '::1', san: 'IP Address:0:0:0:0:0:0:0:1', ok: true, why: 'IPv6 compressed vs full form' },
  { host: '0:0:0:0:0:0:0:1', san: 'IP Address:0:0:0:0:0:0:0:1', ok: true, why: 'IPv6 full form' },
  { host: '2001:db8::1', san: 'IP Address:2001:DB8:0:0:0:0:0:1', ok: true, why: 'IPv6 case-insensitive' },
  { host: '::ffff:127.0.0.1', san: 'IP Address:127.0.0.1', ok: false, why: 'IPv4-mapped IPv6 is a different address' },
  { host: 'localhost', san: 'IP Address:127.0.0.1', cn: 'localhost', ok: true, why: 'CN consulted when the SANs hold only IPs' },
  { host: 'example.com', cn: 'example.com', ok: true, why: 'CN used without any SAN' },
  { host: 'a.example.com', cn: '*.example.com', ok: true, why: 'wildcard CN without SAN' },
  { host: 'example.com', san: 'DNS:other.example', cn: 'example.com', ok: false, why: 'CN ignored when a dNSName SAN exists' },
  { host: 'example.com', san: 'URI:https://x.example/', cn: 'example.com', ok: true, why: 'CN consulted when no dNSName SAN' },
  { host: 'example.com', ok: false, why: 'no names at all' },
  { host: '', san: 'DNS:example.com', ok: false, why: 'empty host' },
];

describe('pki/hostname (RFC 6125, node:tls checkServerIdentity semantics)', () => {
  for (const row of table) {
    const desc = `${row.ok ? 'matches' : 'rejects'} ${JSON.stringify(row.host)} against ${row.san ?? ''}${row.cn ? ` CN=${row.cn}` : ''} (${row.why})`;
    it(desc, () => {
      const cert = { subject: row.cn ? { CN: row.cn } : {}, subjectaltname: row.san };
      const err = checkServerIdentity(row.host, cert);
      if (row.ok) expect(err).to.equal(undefined);
      else {
        expect(err).to.be.instanceOf(HostnameMismatchError);
        expect(err!.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
      }
      if (row.node === undefined) {
        const nodeErr = tls.checkServerIdentity(row.host, cert as unknown as tls.PeerCertificate);
        expect(nodeErr === undefined, 'node agrees').to.equal(row.ok);
      }
    });
  }

  it('node accepts partial-label wildcards and empty host labels that we reject (documented divergence)', () => {
    const cert = { subject: {}, subjectaltname: 'DNS:f*o.example.com' } as unknown as tls.PeerCertificate;
    expect(tls.checkServerIdentity('foo.example.com', cert)).to.equal(undefined);
    expect(checkServerIdentity('foo.example.com', cert)).to.be.instanceOf(HostnameMismatchError);
    const star = { subject: {}, subjectaltname: 'DNS:*.example.com' } as unknown as tls.PeerCertificate;
    expect(tls.checkServerIdentity('.example.com', star)).to.equal(undefined);
    expect(checkServerIdentity('.example.com', star)).to.be.instanceOf(HostnameMismatchError);
  });

  describe('on parsed fixture certificates', () => {
    const leaf = parseCertificates(fixture('ecdsa-p256-cert.pem'))[0]!;
    const wrong = parseCertificates(fixture('wrong-name-cert.pem'))[0]!;
    it('the localhost leaf matches localhost, 127.0.0.1 and ::1', () => {
      for (const h of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '::1']) expect(checkServerIdentity(h, leaf), h).to.equal(undefined);
    });
    it('the localhost leaf does not match other names', () => {
      for (const h of ['example.com', '127.0.0.2', '::2', 'localhost.localdomain']) expect(checkServerIdentity(h, leaf), h).to.be.instanceOf(HostnameMismatchError);
    });
    it('the wrong-name leaf fails for localhost with a reason naming its altnames', () => {
      const err = checkServerIdentity('localhost', wrong)!;
      expect(err.message).to.equal("Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:wrong.example");
      expect(checkServerIdentity('wrong.example', wrong)).to.equal(undefined);
    });
  });

  describe('helpers', () => {
    it('parseIp handles IPv4, IPv6 with ::, embedded IPv4 and zones, and refuses names', () => {
      expect([...parseIp('10.1.2.3')!]).to.deep.equal([10, 1, 2, 3]);
      expect([...parseIp('::1')!]).to.deep.equal([...new Array(15).fill(0), 1]);
      expect([...parseIp('::ffff:1.2.3.4')!].slice(10)).to.deep.equal([0xff, 0xff, 1, 2, 3, 4]);
      expect([...parseIp('fe80::1%eth0')!].slice(0, 2)).to.deep.equal([0xfe, 0x80]);
      expect([...parseIp('1:2:3:4:5:6:7:8')!]).to.deep.equal([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
      expect(parseIp('localhost')).to.equal(undefined);
      expect(parseIp('1.2.3')).to.equal(undefined);
      expect(parseIp('256.1.1.1')).to.equal(undefined);
    });
    it('matchesDnsName is the single-pattern rule', () => {
      expect(matchesDnsName('a.example.com', '*.example.com')).to.equal(true);
      expect(matchesDnsName('a.example.com', '')).to.equal(false);
    });
  });
});
