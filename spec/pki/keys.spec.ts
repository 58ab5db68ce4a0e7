import { expect } from 'chai';
import crypto from 'node:crypto';
import {
  UnsupportedKeyError,
  encodePkcs8,
  encodeSubjectPublicKeyInfo,
  parsePrivateKey,
  parsePublicKey,
  parseSubjectPublicKeyInfo,
  privateKeyToPem,
} from '../../lib/pki/keys.js';
import type { PrivateKey, PublicKey } from '../../lib/crypto/keys.js';
import { TLSError } from '../../lib/alert.js';
import { pemDecodeFirst } from '../../lib/pki/pem.js';
import { fixture } from './helpers.js';

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}
function bigB64u(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** Compare our parse with Node's (OpenSSL's) view of the same key, via JWK. */
function expectSameAsNode(ours: PrivateKey, pem: string): void {
  const nodeKey = crypto.createPrivateKey(pem);
  if (nodeKey.asymmetricKeyType === 'rsa-pss') {
    // Node cannot export RSA-PSS keys as JWK; compare the details it does expose.
    expect(ours.type).to.equal('rsa');
    expect(ours.type === 'rsa' && ours.bits).to.equal(nodeKey.asymmetricKeyDetails!.modulusLength);
    expect(ours.type === 'rsa' && ours.e).to.equal(nodeKey.asymmetricKeyDetails!.publicExponent);
    return;
  }
  const jwk = crypto.createPrivateKey(pem).export({ format: 'jwk' });
  switch (ours.type) {
    case 'ec':
      expect(jwk.crv).to.equal(ours.curve);
      expect(b64u(ours.d)).to.equal(jwk.d);
      expect(b64u(ours.publicKey.point.subarray(1, 1 + ours.d.length))).to.equal(jwk.x);
      expect(b64u(ours.publicKey.point.subarray(1 + ours.d.length))).to.equal(jwk.y);
      break;
    case 'ed25519':
      expect(jwk.crv).to.equal('Ed25519');
      expect(b64u(ours.seed)).to.equal(jwk.d);
      expect(b64u(ours.publicKey.raw)).to.equal(jwk.x);
      break;
    case 'rsa':
      for (const k of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const) expect(bigB64u(ours[k]), k).to.equal(jwk[k]);
      expect(ours.bits).to.equal(2048);
      expect(ours.publicKey).to.deep.equal({ type: 'rsa', n: ours.n, e: ours.e, bits: 2048 });
      break;
  }
}

describe('pki/keys', () => {
  describe('parsePrivateKey', () => {
    const cases: [string, PrivateKey['type'], string?][] = [
      ['rsa-key.pem', 'rsa'],
      ['rsa-key.pkcs1.pem', 'rsa'],
      ['rsa-pss-key.pem', 'rsa'],
      ['ecdsa-p256-key.pem', 'ec', 'P-256'],
      ['ecdsa-p256-key.sec1.pem', 'ec', 'P-256'],
      ['ecdsa-p384-key.pem', 'ec', 'P-384'],
      ['ed25519-key.pem', 'ed25519'],
      ['root-ca-key.pem', 'ec', 'P-256'],
      ['client-key.pem', 'ec', 'P-256'],
    ];
    for (const [file, type, curve] of cases) {
      it(`parses ${file} exactly as OpenSSL does (${type}${curve ? ' ' + curve : ''})`, () => {
        const pem = fixture(file);
        const key = parsePrivateKey(pem);
        expect(key.type).to.equal(type);
        if (curve && key.type === 'ec') expect(key.curve).to.equal(curve);
        expectSameAsNode(key, pem);
      });
    }

    it('gives the same key for the PKCS#8, SEC1 and PKCS#1 encodings of one key', () => {
      expect(parsePrivateKey(fixture('ecdsa-p256-key.sec1.pem'))).to.deep.equal(parsePrivateKey(fixture('ecdsa-p256-key.pem')));
      expect(parsePrivateKey(fixture('rsa-key.pkcs1.pem'))).to.deep.equal(parsePrivateKey(fixture('rsa-key.pem')));
    });

    it('accepts PEM as bytes (a Buffer read from a file) and raw DER of each structure', () => {
      const pem = fixture('ecdsa-p384-key.pem');
      const expected = parsePrivateKey(pem);
      expect(parsePrivateKey(Buffer.from(pem))).to.deep.equal(expected);
      expect(parsePrivateKey(pemDecodeFirst(pem, 'PRIVATE KEY').der)).to.deep.equal(expected);
      expect(parsePrivateKey(pemDecodeFirst(fixture('ecdsa-p256-key.sec1.pem'), 'EC PRIVATE KEY').der).type).to.equal('ec');
      expect(parsePrivateKey(pemDecodeFirst(fixture('rsa-key.pkcs1.pem'), 'RSA PRIVATE KEY').der).type).to.equal('rsa');
    });

    it('skips an "EC PARAMETERS" block before the key', () => {
      const pem = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
      const withParams = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + pem;
      expect(parsePrivateKey(withParams).type).to.equal('ec');
    });

    it('rejects encrypted private keys with a clear message', () => {
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enc = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string;
      expect(() => parsePrivateKey(enc)).to.throw(UnsupportedKeyError, /encrypted private keys are not supported/);
    });

    it('rejects curves other than P-256/P-384 and other algorithms as unsupported', () => {
      for (const namedCurve of ['P-521', 'secp256k1']) {
        const pem = crypto.generateKeyPairSync('ec', { namedCurve }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        expect(() => parsePrivateKey(pem), namedCurve).to.throw(UnsupportedKeyError, /unsupported key: EC curve/);
      }
      const ed448 = crypto.generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      expect(() => parsePrivateKey(ed448)).to.throw(UnsupportedKeyError, /ed448/);
    });

    it('rejects a text without a key block, and truncated DER, with TLSErrors', () => {
      expect(() => parsePrivateKey('hello')).to.throw(TLSError, /no PRIVATE KEY/);
      const der = pemDecodeFirst(fixture('ed25519-key.pem'), 'PRIVATE KEY').der;
      expect(() => parsePrivateKey(der.subarray(0, der.length - 1))).to.throw(TLSError, /truncated/);
    });

    it('throws only TLSErrors for random corruptions of PKCS#8, SEC1 and PKCS#1 DER', () => {
      const inputs = [
        pemDecodeFirst(fixture('ecdsa-p384-key.pem'), 'PRIVATE KEY').der,
        pemDecodeFirst(fixture('ed25519-key.pem'), 'PRIVATE KEY').der,
        pemDecodeFirst(fixture('ecdsa-p256-key.sec1.pem'), 'EC PRIVATE KEY').der,
        pemDecodeFirst(fixture('rsa-key.pkcs1.pem'), 'RSA PRIVATE KEY').der,
      ];
      for (const der of inputs) {
        for (let i = 0; i < 300; i++) {
          const copy = Uint8Array.from(der);
          copy[crypto.randomInt(Math.min(copy.length, 80))] = crypto.randomInt(256);
          try {
            parsePrivateKey(copy);
          } catch (err) {
            expect(err, (err as Error).message).to.be.instanceOf(TLSError);
          }
        }
      }
    });

    it('rejects an EC private key whose embedded public key does not match', () => {
      const der = Uint8Array.from(pemDecodeFirst(fixture('ecdsa-p256-key.sec1.pem'), 'EC PRIVATE KEY').der);
      der[der.length - 1] ^= 1; // flip a bit of Y
      expect(() => parsePrivateKey(der)).to.throw(TLSError);
    });
  });

  describe('encodePkcs8 / encodeSubjectPublicKeyInfo', () => {
    for (const file of ['rsa-key.pem', 'ecdsa-p256-key.pem', 'ecdsa-p384-key.pem', 'ed25519-key.pem']) {
      it(`round-trips ${file} through PKCS#8 and SPKI byte-identically to OpenSSL`, () => {
        const pem = fixture(file);
        const key = parsePrivateKey(pem);
        const nodeKey = crypto.createPrivateKey(pem);
        // PKCS#8 we write is readable by OpenSSL and is the same key.
        const reread = crypto.createPrivateKey({ key: Buffer.from(encodePkcs8(key)), format: 'der', type: 'pkcs8' });
        expect(reread.export({ format: 'jwk' })).to.deep.equal(nodeKey.export({ format: 'jwk' }));
        expect(parsePrivateKey(privateKeyToPem(key))).to.deep.equal(key);
        // SPKI equals OpenSSL's encoding byte for byte.
        const spki = crypto.createPublicKey(nodeKey).export({ type: 'spki', format: 'der' });
        expect(Buffer.from(encodeSubjectPublicKeyInfo(key.publicKey)).equals(spki)).to.equal(true);
        expect(parseSubjectPublicKeyInfo(spki)).to.deep.equal(key.publicKey);
      });
    }
  });

  describe('parseSubjectPublicKeyInfo', () => {
    it('treats an id-RSASSA-PSS key as RSA', () => {
      const spki = crypto.createPublicKey(fixture('rsa-pss-key.pem')).export({ type: 'spki', format: 'der' });
      const k = parseSubjectPublicKeyInfo(spki);
      expect(k.type).to.equal('rsa');
      expect((k as PublicKey & { type: 'rsa' }).bits).to.equal(2048);
    });

    it('decompresses a compressed EC point', () => {
      const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const uncompressed = parseSubjectPublicKeyInfo(publicKey.export({ type: 'spki', format: 'der' }));
      const jwk = publicKey.export({ format: 'jwk' });
      const y = Buffer.from(jwk.y!, 'base64url');
      const compressed = Buffer.concat([Buffer.of(2 + (y[y.length - 1]! & 1)), Buffer.from(jwk.x!, 'base64url')]);
      const spki = encodeSubjectPublicKeyInfo({ type: 'ec', curve: 'P-384', point: compressed });
      expect(parseSubjectPublicKeyInfo(spki)).to.deep.equal(uncompressed);
    });

    it('rejects a point that is not on the curve', () => {
      const point = new Uint8Array(65);
      point[0] = 4;
      point[64] = 1;
      expect(() => parseSubjectPublicKeyInfo(encodeSubjectPublicKeyInfo({ type: 'ec', curve: 'P-256', point }))).to.throw(TLSError, /not on the curve/);
    });

    it('raises a clear unsupported error for P-521, X25519 and DSA keys', () => {
      const p521 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ type: 'spki', format: 'der' });
      expect(() => parseSubjectPublicKeyInfo(p521)).to.throw(UnsupportedKeyError, /EC curve secp521r1/);
      const x25519 = crypto.generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' });
      expect(() => parseSubjectPublicKeyInfo(x25519)).to.throw(UnsupportedKeyError, /x25519/);
      const dsa = crypto.generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).publicKey.export({ type: 'spki', format: 'der' });
      expect(() => parseSubjectPublicKeyInfo(dsa)).to.throw(UnsupportedKeyError, /dsa/);
    });

    it('parses PEM "PUBLIC KEY" text', () => {
      const pem = crypto.createPublicKey(fixture('ed25519-key.pem')).export({ type: 'spki', format: 'pem' }) as string;
      expect(parsePublicKey(pem)).to.deep.equal(parsePrivateKey(fixture('ed25519-key.pem')).publicKey);
    });
  });
});
