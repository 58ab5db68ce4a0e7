import { expect } from 'chai';
import { createCipheriv } from 'node:crypto';
import { createAead, aeadKeyLength, type AeadName } from '../../lib/crypto/aead.js';
import { concat, fromHex, toHex, utf8 } from '../../lib/wire/bytes.js';

interface Kat { name: string; aead: AeadName; key: string; nonce: string; aad: string; pt: string; ct: string; tag: string }

const GCM_P =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
const GCM_A = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';

const KATS: Kat[] = [
  {
    // RFC 8439 §2.8.2 (sunscreen).
    name: 'RFC 8439 §2.8.2 ChaCha20-Poly1305',
    aead: 'CHACHA20-POLY1305',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    aad: '50515253c0c1c2c3c4c5c6c7',
    pt: toHex(utf8("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")),
    ct:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6' +
      '3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
      '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
  {
    // McGrew–Viega, "The Galois/Counter Mode of Operation", test case 4 (AES-128, AAD, 60 bytes).
    name: 'GCM spec test case 4 (AES-128-GCM)',
    aead: 'AES-128-GCM',
    key: 'feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: GCM_A,
    pt: GCM_P,
    ct:
      '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
      '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    name: 'GCM spec test case 14 (AES-256-GCM, zero key, one zero block)',
    aead: 'AES-256-GCM',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    aad: '',
    pt: '00'.repeat(16),
    ct: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'GCM spec test case 16 (AES-256-GCM, AAD, 60 bytes)',
    aead: 'AES-256-GCM',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: GCM_A,
    pt: GCM_P,
    ct:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

describe('crypto/aead', () => {
  for (const v of KATS) {
    it(`${v.name}: seal gives the published ciphertext and tag, open returns the plaintext`, () => {
      const a = createAead(v.aead, fromHex(v.key));
      const sealed = a.seal(fromHex(v.nonce), fromHex(v.pt), fromHex(v.aad));
      expect(toHex(sealed)).to.equal(v.ct + v.tag);
      const opened = a.open(fromHex(v.nonce), sealed, fromHex(v.aad));
      expect(opened).to.not.equal(null);
      expect(toHex(opened!)).to.equal(v.pt);
    });
  }

  const names: AeadName[] = ['AES-128-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305'];
  for (const name of names) {
    it(`${name}: open returns null for any tampered byte, wrong AAD, wrong nonce or short input`, () => {
      const key = new Uint8Array(aeadKeyLength(name)).map((_, i) => i * 7);
      const a = createAead(name, key);
      const nonce = fromHex('000102030405060708090a0b');
      const aad = utf8('header');
      const sealed = a.seal(nonce, utf8('some plaintext bytes'), aad);
      for (let i = 0; i < sealed.length; i++) {
        const t = sealed.slice();
        t[i]! ^= 0x80;
        expect(a.open(nonce, t, aad), `byte ${i}`).to.equal(null);
      }
      expect(a.open(nonce, sealed, utf8('headeR'))).to.equal(null);
      expect(a.open(fromHex('000102030405060708090a0c'), sealed, aad)).to.equal(null);
      expect(a.open(nonce, sealed.subarray(0, 15), aad)).to.equal(null);
      expect(a.open(nonce, new Uint8Array(0), aad)).to.equal(null);
      expect(a.open(new Uint8Array(8), sealed, aad)).to.equal(null);
      expect(toHex(a.open(nonce, sealed, aad)!)).to.equal(toHex(utf8('some plaintext bytes')));
    });

    it(`${name}: agrees with node:crypto on a 16 KiB record and on empty plaintext`, () => {
      const key = new Uint8Array(aeadKeyLength(name)).map((_, i) => 255 - i);
      const nonce = fromHex('cafebabefacedbaddecaf888');
      const aad = fromHex('00000000000000011703030400');
      const nodeName = name === 'CHACHA20-POLY1305' ? 'chacha20-poly1305' : name === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
      for (const pt of [new Uint8Array(16384).map((_, i) => i & 0xff), new Uint8Array(0)]) {
        const c = createCipheriv(nodeName as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
        c.setAAD(aad, { plaintextLength: pt.length });
        const expected = concat(c.update(pt), c.final(), c.getAuthTag());
        const a = createAead(name, key);
        expect(toHex(a.seal(nonce, pt, aad))).to.equal(toHex(expected));
        expect(toHex(a.open(nonce, expected, aad)!)).to.equal(toHex(pt));
      }
    });
  }

  for (const name of names) {
    it(`${name}: one Aead object seals and opens many records of varied sizes like node:crypto (state is reset per record)`, () => {
      const key = new Uint8Array(aeadKeyLength(name)).map((_, i) => (i * 31 + 7) & 0xff);
      const nodeName = name === 'CHACHA20-POLY1305' ? 'chacha20-poly1305' : name === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
      for (const lowMemory of [false, true]) {
        const a = createAead(name, key, { lowMemory });
        for (const len of [0, 1, 3, 15, 16, 17, 31, 64, 100, 1000, 4097, 16384, 16384 + 2048]) {
          // Inputs at odd byte offsets, as slices of a received record would be.
          const backing = new Uint8Array(len + 40).map((_, i) => (i * 7 + len) & 0xff);
          const pt = backing.subarray(3, 3 + len);
          const aad = backing.subarray(1, 14);
          const nonce = backing.subarray(len + 5, len + 17);
          const c = createCipheriv(nodeName as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
          c.setAAD(aad, { plaintextLength: len });
          const expected = concat(c.update(pt), c.final(), c.getAuthTag());
          const sealed = a.seal(nonce, pt, aad);
          expect(toHex(sealed), `len ${len}`).to.equal(toHex(expected));
          const shifted = new Uint8Array(sealed.length + 1);
          shifted.set(sealed, 1);
          expect(toHex(a.open(nonce, shifted.subarray(1), aad)!), `len ${len}`).to.equal(toHex(pt));
          const bad = sealed.slice();
          bad[bad.length - 1]! ^= 1;
          expect(a.open(nonce, bad, aad)).to.equal(null);
        }
      }
    });
  }

  it('rejects a key of the wrong length at creation', () => {
    expect(() => createAead('AES-128-GCM', new Uint8Array(32))).to.throw(TypeError);
    expect(() => createAead('CHACHA20-POLY1305', new Uint8Array(16))).to.throw(TypeError);
  });

  it('copies the key, so later changes to the caller buffer do not matter', () => {
    const key = new Uint8Array(16);
    const a = createAead('AES-128-GCM', key);
    const s1 = a.seal(new Uint8Array(12), new Uint8Array(16), new Uint8Array(0));
    key.fill(1);
    expect(toHex(a.seal(new Uint8Array(12), new Uint8Array(16), new Uint8Array(0)))).to.equal(toHex(s1));
  });
});
