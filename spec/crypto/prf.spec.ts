import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { prf, masterSecret, extendedMasterSecret, keyBlock, finishedVerifyData } from '../../lib/crypto/prf.js';
import { concat, fromHex, toHex, utf8 } from '../../lib/wire/bytes.js';

// The TLS 1.2 PRF vectors posted to the IETF TLS list
// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), as used by BearSSL's test_crypto.c.
const SHA256_VECTOR = {
  secret: '9bbe436ba940f017b17652849a71db35',
  seed: 'a0ba9f936cda311827a6f796ffd5198c',
  out:
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a' +
    '6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab' +
    '4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701' +
    '87347b66',
};
const SHA384_VECTOR = {
  secret: 'b80b733d6ceefcdc71566ea48e5567df',
  seed: 'cd665cf6a8447dd6ff8b27555edb7465',
  out:
    '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd' +
    'e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd' +
    '8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425' +
    '9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6' +
    '91c8f3a26854308d5eaa3be85e0990703d73e56f',
};

/** Independent P_hash with node:crypto HMAC, used only to cross-check label/seed ordering below. */
function nodePrf(hash: 'sha256' | 'sha384', secret: Uint8Array, label: string, seed: Uint8Array, len: number): Uint8Array {
  const s = concat(utf8(label), seed);
  const out: Uint8Array[] = [];
  let a: Uint8Array = s;
  let n = 0;
  while (n < len) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(s).digest();
    out.push(block);
    n += block.length;
  }
  return concat(...out).subarray(0, len);
}

describe('crypto/prf (RFC 5246 §5)', () => {
  it('P_SHA256 reproduces the IETF TLS-list vector (100 bytes)', () => {
    const out = prf('sha256', fromHex(SHA256_VECTOR.secret), 'test label', fromHex(SHA256_VECTOR.seed), 100);
    expect(SHA256_VECTOR.out.length).to.equal(200);
    expect(toHex(out)).to.equal(SHA256_VECTOR.out);
  });

  it('P_SHA384 reproduces the IETF TLS-list vector (148 bytes)', () => {
    const out = prf('sha384', fromHex(SHA384_VECTOR.secret), 'test label', fromHex(SHA384_VECTOR.seed), 148);
    expect(SHA384_VECTOR.out.length).to.equal(296);
    expect(toHex(out)).to.equal(SHA384_VECTOR.out);
  });

  it('any output length is a prefix of a longer output', () => {
    const secret = fromHex(SHA256_VECTOR.secret);
    const seed = fromHex(SHA256_VECTOR.seed);
    const long = prf('sha256', secret, 'test label', seed, 100);
    for (const n of [0, 1, 12, 31, 32, 33, 48, 64, 99]) {
      expect(toHex(prf('sha256', secret, 'test label', seed, n))).to.equal(toHex(long.subarray(0, n)));
    }
  });

  it('masterSecret is PRF(premaster, "master secret", client_random + server_random)[0..47] (§8.1)', () => {
    const pm = new Uint8Array(48).fill(3);
    const cr = new Uint8Array(32).fill(1);
    const sr = new Uint8Array(32).fill(2);
    const ms = masterSecret('sha256', pm, cr, sr);
    expect(ms.length).to.equal(48);
    expect(toHex(ms)).to.equal(toHex(nodePrf('sha256', pm, 'master secret', concat(cr, sr), 48)));
    expect(toHex(ms)).to.not.equal(toHex(masterSecret('sha256', pm, sr, cr)));
  });

  it('extendedMasterSecret uses "extended master secret" and the session hash (RFC 7627 §4)', () => {
    const pm = new Uint8Array(32).fill(9);
    const sessionHash = new Uint8Array(48).fill(7);
    const ms = extendedMasterSecret('sha384', pm, sessionHash);
    expect(toHex(ms)).to.equal(toHex(nodePrf('sha384', pm, 'extended master secret', sessionHash, 48)));
  });

  it('keyBlock seeds with server_random + client_random, in that order (§6.3)', () => {
    const ms = new Uint8Array(48).fill(5);
    const cr = new Uint8Array(32).fill(1);
    const sr = new Uint8Array(32).fill(2);
    const kb = keyBlock('sha256', ms, sr, cr, 40);
    expect(toHex(kb)).to.equal(toHex(nodePrf('sha256', ms, 'key expansion', concat(sr, cr), 40)));
  });

  it('finishedVerifyData is 12 bytes and differs between client and server (§7.4.9)', () => {
    const ms = new Uint8Array(48).fill(5);
    const th = new Uint8Array(32).fill(6);
    const c = finishedVerifyData('sha256', ms, 'client', th);
    const s = finishedVerifyData('sha256', ms, 'server', th);
    expect(c.length).to.equal(12);
    expect(toHex(c)).to.equal(toHex(nodePrf('sha256', ms, 'client finished', th, 12)));
    expect(toHex(s)).to.equal(toHex(nodePrf('sha256', ms, 'server finished', th, 12)));
  });
});
