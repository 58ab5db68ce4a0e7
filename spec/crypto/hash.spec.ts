import { expect } from 'chai';
import { createHash as nodeHash, createHmac } from 'node:crypto';
import { hash, hmac, hashLength, createHash } from '../../lib/crypto/hash.js';
import { timingSafeEqual } from '../../lib/crypto/ct.js';
import { randomBytes } from '../../lib/crypto/random.js';
import { toHex, utf8 } from '../../lib/wire/bytes.js';
import type { HashName } from '../../lib/crypto/keys.js';

const names: HashName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

describe('crypto/hash', () => {
  it('hash and hmac agree with node:crypto for every HashName', () => {
    const data = utf8('the quick brown fox');
    const key = utf8('key');
    for (const n of names) {
      expect(toHex(hash(n, data))).to.equal(nodeHash(n).update(data).digest('hex'));
      expect(toHex(hmac(n, key, data))).to.equal(createHmac(n, key).update(data).digest('hex'));
      expect(hash(n, data).length).to.equal(hashLength(n));
    }
  });

  it('Hash.digest() is non-destructive: intermediate digests, then more updates', () => {
    const h = createHash('sha256');
    h.update(utf8('abc'));
    const d1 = h.digest();
    expect(toHex(h.digest())).to.equal(toHex(d1));
    h.update(utf8('def'));
    expect(toHex(d1)).to.equal(nodeHash('sha256').update('abc').digest('hex'));
    expect(toHex(h.digest())).to.equal(nodeHash('sha256').update('abcdef').digest('hex'));
  });

  it('Hash.clone() forks an independent state', () => {
    const h = createHash('sha384').update(utf8('abc'));
    const c = h.clone();
    c.update(utf8('x'));
    h.update(utf8('y'));
    expect(toHex(c.digest())).to.equal(nodeHash('sha384').update('abcx').digest('hex'));
    expect(toHex(h.digest())).to.equal(nodeHash('sha384').update('abcy').digest('hex'));
  });
});

describe('crypto/ct and crypto/random', () => {
  it('timingSafeEqual: equal, different and different-length inputs', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).to.equal(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).to.equal(false);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).to.equal(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).to.equal(true);
  });

  it('randomBytes returns the requested length and distinct values', () => {
    expect(randomBytes(0).length).to.equal(0);
    const a = randomBytes(32);
    expect(a.length).to.equal(32);
    expect(toHex(a)).to.not.equal(toHex(randomBytes(32)));
  });
});
