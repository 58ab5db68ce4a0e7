// RFC 3526 MODP groups (lib/crypto/modp-groups.ts): the embedded primes against OpenSSL's built-in
// modp_N groups (openssl is a required peer: a missing binary fails here, it is not skipped) and
// node:crypto's modp14-18, and the client policy for them (lib/kx/dhe.ts checkServerGroup).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { getDiffieHellman } from 'node:crypto';
import { MODP2048, MODP3072, MODP4096, MODP6144, MODP8192, MODP_GROUPS, modpGroupByPrime, type ModpGroup } from '../../lib/crypto/modp-groups.js';
import { FFDHE2048, ffdheGroupByPrime, generateDhKeyPair, dhSharedSecret } from '../../lib/crypto/dh.js';
import { i2osp } from '../../lib/crypto/bigint.js';
import { checkServerGroup, dhExponentBits } from '../../lib/kx/dhe.js';
import { TLSError } from '../../lib/alert.js';
import { toHex } from '../../lib/wire/bytes.js';
import { probablyPrime } from '../helpers/primes.js';

/** p and g of `openssl genpkey -genparam -algorithm DH -pkeyopt group:modp_N` (its -text prints only the group name, so asn1parse). */
function opensslGroup(bits: number): { p: bigint; g: bigint } {
  const pem = execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', `group:modp_${bits}`]);
  const text = execFileSync('openssl', ['pkeyparam', '-text', '-noout'], { input: pem }).toString();
  expect(text).to.include(`GROUP: modp_${bits}`);
  const parsed = execFileSync('openssl', ['asn1parse'], { input: pem }).toString();
  const ints = [...parsed.matchAll(/INTEGER\s*:([0-9A-F]+)/g)].map((m) => BigInt('0x' + m[1]));
  expect(ints).to.have.length(2);
  return { p: ints[0]!, g: ints[1]! };
}

// [group, RFC 3526 section, node:crypto name (the IKE group number), exponent bits]
const ROWS: Array<[ModpGroup, string, string, number]> = [
  [MODP2048, '§3', 'modp14', 256],
  [MODP3072, '§4', 'modp15', 320],
  [MODP4096, '§5', 'modp16', 384],
  [MODP6144, '§6', 'modp17', 448],
  [MODP8192, '§7', 'modp18', 512],
];

describe('crypto/modp-groups (RFC 3526 MODP)', function () {
  this.timeout(120_000);

  it('five frozen groups, named modpNNNN, g = 2, no TLS group code', () => {
    expect(MODP_GROUPS.map((g) => g.name)).to.deep.equal(['modp2048', 'modp3072', 'modp4096', 'modp6144', 'modp8192']);
    expect(Object.isFrozen(MODP_GROUPS)).to.equal(true);
    for (const g of MODP_GROUPS) {
      expect(Object.isFrozen(g), g.name).to.equal(true);
      expect(g.g).to.equal(2n);
      expect(g).to.not.have.property('code');
    }
  });

  for (const [g, section, nodeName, exponentBits] of ROWS) {
    it(`${g.name} (RFC 3526 ${section}): p and g equal openssl's group:modp_${g.bits}`, () => {
      const o = opensslGroup(g.bits);
      expect(g.p === o.p, `${g.name} differs from openssl's modp_${g.bits}`).to.equal(true);
      expect(o.g).to.equal(2n);
    });

    it(`${g.name}: p equals node:crypto's ${nodeName}, is a safe prime of ${g.bits} bits, found by exact match only`, () => {
      expect(g.p === BigInt('0x' + getDiffieHellman(nodeName).getPrime('hex')), `${g.name} differs from node's ${nodeName}`).to.equal(true);
      const ones = (1n << 64n) - 1n;
      expect(g.p.toString(2).length).to.equal(g.bits);
      expect(g.p >> BigInt(g.bits - 64)).to.equal(ones); // RFC 3526: top and bottom 64 bits are 1
      expect(g.p & ones).to.equal(ones);
      const q = (g.p - 1n) / 2n;
      expect(probablyPrime(g.p, [2n, 3n]), 'p').to.equal(true);
      expect(probablyPrime(q, [2n, 3n]), 'q').to.equal(true);
      expect(modpGroupByPrime(g.p)).to.equal(g);
      expect(modpGroupByPrime(i2osp(g.p, g.bits / 8))).to.equal(g);
      expect(modpGroupByPrime(g.p - 2n)).to.equal(undefined);
      expect(ffdheGroupByPrime(g.p)).to.equal(undefined);
    });

    it(`${g.name}: ${exponentBits}-bit private exponents; key agreement matches node:crypto`, () => {
      expect(g.exponentBits).to.equal(exponentBits);
      const ours = generateDhKeyPair(g.p, g.g, g.exponentBits);
      expect(ours.x.toString(2).length).to.equal(exponentBits);
      const peer = getDiffieHellman(nodeName);
      const peerPub = new Uint8Array(peer.generateKeys());
      const z = dhSharedSecret(g.p, peerPub, ours.x);
      expect(BigInt('0x' + toHex(z))).to.equal(BigInt('0x' + peer.computeSecret(ours.publicKey).toString('hex')));
    });
  }
});

describe('kx/dhe checkServerGroup: RFC 3526 MODP groups', () => {
  const alertOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      expect(e).to.be.instanceOf(TLSError);
      return (e as TLSError).alert;
    }
    return undefined;
  };

  it('accepts each MODP prime with g = 2 by default (no allowCustomDHGroups), by its name', () => {
    for (const g of MODP_GROUPS) expect(checkServerGroup(g.p, 2n, {})).to.equal(g.name);
  });

  it('a MODP prime with g = 5 (or any g ≠ 2) → illegal_parameter, with or without allowCustomDHGroups', () => {
    for (const g of MODP_GROUPS) {
      expect(alertOf(() => checkServerGroup(g.p, 5n, {})), g.name).to.equal('illegal_parameter');
      expect(() => checkServerGroup(g.p, 5n, { allowCustomDHGroups: true })).to.throw(TLSError, `${g.name} with generator 5 instead of 2`);
    }
    expect(alertOf(() => checkServerGroup(MODP2048.p, 3n, {}))).to.equal('illegal_parameter');
  });

  it('minDHSize applies: 3072 refuses modp2048 (insufficient_security), accepts modp3072 and up', () => {
    expect(() => checkServerGroup(MODP2048.p, 2n, { minDHSize: 3072 })).to.throw(TLSError, 'modp2048 (2048 bits) is below the minimum of 3072');
    expect(alertOf(() => checkServerGroup(MODP2048.p, 2n, { minDHSize: 3072, allowCustomDHGroups: true }))).to.equal('insufficient_security');
    expect(checkServerGroup(MODP3072.p, 2n, { minDHSize: 3072 })).to.equal('modp3072');
    expect(checkServerGroup(MODP8192.p, 2n, { minDHSize: 8192 })).to.equal('modp8192');
    expect(alertOf(() => checkServerGroup(MODP6144.p, 2n, { minDHSize: 8192 }))).to.equal('insufficient_security');
  });

  it('the client\'s private exponent follows the named group (modp8192: 512 bits, not the 448 of an unknown 8192-bit prime)', () => {
    for (const g of MODP_GROUPS) expect(dhExponentBits(g.p), g.name).to.equal(g.exponentBits);
    expect(dhExponentBits(MODP8192.p - 2n)).to.equal(448);
    expect(dhExponentBits(FFDHE2048.p)).to.equal(FFDHE2048.exponentBits);
  });

  it('unchanged: RFC 7919 primes accepted; an unknown prime refused without allowCustomDHGroups', () => {
    expect(checkServerGroup(FFDHE2048.p, 2n, {})).to.equal('ffdhe2048');
    const other = MODP2048.p - 2n; // odd, 2048 bits, not a known group
    expect(() => checkServerGroup(other, 2n, {})).to.throw(TLSError, /not an RFC 7919 or RFC 3526 group \(allowCustomDHGroups is off\)/);
    expect(checkServerGroup(other, 2n, { allowCustomDHGroups: true })).to.equal('custom-2048');
  });
});
