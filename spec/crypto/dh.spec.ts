import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createDiffieHellman } from 'node:crypto';
import {
  FFDHE2048, FFDHE3072, FFDHE4096, FfdheGroupCode, ffdheGroup, ffdheGroupByPrime,
  generateDhKeyPair, dhSharedSecret, validateDhPublic, type DhGroup,
} from '../../lib/crypto/dh.js';
import { modPow, i2osp } from '../../lib/crypto/bigint.js';
import { TLSError } from '../../lib/alert.js';
import { toHex } from '../../lib/wire/bytes.js';
import { probablyPrime } from '../helpers/primes.js';

function opensslPrime(name: string): bigint {
  const pem = execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', `group:${name}`]);
  const parsed = execFileSync('openssl', ['asn1parse'], { input: pem }).toString();
  const ints = [...parsed.matchAll(/INTEGER\s*:([0-9A-F]+)/g)].map((m) => BigInt('0x' + m[1]));
  expect(ints[1]).to.equal(2n); // generator
  return ints[0]!;
}

const groups: DhGroup[] = [FFDHE2048, FFDHE3072, FFDHE4096];

describe('crypto/dh (RFC 7919 FFDHE)', function () {
  this.timeout(120_000);

  it('NamedGroup codes are ffdhe2048=256, ffdhe3072=257, ffdhe4096=258', () => {
    expect(FfdheGroupCode).to.deep.equal({ ffdhe2048: 256, ffdhe3072: 257, ffdhe4096: 258 });
    for (const g of groups) expect(ffdheGroup(g.code)).to.equal(g);
    expect(ffdheGroup(259)).to.equal(undefined);
  });

  for (const g of groups) {
    it(`${g.name}: p equals OpenSSL's built-in group, g = 2`, () => {
      expect(g.p).to.equal(opensslPrime(g.name));
      expect(g.g).to.equal(2n);
    });

    it(`${g.name}: p has the RFC 7919 shape, p and (p-1)/2 are probable primes, and 2 generates the order-q subgroup`, () => {
      const q = (g.p - 1n) / 2n;
      const ones = (1n << 64n) - 1n;
      expect(g.p.toString(2).length).to.equal(g.bits);
      expect(g.p >> BigInt(g.bits - 64)).to.equal(ones); // top 64 bits set
      expect(g.p & ones).to.equal(ones); // bottom 64 bits set
      const bases = [2n, 3n, 5n, 7n];
      expect(probablyPrime(g.p, bases), 'p').to.equal(true);
      expect(probablyPrime(q, bases), 'q').to.equal(true);
      expect(modPow(2n, q, g.p)).to.equal(1n);
      expect(ffdheGroupByPrime(g.p)).to.equal(g);
      expect(ffdheGroupByPrime(i2osp(g.p, g.bits / 8))).to.equal(g);
    });
  }

  it('private exponents meet RFC 7919 Appendix A (>= 225/275/325 bits) and twice the groups\' strength (§5.2)', () => {
    const rows: Array<[typeof FFDHE2048, number, number]> = [[FFDHE2048, 225, 103], [FFDHE3072, 275, 125], [FFDHE4096, 325, 150]];
    for (const [g, appendixA, strength] of rows) {
      expect(g.exponentBits, g.name).to.be.at.least(appendixA);
      expect(g.exponentBits, g.name).to.be.at.least(2 * strength);
    }
  });

  it('ffdheGroupByPrime returns undefined for another prime', () => {
    expect(ffdheGroupByPrime(FFDHE2048.p - 2n)).to.equal(undefined);
  });

  it('a copy slip in p would be caught: Miller-Rabin rejects p with one bit changed', () => {
    expect(probablyPrime(FFDHE2048.p ^ (1n << 1000n), [2n, 3n])).to.equal(false);
  });

  for (const g of groups) {
    it(`${g.name}: key agreement matches node:crypto (OpenSSL), public value padded to |p|`, () => {
      const ours = generateDhKeyPair(g.p, g.g, g.exponentBits);
      expect(ours.x.toString(2).length).to.equal(g.exponentBits);
      expect(ours.publicKey.length).to.equal(g.bits / 8);
      const peer = createDiffieHellman(i2osp(g.p, g.bits / 8), Uint8Array.of(2));
      const peerPub = new Uint8Array(peer.generateKeys());
      const z = dhSharedSecret(g.p, peerPub, ours.x);
      expect(z[0]).to.not.equal(0);
      const nodeZ = BigInt('0x' + peer.computeSecret(ours.publicKey).toString('hex'));
      expect(BigInt('0x' + toHex(z))).to.equal(nodeZ);
    });
  }

  it('strips leading zero bytes of Z (RFC 5246 §8.1.2)', () => {
    // Ys = 2, x = 100: Z = 2^100 < p, i.e. 0x10 followed by 12 zero bytes, 13 bytes instead of 256.
    const z = dhSharedSecret(FFDHE2048.p, 2n, 100n);
    expect(z.length).to.equal(13);
    expect(toHex(z)).to.equal('10' + '00'.repeat(12));
  });

  it('validateDhPublic rejects y <= 1 and y >= p-1 with illegal_parameter, accepts 2 and p-2', () => {
    const p = FFDHE2048.p;
    for (const y of [0n, 1n, p - 1n, p, p + 1n]) {
      expect(() => validateDhPublic(p, y)).to.throw(TLSError).with.property('alert', 'illegal_parameter');
      expect(() => dhSharedSecret(p, y, 12345n)).to.throw(TLSError).with.property('alert', 'illegal_parameter');
    }
    expect(() => validateDhPublic(p, new Uint8Array(256))).to.throw(TLSError);
    expect(validateDhPublic(p, 2n)).to.equal(2n);
    expect(validateDhPublic(p, p - 2n)).to.equal(p - 2n);
  });

  it('two of our key pairs agree', () => {
    const a = generateDhKeyPair(FFDHE3072.p, 2n, FFDHE3072.exponentBits);
    const b = generateDhKeyPair(FFDHE3072.p, 2n, FFDHE3072.exponentBits);
    expect(toHex(dhSharedSecret(FFDHE3072.p, a.publicKey, b.x))).to.equal(toHex(dhSharedSecret(FFDHE3072.p, b.publicKey, a.x)));
  });
});
