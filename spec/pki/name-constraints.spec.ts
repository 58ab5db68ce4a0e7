// RFC 5280 §4.2.1.10 name constraints in chain validation. Every case of the matrix is also run through
// `openssl verify` (spawned; a missing openssl fails the suite) and qtls must reach OpenSSL's verdict:
// accepted by both, or rejected by both with the same X509_V_ERR_* name at the same depth. The few
// places where qtls is deliberately stricter than OpenSSL 3.0 are cases of their own, which assert
// OpenSSL's (more lenient) verdict too, so the documented difference stays true.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { verifyChain, type ChainResult } from '../../lib/pki/chain.js';
import { authenticatePeer } from '../../lib/handshake/peer-auth.js';
import { der } from '../../lib/pki/der.js';
import { encodeName, encodeNameConstraints, generateKeyPair, issueCertificate, type IssueOptions, type IssuedCertificate, type NameConstraintsInput, type NameInput } from '../../lib/pki/issue.js';
import type { PrivateKey } from '../../lib/crypto/keys.js';
import { NAME_CHECK_MAX, NameCheckBudget, checkNameConstraints, cnAsDnsName, dnsWithin, emailWithin, ipWithin, uriHost } from '../../lib/pki/name-constraints.js';
import { OID } from '../../lib/pki/oids.js';
import type { Certificate } from '../../lib/pki/x509.js';
import { assertOpenssl, opensslVerify } from '../helpers/openssl-verify.js';

const NB = new Date(Date.now() - 3600_000);
const NA = new Date(Date.now() + 30 * 86400_000);

interface Node {
  issued: IssuedCertificate;
  cert: Certificate;
  key: PrivateKey;
}

function node(issued: IssuedCertificate, key: PrivateKey): Node {
  return { issued, cert: issued.certificate, key };
}

function root(nameConstraints?: NameConstraintsInput, subject: NameInput = { CN: 'NC Test Root' }, extra: Partial<IssueOptions> = {}): Node {
  const kp = generateKeyPair('P-256');
  return node(issueCertificate({ subject, publicKey: kp.publicKey, issuer: 'self', issuerKey: kp.privateKey, notBefore: NB, notAfter: NA, isCA: true, ...(nameConstraints ? { nameConstraints } : {}), ...extra }), kp.privateKey);
}

function ca(parent: Node, subject: NameInput, nameConstraints?: NameConstraintsInput, extra: Partial<IssueOptions> = {}): Node {
  const kp = generateKeyPair('P-256');
  return node(issueCertificate({ subject, publicKey: kp.publicKey, issuer: parent.cert, issuerKey: parent.key, notBefore: NB, notAfter: NA, isCA: true, ...(nameConstraints ? { nameConstraints } : {}), ...extra }), kp.privateKey);
}

function leaf(parent: Node, extra: Partial<IssueOptions> = {}): Node {
  const kp = generateKeyPair('P-256');
  return node(issueCertificate({ subject: { CN: 'NC leaf' }, publicKey: kp.publicKey, issuer: parent.cert, issuerKey: parent.key, notBefore: NB, notAfter: NA, isCA: false, extKeyUsage: ['serverAuth'], ...extra }), kp.privateKey);
}

/** A path, root first, leaf last. */
type Path = Node[];

interface Verdict {
  ok: boolean;
  error?: string;
  depth?: number;
}

function qtlsVerdict(path: Path): { verdict: Verdict; result: ChainResult } {
  const [r, ...rest] = path;
  const chain = rest.map((n) => n.cert).reverse();
  const result = verifyChain({ chain, trustAnchors: [r!.cert] });
  if (result.ok) return { verdict: { ok: true }, result };
  const depth = result.cert ? chain.indexOf(result.cert) : -1;
  return { verdict: { ok: false, error: result.verifyError ?? result.code, depth }, result };
}

function opensslVerdict(path: Path): Verdict & { out: string } {
  const [r, ...rest] = path;
  const v = opensslVerify({ root: r!.issued.pem, intermediates: rest.slice(0, -1).map((n) => n.issued.pem), leaf: rest[rest.length - 1]!.issued.pem });
  return v.ok ? { ok: true, out: v.out } : { ok: false, error: v.error!, depth: v.depth!, out: v.out };
}

/** Expected verdict: 'ok', or the X509_V_ERR name and (default 0) the depth it is reported at. */
type Expect = 'ok' | { error: string; depth?: number };

function expectVerdicts(path: Path, want: Expect, opensslWant: Expect = want): ChainResult {
  const { verdict: q, result } = qtlsVerdict(path);
  const o = opensslVerdict(path);
  const why = `qtls: ${result.ok ? 'ok' : `${result.alert}/${result.code}/${result.verifyError}: ${result.reason}`}\nopenssl: ${o.out}`;
  const asVerdict = (e: Expect): Verdict => (e === 'ok' ? { ok: true } : { ok: false, error: e.error, depth: e.depth ?? 0 });
  expect(o.ok ? { ok: true } : { ok: false, error: o.error, depth: o.depth }, `openssl verify\n${why}`).to.deep.equal(asVerdict(opensslWant));
  expect(q, `qtls\n${why}`).to.deep.equal(asVerdict(want));
  if (!result.ok && want !== 'ok' && want.error !== 'SUBTREE_MINMAX') {
    // node:tls has no code of its own for these (UNSPECIFIED); OpenSSL sends certificate_unknown.
    expect(result.code, why).to.equal('UNSPECIFIED');
    expect(result.alert, why).to.equal('certificate_unknown');
  }
  return result;
}

const PERMITTED = { error: 'PERMITTED_VIOLATION' };
const EXCLUDED = { error: 'EXCLUDED_VIOLATION' };

describe('pki/name-constraints (RFC 5280 §4.2.1.10, checked against openssl verify)', function () {
  this.timeout(60_000);
  before(() => {
    assertOpenssl();
  });

  describe('dNSName', () => {
    const r = root({ permitted: { dns: ['example.com'] }, excluded: { dns: ['secret.example.com'] } });
    const dot = root({ permitted: { dns: ['.example.com'] } });
    const upper = root({ permitted: { dns: ['Example.COM'] } });
    const plain = root({ permitted: { dns: ['example.com'] } });
    const cases: Array<[string, Node, string[], Expect]> = [
      ['a name under a permitted "example.com"', r, ['www.example.com'], 'ok'],
      ['"example.com" itself', r, ['example.com'], 'ok'],
      ['a wildcard under it', plain, ['*.example.com'], 'ok'],
      ['a name outside it', r, ['www.other.com'], PERMITTED],
      ['a name that only ends in the same letters ("badexample.com")', r, ['badexample.com'], PERMITTED],
      ['an excluded name inside the permitted one', r, ['secret.example.com'], EXCLUDED],
      ['a name under the excluded one', r, ['a.secret.example.com'], EXCLUDED],
      ['a name beside the excluded one ("notsecret.example.com")', r, ['notsecret.example.com'], 'ok'],
      ['one bad name among good ones', r, ['www.example.com', 'mail.example.com', 'www.example.org'], PERMITTED],
      ['leading dot: a name under ".example.com"', dot, ['a.b.example.com'], 'ok'],
      ['leading dot: "example.com" itself is not under ".example.com"', dot, ['example.com'], PERMITTED],
      ['case-insensitive: WWW.EXAMPLE.com under "Example.COM"', upper, ['WWW.EXAMPLE.com'], 'ok'],
    ];
    for (const [name, ca, dns, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([ca, leaf(ca, { san: { dns } })], want);
      });
    }
    it('the TLS authorizationError carries node\'s code (UNSPECIFIED) and OpenSSL\'s name in verifyError', () => {
      const r = root({ permitted: { dns: ['example.com'] } });
      const bad = leaf(r, { san: { dns: ['www.other.test'] } });
      const res = authenticatePeer([bad.cert], { trustAnchors: [r.cert], purpose: 'server' });
      expect(res.authorized).to.equal(false);
      expect(res.authorizationError).to.deep.include({ code: 'UNSPECIFIED', alert: 'certificate_unknown', verifyError: 'PERMITTED_VIOLATION' });
    });
  });

  describe('iPAddress', () => {
    const v4 = root({ permitted: { ip: ['10.0.0.0/8'] }, excluded: { ip: ['10.9.0.0/255.255.0.0'] } });
    const v6 = root({ permitted: { ip: ['2001:db8::/32'] } });
    const odd = root({ permitted: { ip: ['10.0.0.0/255.0.255.0'] } });
    const cases: Array<[string, Node, string[], Expect]> = [
      ['an IPv4 address inside 10.0.0.0/8', v4, ['10.1.2.3'], 'ok'],
      ['an IPv4 address outside 10.0.0.0/8', v4, ['11.0.0.1'], PERMITTED],
      ['an IPv4 address in the excluded 10.9.0.0/16', v4, ['10.9.8.7'], EXCLUDED],
      ['an IPv6 address inside 2001:db8::/32', v6, ['2001:db8:1::1'], 'ok'],
      ['an IPv6 address outside 2001:db8::/32', v6, ['2001:db9::1'], PERMITTED],
      ['an IPv4 address against IPv6-only constraints', v6, ['10.0.0.1'], PERMITTED],
      ['an IPv6 address against IPv4-only constraints', v4, ['::ffff:10.0.0.1'], PERMITTED],
      ['an address matching a non-contiguous mask (as OpenSSL, the mask is applied as given)', odd, ['10.77.0.9'], 'ok'],
      ['an address outside a non-contiguous mask', odd, ['10.77.1.9'], PERMITTED],
    ];
    for (const [name, ca, ip, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([ca, leaf(ca, { san: { ip } })], want);
      });
    }

    it('does not apply IP constraints to DNS names, nor DNS constraints to IP addresses', () => {
      expectVerdicts([v4, leaf(v4, { san: { dns: ['anything.example'] } })], 'ok');
      const dnsOnly = root({ permitted: { dns: ['example.com'] } });
      expectVerdicts([dnsOnly, leaf(dnsOnly, { san: { dns: ['www.example.com'], ip: ['192.0.2.1'] } })], 'ok');
    });
  });

  describe('rfc822Name', () => {
    const host = root({ permitted: { email: ['example.com'] } });
    const domain = root({ permitted: { email: ['.example.com'] } });
    const mailbox = root({ permitted: { email: ['admin@example.com'] }, excluded: { email: ['spam.example.com'] } });
    const cases: Array<[string, Node, Partial<IssueOptions>, Expect]> = [
      ['a mailbox at the permitted host', host, { san: { email: ['user@example.com'] } }, 'ok'],
      ['a mailbox at the permitted host in another case', host, { san: { email: ['user@EXAMPLE.com'] } }, 'ok'],
      ['a mailbox at a host under it (a host constraint is that host only)', host, { san: { email: ['user@mail.example.com'] } }, PERMITTED],
      ['".example.com": a mailbox at a host under it', domain, { san: { email: ['user@mail.example.com'] } }, 'ok'],
      ['".example.com": a mailbox at example.com itself', domain, { san: { email: ['user@example.com'] } }, PERMITTED],
      ['the permitted mailbox', mailbox, { san: { email: ['admin@example.com'] } }, 'ok'],
      ['the permitted mailbox with its local part in another case (case-sensitive)', mailbox, { san: { email: ['Admin@example.com'] } }, PERMITTED],
      ['another mailbox at the same host', mailbox, { san: { email: ['root@example.com'] } }, PERMITTED],
      ['a subject emailAddress outside the permitted host', host, { subject: { CN: 'NC leaf', emailAddress: 'user@other.com' } }, PERMITTED],
      ['a subject emailAddress inside it', host, { subject: { CN: 'NC leaf', emailAddress: 'user@example.com' } }, 'ok'],
      ['an rfc822Name without "@"', host, { san: { email: ['not-a-mailbox'] } }, { error: 'UNSUPPORTED_NAME_SYNTAX' }],
    ];
    for (const [name, ca, extra, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([ca, leaf(ca, extra)], want);
      });
    }
  });

  describe('directoryName', () => {
    const r = root({ permitted: { dirName: [{ C: 'DE', O: 'Example' }] }, excluded: { dirName: [{ C: 'DE', O: 'Example', OU: 'Secret' }] } });
    const cases: Array<[string, NameInput, Expect]> = [
      ['a subject under C=DE, O=Example', { C: 'DE', O: 'Example', CN: 'host' }, 'ok'],
      ['the same with O in another case and spacing (RFC 5280 §7.1 comparison)', { C: 'DE', O: '  EXAMPLE ', CN: 'host' }, 'ok'],
      ['a subject in another organisation', { C: 'DE', O: 'Other', CN: 'host' }, PERMITTED],
      ['a subject that is only a shorter prefix', { C: 'DE' }, PERMITTED],
      ['a subject under the excluded OU', { C: 'DE', O: 'Example', OU: 'Secret', CN: 'host' }, EXCLUDED],
      ['a subject under another OU', { C: 'DE', O: 'Example', OU: 'Public', CN: 'host' }, 'ok'],
    ];
    for (const [name, subject, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([r, leaf(r, { subject })], want);
      });
    }

    it('checks a directoryName SAN too', () => {
      expectVerdicts([r, leaf(r, { subject: { C: 'DE', O: 'Example', CN: 'host' }, san: { dirName: [{ C: 'FR', O: 'Ailleurs' }] } })], PERMITTED);
    });

    it('accepts an empty subject (nothing to check) with a SAN inside the other forms', () => {
      expectVerdicts([r, leaf(r, { subject: {}, san: { dns: ['anything.example'] } })], 'ok');
    });
  });

  describe('URI', () => {
    const dot = root({ permitted: { uri: ['.example.com'] } });
    const host = root({ permitted: { uri: ['example.com'] } });
    const cases: Array<[string, Node, string, Expect]> = [
      ['a URI whose host is under ".example.com"', dot, 'https://www.example.com/path', 'ok'],
      ['with a port', dot, 'https://www.example.com:8443/path', 'ok'],
      ['a URI whose host is example.com itself, against ".example.com"', dot, 'https://example.com/', PERMITTED],
      ['a URI at another host', dot, 'https://www.example.org/', PERMITTED],
      ['a URI whose host is exactly the permitted host', host, 'https://EXAMPLE.com/x', 'ok'],
      ['a URI at a host under the permitted host (host constraints are exact)', host, 'https://www.example.com/x', PERMITTED],
      ['a URI without an authority (urn:)', host, 'urn:example:thing', { error: 'UNSUPPORTED_NAME_SYNTAX' }],
    ];
    for (const [name, ca, uri, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([ca, leaf(ca, { san: { dns: ['www.example.com'], uri: [uri] } })], want);
      });
    }
  });

  describe('commonName as a host name (OpenSSL: when the leaf has no dNSName SAN)', () => {
    const r = root({ permitted: { dns: ['example.com'] } });
    const cases: Array<[string, Partial<IssueOptions>, Expect]> = [
      ['a leaf without SAN whose CN is a host outside the constraint', { subject: { CN: 'www.other.com' } }, PERMITTED],
      ['a leaf without SAN whose CN is a host inside it', { subject: { CN: 'www.example.com' } }, 'ok'],
      ['a leaf with a dNSName SAN inside: its CN is not consulted', { subject: { CN: 'www.other.com' }, san: { dns: ['www.example.com'] } }, 'ok'],
      ['a leaf with only an IP SAN: its CN is still consulted', { subject: { CN: 'www.other.com' }, san: { ip: ['192.0.2.7'] } }, PERMITTED],
      ['a CN that is not a host name ("NC leaf")', { subject: { CN: 'NC leaf' } }, 'ok'],
      ['a single-label CN ("localhost") is not taken as a host name', { subject: { CN: 'localhost' } }, 'ok'],
      ['a CN that looks like an IPv4 address counts as a DNS name, as in OpenSSL', { subject: { CN: '192.0.2.1' } }, PERMITTED],
      ['a wildcard CN is not taken as a host name', { subject: { CN: '*.other.com' } }, 'ok'],
    ];
    for (const [name, extra, want] of cases) {
      it(`${want === 'ok' ? 'accepts' : 'rejects'} ${name}`, () => {
        expectVerdicts([r, leaf(r, extra)], want);
      });
    }

    it('only for the leaf: an intermediate whose CN is a host outside the constraint is fine', () => {
      const sub = ca(r, { CN: 'ca.other.com' });
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['www.example.com'] } })], 'ok');
    });
  });

  describe('along the path', () => {
    it('accumulates: the leaf must satisfy the root and the intermediate (intersection of permitted)', () => {
      const r = root({ permitted: { dns: ['example.com'] } });
      const sub = ca(r, { CN: 'NC Sub' }, { permitted: { dns: ['a.example.com'] } });
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['x.a.example.com'] } })], 'ok');
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['b.example.com'] } })], PERMITTED);
      // The intermediate cannot widen the root's subtree.
      const wide = ca(r, { CN: 'NC Wide Sub' }, { permitted: { dns: ['other.com'] } });
      expectVerdicts([r, wide, leaf(wide, { san: { dns: ['www.other.com'] } })], PERMITTED);
    });

    it('accumulates exclusions (union of excluded)', () => {
      const r = root({ excluded: { dns: ['bad.example.com'] } });
      const sub = ca(r, { CN: 'NC Sub' }, { permitted: { dns: ['example.com'] }, excluded: { dns: ['worse.example.com'] } });
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['bad.example.com'] } })], EXCLUDED);
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['worse.example.com'] } })], EXCLUDED);
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['good.example.com'] } })], 'ok');
    });

    it('applies to intermediates: a sub-CA whose subject is outside the root\'s directoryName subtree', () => {
      const r = root({ permitted: { dirName: [{ O: 'Example' }] } }, { O: 'Root Org', CN: 'NC Root' });
      const outside = ca(r, { O: 'Elsewhere', CN: 'NC Sub' });
      expectVerdicts([r, outside, leaf(outside, { subject: { O: 'Example', CN: 'host' } })], { error: 'PERMITTED_VIOLATION', depth: 1 });
      const inside = ca(r, { O: 'Example', CN: 'NC Sub' });
      expectVerdicts([r, inside, leaf(inside, { subject: { O: 'Example', CN: 'host' } })], 'ok');
    });

    it('exempts a self-issued intermediate (§6.1.3 (b)), but not one with another name', () => {
      const r = root({ permitted: { dns: ['example.com'] } });
      const a = ca(r, { CN: 'NC Sub A' });
      // Same subject as its issuer, new key (a key rollover certificate), with a SAN outside the subtree.
      const selfIssued = ca(a, { CN: 'NC Sub A' }, undefined, { san: { dns: ['ca.other.com'] } });
      expect(selfIssued.cert.selfIssued).to.equal(true);
      expectVerdicts([r, a, selfIssued, leaf(selfIssued, { san: { dns: ['www.example.com'] } })], 'ok');
      const renamed = ca(a, { CN: 'NC Sub B' }, undefined, { san: { dns: ['ca.other.com'] } });
      expectVerdicts([r, a, renamed, leaf(renamed, { san: { dns: ['www.example.com'] } })], { error: 'PERMITTED_VIOLATION', depth: 1 });
    });

    it('a self-issued intermediate\'s own constraints still apply below it', () => {
      const r = root();
      const a = ca(r, { CN: 'NC Sub A' });
      const selfIssued = ca(a, { CN: 'NC Sub A' }, { permitted: { dns: ['example.com'] } });
      expectVerdicts([r, a, selfIssued, leaf(selfIssued, { san: { dns: ['www.other.com'] } })], PERMITTED);
    });
  });

  describe('critical and non-critical', () => {
    for (const critical of [true, false]) {
      it(`enforces a ${critical ? 'critical' : 'non-critical'} nameConstraints extension`, () => {
        const r = root();
        const sub = ca(r, { CN: 'NC Sub' }, { permitted: { dns: ['example.com'] }, critical });
        const ext = sub.cert.extensions.find((e) => e.oid === OID.nameConstraints)!;
        expect(ext.critical).to.equal(critical);
        expect(sub.cert.unknownCriticalExtensions).to.deep.equal([]);
        expectVerdicts([r, sub, leaf(sub, { san: { dns: ['www.example.com'] } })], 'ok');
        expectVerdicts([r, sub, leaf(sub, { san: { dns: ['www.other.com'] } })], PERMITTED);
      });
    }
  });

  describe('malformed and unsupported constraints', () => {
    it('rejects a subtree with minimum ≠ 0 or a maximum (SUBTREE_MINMAX), naming the CA', () => {
      for (const bounds of [{ minimum: 1 }, { maximum: 3 }, { minimum: 0, maximum: 0 }]) {
        const r = root();
        const sub = ca(r, { CN: 'NC Bad Sub' }, { permitted: { dns: ['example.com'] }, ...bounds });
        const result = expectVerdicts([r, sub, leaf(sub, { san: { dns: ['www.example.com'] } })], { error: 'SUBTREE_MINMAX', depth: 1 }, { error: 'SUBTREE_MINMAX', depth: 0 });
        if (result.ok) throw new Error('unreachable');
        expect(result.alert).to.equal('bad_certificate');
        expect(result.code).to.equal('UNSPECIFIED');
        expect(result.reason).to.match(/^name constraints minimum and maximum not supported: nameConstraints of "NC Bad Sub": permitted subtree DNS:example\.com has (minimum 1|a maximum)/);
      }
    });

    it('accepts an explicitly encoded minimum of 0 (BER-ish, as OpenSSL does)', () => {
      const r = root();
      const sub = ca(r, { CN: 'NC Sub' }, { permitted: { dns: ['example.com'] }, minimum: 0 });
      expect(sub.cert.nameConstraints!.permitted[0]!.minimum).to.equal(0n);
      expectVerdicts([r, sub, leaf(sub, { san: { dns: ['www.example.com'] } })], 'ok');
    });

    it('fails closed on a form it cannot evaluate (registeredID) when the leaf has such a name, and ignores it otherwise', () => {
      const rid = (oid: string) => der.implicit(8, der.oid(oid).subarray(2));
      const value = der.sequence(der.explicit(0, der.sequence(rid('1.3.6.1.4.1.99999.7'))));
      const r = root(undefined, { CN: 'NC Test Root' }, { extraExtensions: [{ oid: OID.nameConstraints, critical: true, value }] });
      expect(r.cert.nameConstraints!.permitted[0]!.base).to.deep.include({ type: 'registeredID', value: '1.3.6.1.4.1.99999.7' });
      const sanWithRid = der.sequence(der.implicit(2, Buffer.from('www.example.com')), rid('1.3.6.1.4.1.99999.7.1'));
      const withRid = leaf(r, { extraExtensions: [{ oid: OID.subjectAltName, critical: false, value: sanWithRid }] });
      expectVerdicts([r, withRid], { error: 'UNSUPPORTED_CONSTRAINT_TYPE' });
      expectVerdicts([r, leaf(r, { san: { dns: ['www.example.com'] } })], 'ok');
    });

    it('a structurally malformed nameConstraints makes the certificate unparseable, like any malformed extension', () => {
      const r = root();
      const bad = der.sequence(der.explicit(0, der.sequence(der.implicit(2, Buffer.from('example.com')), der.implicit(0, Uint8Array.of(0xff))))); // minimum -1
      const make = () => issueCertificate({ subject: { CN: 'x' }, publicKey: generateKeyPair('P-256').publicKey, issuer: r.cert, issuerKey: r.key, notBefore: NB, notAfter: NA, isCA: true, extraExtensions: [{ oid: OID.nameConstraints, critical: true, value: bad }] });
      expect(make).to.throw(/nameConstraints\.permittedSubtrees\.minimum: negative BaseDistance/);
      const empty = der.sequence(der.explicit(0, der.sequence(der.implicit(2, Buffer.from('example.com')))), der.null());
      const trailing = () => root(undefined, undefined, { extraExtensions: [{ oid: OID.nameConstraints, critical: true, value: empty }] });
      expect(trailing).to.throw(/nameConstraints/);
    });
  });

  describe('deliberately stricter than OpenSSL 3.0', () => {
    it('a wildcard SAN that would cover an excluded host is refused (OpenSSL accepts it)', () => {
      const r = root({ permitted: { dns: ['example.com'] }, excluded: { dns: ['secret.example.com'] } });
      expectVerdicts([r, leaf(r, { san: { dns: ['*.example.com'] } })], EXCLUDED, 'ok');
      // A wildcard stands for one label only: a host two labels down is not covered (both accept).
      const deeper = root({ permitted: { dns: ['example.com'] }, excluded: { dns: ['a.secret.example.com'] } });
      expectVerdicts([deeper, leaf(deeper, { san: { dns: ['*.example.com'] } })], 'ok');
      // Nor is an excluded ".secret.example.com" (only names under it).
      const under = root({ excluded: { dns: ['.example.com'] } });
      expectVerdicts([under, leaf(under, { san: { dns: ['*.example.com'] } })], EXCLUDED);
    });

    it('a URI host ends at "?" (OpenSSL 3.0 reads "evil.example.com?x" as the host and misses the exclusion)', () => {
      const r = root({ excluded: { uri: ['evil.example.com'] } });
      expectVerdicts([r, leaf(r, { san: { dns: ['www.example.com'], uri: ['https://evil.example.com?x=1'] } })], EXCLUDED, 'ok');
    });

    it('a URI with userinfo is refused as unsupported syntax', () => {
      const r = root({ permitted: { uri: ['.example.com'] } });
      expectVerdicts([r, leaf(r, { san: { dns: ['www.example.com'], uri: ['https://user@www.example.com/'] } })], { error: 'UNSUPPORTED_NAME_SYNTAX' }, 'ok');
    });
  });

  describe('bounded work', () => {
    it('refuses names × subtrees > 2^20 for one certificate and CA at once, as OpenSSL (UNSPECIFIED)', () => {
      const dns = Array.from({ length: 1100 }, (_, i) => `host${i}.example.com`);
      const r = root({ permitted: { dns: Array.from({ length: 1000 }, (_, i) => `zone${i}.example.net`) } });
      const big = leaf(r, { subject: { CN: 'big' }, san: { dns } });
      const t0 = performance.now();
      const result = expectVerdicts([r, big], { error: 'UNSPECIFIED' });
      const ms = performance.now() - t0;
      if (result.ok) throw new Error('unreachable');
      expect(result.reason).to.match(/1101 names × 1000 subtrees exceeds 1048576 comparisons/);
      // The openssl run is in there too; qtls itself does no comparison at all.
      expect(ms).to.be.below(5000);
      const q0 = performance.now();
      verifyChain({ chain: [big.cert], trustAnchors: [r.cert] });
      expect(performance.now() - q0).to.be.below(200);
    });

    it('just under the cap: ~1M comparisons, accepted by both and quickly', () => {
      const n = 1000;
      const dns = Array.from({ length: n }, (_, i) => `host${i}.z.example.com`);
      // Every name matches only the last subtree: the worst case for the permitted scan.
      const r = root({ permitted: { dns: [...Array.from({ length: n - 1 }, (_, i) => `zone${i}.example.net`), 'z.example.com'] } });
      const big = leaf(r, { subject: { CN: 'big' }, san: { dns } });
      expect((1 + n) * n).to.be.below(NAME_CHECK_MAX);
      const q0 = performance.now();
      const res = verifyChain({ chain: [big.cert], trustAnchors: [r.cert] });
      const ms = performance.now() - q0;
      expect(res.ok, res.ok ? '' : res.reason).to.equal(true);
      expect(ms).to.be.below(2000);
      expectVerdicts([r, big], 'ok');
    });

    it('a path of CAs each under the per-CA cap still stops at the per-run budget (OpenSSL, which bounds only each pair, accepts it)', () => {
      const zones = { excluded: { dns: Array.from({ length: 1000 }, (_, i) => `zone${i}.example.net`) } };
      const path: Node[] = [root(zones)];
      for (let i = 1; i <= 4; i++) path.push(ca(path[i - 1]!, { CN: `NC Sub ${i}` }, zones));
      path.push(leaf(path[4]!, { subject: { CN: 'big' }, san: { dns: Array.from({ length: 1000 }, (_, i) => `host${i}.example.com`) } }));
      const t0 = performance.now();
      const result = expectVerdicts(path, { error: 'UNSPECIFIED' }, 'ok');
      if (result.ok) throw new Error('unreachable');
      expect(result.reason).to.match(/gave up: more than 4194304 \(name, subtree\) pairs in one verification/);
      expect(performance.now() - t0).to.be.below(5000);
      const q0 = performance.now();
      verifyChain({ chain: path.slice(1).map((n) => n.cert).reverse(), trustAnchors: [path[0]!.cert] });
      expect(performance.now() - q0).to.be.below(1000);
    });

    it('one verification run stops at its comparison budget with a clear error', () => {
      const r = root({ permitted: { dns: Array.from({ length: 50 }, (_, i) => `zone${i}.example.net`) } });
      const l = leaf(r, { san: { dns: Array.from({ length: 50 }, (_, i) => `host${i}.example.com`) } });
      const v = checkNameConstraints(l.cert, r.cert.nameConstraints!, true, new NameCheckBudget(10));
      expect(v).to.deep.include({ error: 'UNSPECIFIED' });
      expect(v!.detail).to.match(/gave up: more than 10 \(name, subtree\) pairs in one verification/);
      const unlimited = checkNameConstraints(l.cert, r.cert.nameConstraints!, true, new NameCheckBudget());
      expect(unlimited).to.deep.include({ error: 'PERMITTED_VIOLATION' });
    });
  });

  describe('parsing and issuing', () => {
    it('parses permitted and excluded subtrees of every form issue.ts writes', () => {
      const r = root({
        permitted: { dns: ['example.com', '.example.org'], ip: ['10.0.0.0/8', '2001:db8::/32'], email: ['example.com'], uri: ['.example.com'], dirName: [{ C: 'DE', O: 'Example' }] },
        excluded: { dns: ['secret.example.com'] },
      });
      const nc = r.cert.nameConstraints!;
      expect(nc.permitted.map((t) => `${t.base.type}:${t.base.value}`)).to.deep.equal([
        'dns:example.com', 'dns:.example.org', 'ip:10.0.0.0/255.0.0.0', 'ip:2001:DB8:0:0:0:0:0:0/FFFF:FFFF:0:0:0:0:0:0', 'email:example.com', 'uri:.example.com', 'dirName:C=DE, O=Example',
      ]);
      expect(nc.excluded.map((t) => t.base.value)).to.deep.equal(['secret.example.com']);
      expect(nc.permitted.every((t) => t.minimum === 0n && t.maximum === undefined)).to.equal(true);
      expect(Buffer.from(r.cert.extensions.find((e) => e.oid === OID.nameConstraints)!.value)).to.deep.equal(
        Buffer.from(encodeNameConstraints({ permitted: { dns: ['example.com', '.example.org'], ip: ['10.0.0.0/8', '2001:db8::/32'], email: ['example.com'], uri: ['.example.com'], dirName: [{ C: 'DE', O: 'Example' }] }, excluded: { dns: ['secret.example.com'] } })),
      );
      // OpenSSL reads the same extension.
      const out = opensslText(r.issued.pem);
      expect(out).to.match(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:example\.com\s+DNS:\.example\.org\s+IP:10\.0\.0\.0\/255\.0\.0\.0\s+IP:2001:DB8:0:0:0:0:0:0\/FFFF:FFFF:0:0:0:0:0:0\s+email:example\.com\s+URI:\.example\.com\s+DirName:C = DE, O = Example\s+Excluded:\s+DNS:secret\.example\.com/);
      expect(encodeName({ C: 'DE', O: 'Example' })).to.deep.equal((nc.permitted[6]!.base as { name: { der: Uint8Array } }).name.der);
    });

    it('refuses nameConstraints on a leaf and ranges that are not ranges', () => {
      const r = root();
      expect(() => leaf(r, { nameConstraints: { permitted: { dns: ['example.com'] } } })).to.throw(/CA certificate/);
      expect(() => root({ permitted: { ip: ['10.0.0.0/33'] } })).to.throw(/prefix length/);
      expect(() => root({ permitted: { ip: ['10.0.0.0/ffff::'] } })).to.throw(/mask/);
    });

    it('keeps an iPAddress constraint of a wrong length and refuses to compare addresses with it (as OpenSSL)', () => {
      const value = der.sequence(der.explicit(0, der.sequence(der.implicit(7, Uint8Array.of(10, 0, 0, 0, 255)))));
      const r = root(undefined, undefined, { extraExtensions: [{ oid: OID.nameConstraints, critical: true, value }] });
      expect(r.cert.nameConstraints!.permitted[0]!.base.value).to.equal('<invalid length 5>');
      expectVerdicts([r, leaf(r, { san: { ip: ['10.0.0.1'] } })], { error: 'UNSUPPORTED_NAME_SYNTAX' });
      expectVerdicts([r, leaf(r, { san: { dns: ['www.example.com'] } })], 'ok');
    });
  });

  describe('matching functions (OpenSSL v3_ncons.c semantics)', () => {
    it('dnsWithin', () => {
      expect(dnsWithin('a.example.com', 'example.com')).to.equal(true);
      expect(dnsWithin('example.com', 'example.com')).to.equal(true);
      expect(dnsWithin('example.com', '.example.com')).to.equal(false);
      expect(dnsWithin('.example.com', '.example.com')).to.equal(true);
      expect(dnsWithin('aexample.com', 'example.com')).to.equal(false);
      expect(dnsWithin('A.EXAMPLE.COM', 'example.com')).to.equal(true);
      expect(dnsWithin('anything', '')).to.equal(true);
      expect(dnsWithin('com', 'example.com')).to.equal(false);
    });

    it('emailWithin', () => {
      expect(emailWithin('a@example.com', 'example.com')).to.equal('match');
      expect(emailWithin('a@b.example.com', '.example.com')).to.equal('match');
      expect(emailWithin('a@example.com', '.example.com')).to.equal('nomatch');
      expect(emailWithin('a@example.com', 'a@example.com')).to.equal('match');
      expect(emailWithin('A@example.com', 'a@example.com')).to.equal('nomatch');
      expect(emailWithin('a@example.com', '@example.com')).to.equal('match');
      expect(emailWithin('example.com', 'example.com')).to.equal('UNSUPPORTED_NAME_SYNTAX');
    });

    it('uriHost', () => {
      expect(uriHost('https://www.example.com:8443/x?y#z')).to.equal('www.example.com');
      expect(uriHost('ldap://dir.example.com')).to.equal('dir.example.com');
      expect(uriHost('https://www.example.com?x')).to.equal('www.example.com');
      expect(uriHost('urn:isbn:1')).to.equal(undefined);
      expect(uriHost('https://user@www.example.com/')).to.equal(undefined);
      expect(uriHost('https://[2001:db8::1]/')).to.equal(undefined);
      expect(uriHost('https://192.0.2.1/')).to.equal(undefined);
      expect(uriHost('https:///path')).to.equal(undefined);
    });

    it('ipWithin', () => {
      const range = Uint8Array.of(192, 168, 0, 0, 255, 255, 0, 0);
      expect(ipWithin(Uint8Array.of(192, 168, 4, 5), range)).to.equal('match');
      expect(ipWithin(Uint8Array.of(192, 169, 4, 5), range)).to.equal('nomatch');
      expect(ipWithin(new Uint8Array(16), range)).to.equal('nomatch');
      expect(ipWithin(Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 2, 3, 4))).to.equal('UNSUPPORTED_NAME_SYNTAX');
    });

    it('cnAsDnsName (OpenSSL cn2dnsid)', () => {
      expect(cnAsDnsName('www.example.com')).to.equal('www.example.com');
      expect(cnAsDnsName('under_score.example')).to.equal('under_score.example');
      expect(cnAsDnsName('localhost')).to.equal(undefined);
      expect(cnAsDnsName('a..b')).to.equal(undefined);
      expect(cnAsDnsName('-a.b')).to.equal(undefined);
      expect(cnAsDnsName('a.-b')).to.equal(undefined);
      expect(cnAsDnsName('a b.c')).to.equal(undefined);
      expect(cnAsDnsName('*.example.com')).to.equal(undefined);
      expect(cnAsDnsName('host.example\0\0')).to.equal('host.example');
      expect(cnAsDnsName('host\0.example')).to.equal('UNSUPPORTED_NAME_SYNTAX');
    });
  });
});

function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
}
