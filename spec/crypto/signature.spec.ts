import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, sign as nodeSign, verify as nodeVerify, constants, createPrivateKey } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import {
  signData, verifySignature, schemeToAlgorithm, schemeName, schemesForKey, schemeCurve,
  DEFAULT_SIGNATURE_SCHEMES, SignatureScheme,
} from '../../lib/crypto/signature.js';
import type { HashName, PrivateKey, SignatureAlgorithm } from '../../lib/crypto/keys.js';
import { privateKeyFromPem } from './keyhelpers.js';
import { utf8 } from '../../lib/wire/bytes.js';

function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

describe('crypto/signature: SignatureScheme table', () => {
  it('maps every listed code to its name and algorithm', () => {
    const expected: [number, string, SignatureAlgorithm | undefined][] = [
      [0x0403, 'ecdsa_secp256r1_sha256', { kind: 'ecdsa', hash: 'sha256' }],
      [0x0503, 'ecdsa_secp384r1_sha384', { kind: 'ecdsa', hash: 'sha384' }],
      [0x0603, 'ecdsa_secp521r1_sha512', undefined],
      [0x0807, 'ed25519', { kind: 'ed25519' }],
      [0x0804, 'rsa_pss_rsae_sha256', { kind: 'rsa-pss', hash: 'sha256', mgfHash: 'sha256', saltLength: 32 }],
      [0x0805, 'rsa_pss_rsae_sha384', { kind: 'rsa-pss', hash: 'sha384', mgfHash: 'sha384', saltLength: 48 }],
      [0x0806, 'rsa_pss_rsae_sha512', { kind: 'rsa-pss', hash: 'sha512', mgfHash: 'sha512', saltLength: 64 }],
      [0x0401, 'rsa_pkcs1_sha256', { kind: 'rsa-pkcs1', hash: 'sha256' }],
      [0x0501, 'rsa_pkcs1_sha384', { kind: 'rsa-pkcs1', hash: 'sha384' }],
      [0x0601, 'rsa_pkcs1_sha512', { kind: 'rsa-pkcs1', hash: 'sha512' }],
      [0x0201, 'rsa_pkcs1_sha1', { kind: 'rsa-pkcs1', hash: 'sha1' }],
      [0x0203, 'ecdsa_sha1', { kind: 'ecdsa', hash: 'sha1' }],
    ];
    for (const [code, name, alg] of expected) {
      expect(schemeName(code)).to.equal(name);
      expect(SignatureScheme[name as keyof typeof SignatureScheme]).to.equal(code);
      expect(schemeToAlgorithm(code)).to.deep.equal(alg);
    }
    expect(schemeToAlgorithm(0x0808)).to.equal(undefined);
    expect(schemeName(0x0808)).to.equal('unknown_scheme(0x0808)');
    expect(schemeCurve(0x0503)).to.equal('P-384');
  });

  it('the default client list has no SHA-1 and only supported schemes', () => {
    for (const c of DEFAULT_SIGNATURE_SCHEMES) {
      const alg = schemeToAlgorithm(c);
      expect(alg, schemeName(c)).to.not.equal(undefined);
      expect(alg && 'hash' in alg ? alg.hash : 'none').to.not.equal('sha1');
    }
  });
});

describe('crypto/signature: interop with the openssl CLI', function () {
  this.timeout(120_000);
  let dir: string;
  const keys: Record<string, PrivateKey> = {};
  const data = utf8('ServerKeyExchange params: client_random || server_random || params');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qtls-sig-'));
    writeFileSync(join(dir, 'data'), data);
    const gen: Record<string, string[]> = {
      rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
      p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      ed25519: ['-algorithm', 'ED25519'],
    };
    for (const [name, args] of Object.entries(gen)) {
      openssl(['genpkey', ...args, '-out', join(dir, `${name}.pem`)]);
      openssl(['pkey', '-in', join(dir, `${name}.pem`), '-pubout', '-out', join(dir, `${name}.pub.pem`)]);
      keys[name] = privateKeyFromPem(readFileSync(join(dir, `${name}.pem`)));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const pssOpts = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'];
  const cases: { key: string; alg: SignatureAlgorithm }[] = [
    { key: 'rsa', alg: { kind: 'rsa-pkcs1', hash: 'sha256' } },
    { key: 'rsa', alg: { kind: 'rsa-pkcs1', hash: 'sha384' } },
    { key: 'rsa', alg: { kind: 'rsa-pkcs1', hash: 'sha512' } },
    { key: 'rsa', alg: { kind: 'rsa-pkcs1', hash: 'sha1' } },
    { key: 'rsa', alg: schemeToAlgorithm(0x0804)! },
    { key: 'rsa', alg: schemeToAlgorithm(0x0805)! },
    { key: 'rsa', alg: schemeToAlgorithm(0x0806)! },
    { key: 'rsa1024', alg: schemeToAlgorithm(0x0805)! },
    { key: 'p256', alg: { kind: 'ecdsa', hash: 'sha256' } },
    { key: 'p256', alg: { kind: 'ecdsa', hash: 'sha384' } },
    { key: 'p256', alg: { kind: 'ecdsa', hash: 'sha512' } },
    { key: 'p384', alg: { kind: 'ecdsa', hash: 'sha384' } },
    { key: 'p384', alg: { kind: 'ecdsa', hash: 'sha256' } },
    { key: 'p384', alg: { kind: 'ecdsa', hash: 'sha1' } },
    { key: 'ed25519', alg: { kind: 'ed25519' } },
  ];

  function describeCase(c: { key: string; alg: SignatureAlgorithm }): string {
    return `${c.key} ${c.alg.kind}${'hash' in c.alg ? '/' + c.alg.hash : ''}`;
  }

  function opensslSign(c: { key: string; alg: SignatureAlgorithm }, out: string): void {
    const key = join(dir, `${c.key}.pem`);
    if (c.alg.kind === 'ed25519') {
      openssl(['pkeyutl', '-sign', '-rawin', '-inkey', key, '-in', join(dir, 'data'), '-out', out]);
    } else {
      openssl(['dgst', `-${c.alg.hash}`, '-sign', key, ...(c.alg.kind === 'rsa-pss' ? pssOpts : []), '-out', out, join(dir, 'data')]);
    }
  }

  function opensslVerify(c: { key: string; alg: SignatureAlgorithm }, sigFile: string): boolean {
    const pub = join(dir, `${c.key}.pub.pem`);
    try {
      if (c.alg.kind === 'ed25519') {
        return /Signature Verified Successfully/.test(openssl(['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', pub, '-in', join(dir, 'data'), '-sigfile', sigFile]));
      }
      return /Verified OK/.test(openssl(['dgst', `-${c.alg.hash}`, '-verify', pub, ...(c.alg.kind === 'rsa-pss' ? pssOpts : []), '-signature', sigFile, join(dir, 'data')]));
    } catch {
      return false;
    }
  }

  for (const c of cases) {
    it(`${describeCase(c)}: an openssl signature verifies; with one bit flipped, or over other data, it does not`, () => {
      const f = join(dir, `o-${Math.random().toString(36).slice(2)}.sig`);
      opensslSign(c, f);
      const sig = new Uint8Array(readFileSync(f));
      const key = keys[c.key]!;
      expect(verifySignature(c.alg, key.publicKey, data, sig)).to.equal(true);
      const bad = sig.slice();
      bad[bad.length >> 1]! ^= 0x01;
      expect(verifySignature(c.alg, key.publicKey, data, bad)).to.equal(false);
      expect(verifySignature(c.alg, key.publicKey, utf8('other data'), sig)).to.equal(false);
    });

    it(`${describeCase(c)}: our signature verifies with openssl`, () => {
      const key = keys[c.key]!;
      const sig = signData(c.alg, key, data);
      const f = join(dir, `q-${Math.random().toString(36).slice(2)}.sig`);
      writeFileSync(f, sig);
      expect(opensslVerify(c, f)).to.equal(true);
      const bad = sig.slice();
      bad[bad.length - 3]! ^= 0x10;
      writeFileSync(f, bad);
      expect(opensslVerify(c, f)).to.equal(false);
    });
  }

  it('ECDSA: accepts high-S signatures that openssl produces (about half of them)', () => {
    let highS = 0;
    let total = 0;
    for (const [name, curve, hash] of [['p256', p256, 'sha256'], ['p384', p384, 'sha384']] as const) {
      // 24 signatures per key from one openssl invocation each: a shell loop keeps it quick.
      const script = `for i in $(seq 1 24); do openssl dgst -${hash} -sign "$1" "$2" | od -An -v -tx1 | tr -d ' \\n'; echo; done`;
      const out = execFileSync('sh', ['-c', script, 'sh', join(dir, `${name}.pem`), join(dir, 'data')]).toString().trim().split('\n');
      const key = keys[name]!;
      for (const hex of out) {
        const sig = new Uint8Array(Buffer.from(hex, 'hex'));
        const s = curve.Signature.fromBytes(sig, 'der').s;
        if (s > curve.Point.CURVE().n / 2n) highS++;
        expect(verifySignature({ kind: 'ecdsa', hash: hash as HashName }, key.publicKey, data, sig), hex).to.equal(true);
        total++;
      }
    }
    expect(total).to.equal(48);
    expect(highS).to.be.greaterThan(0); // P(no high-S among 48) = 2^-48
  });

  it('PSS with other salt lengths: verify requires the expected salt length', () => {
    const key = keys['rsa']!;
    if (key.type !== 'rsa') throw new Error('rsa key expected');
    const nodeKey = createPrivateKey(readFileSync(join(dir, 'rsa.pem')));
    for (const saltLength of [0, 20, 32, 64]) {
      const sig = new Uint8Array(nodeSign('sha256', data, { key: nodeKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }));
      const alg: SignatureAlgorithm = { kind: 'rsa-pss', hash: 'sha256', mgfHash: 'sha256', saltLength };
      expect(verifySignature(alg, key.publicKey, data, sig), `salt ${saltLength}`).to.equal(true);
      expect(verifySignature({ ...alg, saltLength: saltLength + 1 }, key.publicKey, data, sig)).to.equal(false);
      const ours = signData(alg, key, data);
      expect(nodeVerify('sha256', data, { key: createPublicKey(nodeKey), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, ours)).to.equal(true);
    }
  });

  it('malformed signatures are false, never exceptions; key/algorithm mismatch throws', () => {
    const rsa = keys['rsa']!;
    const ec = keys['p256']!;
    const ed = keys['ed25519']!;
    const junk = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(64), new Uint8Array(256).fill(0xff), new Uint8Array(300)];
    for (const s of junk) {
      expect(verifySignature({ kind: 'rsa-pkcs1', hash: 'sha256' }, rsa.publicKey, data, s)).to.equal(false);
      expect(verifySignature(schemeToAlgorithm(0x0804)!, rsa.publicKey, data, s)).to.equal(false);
      expect(verifySignature({ kind: 'ecdsa', hash: 'sha256' }, ec.publicKey, data, s)).to.equal(false);
      expect(verifySignature({ kind: 'ed25519' }, ed.publicKey, data, s)).to.equal(false);
    }
    // s = n is out of range even though it has the right length.
    if (rsa.type === 'rsa') {
      const n = Buffer.from(rsa.n.toString(16).padStart(512, '0'), 'hex');
      expect(verifySignature({ kind: 'rsa-pkcs1', hash: 'sha256' }, rsa.publicKey, data, new Uint8Array(n))).to.equal(false);
    }
    expect(() => verifySignature({ kind: 'ecdsa', hash: 'sha256' }, rsa.publicKey, data, new Uint8Array(1))).to.throw(TypeError);
    expect(() => signData({ kind: 'ed25519' }, ec, data)).to.throw(TypeError);
  });

  it('schemesForKey: one ECDSA scheme per curve; RSA PSS first, then PKCS#1, by hash size', () => {
    expect(schemesForKey(keys['p256']!)).to.deep.equal([0x0403]);
    expect(schemesForKey(keys['p384']!.publicKey)).to.deep.equal([0x0503]);
    expect(schemesForKey(keys['ed25519']!)).to.deep.equal([0x0807]);
    expect(schemesForKey(keys['rsa']!)).to.deep.equal([0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601]);
    // PSS-SHA512 with a 64-byte salt does not fit a 1024-bit modulus (RFC 8017 §9.1.1).
    expect(schemesForKey(keys['rsa1024']!)).to.deep.equal([0x0804, 0x0805, 0x0401, 0x0501, 0x0601]);
  });
});
