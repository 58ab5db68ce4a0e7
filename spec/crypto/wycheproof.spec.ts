// Every test case of the Wycheproof files in fixtures/wycheproof/ (see SOURCE.md there) through our code.
// 'valid' must pass, 'invalid' must fail, and each 'acceptable' group is decided explicitly below.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createAead } from '../../lib/crypto/aead.js';
import { ecdhSharedSecret, EcdhGroup } from '../../lib/crypto/ecdh.js';
import { verifySignature } from '../../lib/crypto/signature.js';
import { rsaPkcs1Sign, rsaPkcs1Verify, rsaPssVerify } from '../../lib/crypto/rsa.js';
import { hmac, type DigestName } from '../../lib/crypto/hash.js';
import { timingSafeEqual } from '../../lib/crypto/ct.js';
import { TLSError } from '../../lib/alert.js';
import type { HashName, PublicKey } from '../../lib/crypto/keys.js';
import { concat, fromHex, toHex } from '../../lib/wire/bytes.js';
import { rsaKeyFromNED } from './keyhelpers.js';

type Result = 'valid' | 'invalid' | 'acceptable';
interface TestCase { tcId: number; comment: string; flags: string[]; result: Result; [k: string]: unknown }
interface TestGroup { tests: TestCase[]; [k: string]: unknown }
interface VectorFile { algorithm: string; numberOfTests: number; testGroups: TestGroup[] }

function load(name: string): VectorFile {
  return JSON.parse(readFileSync(new URL(`../../fixtures/wycheproof/${name}`, import.meta.url), 'utf8')) as VectorFile;
}
function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a string field, got ${typeof v}`);
  return v;
}
const hex = (v: unknown): Uint8Array => fromHex(str(v));
const big = (v: unknown): bigint => BigInt('0x' + (str(v) || '0'));

/** Wycheproof's "SHA-256" → our DigestName. */
function digestName(sha: unknown): DigestName {
  const m: Record<string, DigestName> = { 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
  const d = m[str(sha)];
  if (!d) throw new Error(`unknown hash ${String(sha)}`);
  return d;
}

/** Runs every case; returns how many ran, which must equal the file's numberOfTests. */
function runAll(file: VectorFile, run: (t: TestCase, g: TestGroup) => void): number {
  let n = 0;
  const failures: string[] = [];
  for (const g of file.testGroups) {
    for (const t of g.tests) {
      n++;
      try {
        run(t, g);
      } catch (e) {
        failures.push(`tcId ${t.tcId} (${t.result}, ${t.comment}, ${t.flags.join(',')}): ${(e as Error).message}`);
      }
    }
  }
  expect(failures, failures.slice(0, 10).join('\n')).to.deep.equal([]);
  return n;
}

function expectTLSIllegal(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof TLSError) || err.alert !== 'illegal_parameter') throw new Error(`expected TLSError(illegal_parameter), got ${String(err)}`);
}

describe('Wycheproof', function () {
  this.timeout(120_000);

  it('rsa_signature_2048_sha256_test.json and ..._sha384: PKCS#1 v1.5 verify (MissingNull rejected)', () => {
    for (const [name, count] of [['rsa_signature_2048_sha256_test.json', 259], ['rsa_signature_2048_sha384_test.json', 258]] as const) {
      const f = load(name);
      const ran = runAll(f, (t, g) => {
        const pk = g['publicKey'] as { modulus: string; publicExponent: string };
        const n = big(pk.modulus);
        const key: PublicKey & { type: 'rsa' } = { type: 'rsa', n, e: big(pk.publicExponent), bits: n.toString(2).length };
        const ok = rsaPkcs1Verify(key, digestName(g['sha']), hex(t['msg']), hex(t['sig']));
        // 'acceptable' here is only MissingNull (DigestInfo without the NULL parameter): we compare
        // against the one canonical encoding, as RFC 8017 §8.2.2 step 4 does, so we reject it.
        const expected = t.result === 'valid';
        if (t.result === 'acceptable' && !t.flags.every((x) => x === 'MissingNull')) throw new Error('undecided acceptable case');
        if (ok !== expected) throw new Error(`verify returned ${ok}`);
        // Same verdict through the public signature API.
        const hashName = digestName(g['sha']) as HashName;
        if (verifySignature({ kind: 'rsa-pkcs1', hash: hashName }, key, hex(t['msg']), hex(t['sig'])) !== expected) throw new Error('verifySignature disagrees');
      });
      expect(ran).to.equal(f.numberOfTests).and.to.equal(count);
    }
  });

  it('rsa_pss_2048_sha256_mgf1_32_test.json: RSASSA-PSS verify, salt length 32', () => {
    const f = load('rsa_pss_2048_sha256_mgf1_32_test.json');
    const ran = runAll(f, (t, g) => {
      const pk = g['publicKey'] as { modulus: string; publicExponent: string };
      const n = big(pk.modulus);
      const key: PublicKey & { type: 'rsa' } = { type: 'rsa', n, e: big(pk.publicExponent), bits: n.toString(2).length };
      expect(g['mgf']).to.equal('MGF1');
      const ok = rsaPssVerify(key, digestName(g['sha']), hex(t['msg']), hex(t['sig']), Number(g['sLen']), digestName(g['mgfSha']));
      if (t.result === 'acceptable') throw new Error('undecided acceptable case');
      if (ok !== (t.result === 'valid')) throw new Error(`verify returned ${ok}`);
    });
    expect(ran).to.equal(f.numberOfTests).and.to.equal(108);
  });

  it('rsa_pkcs1_2048_sig_gen_test.json: our PKCS#1 v1.5 signing reproduces every expected signature', () => {
    // Signature generation vectors: the key is given as (n, e, d); PKCS#1 v1.5 is deterministic, so our
    // CRT + blinded signer must produce exactly the listed bytes. 'acceptable' marks SHA-1 (WeakHash)
    // and e = 3 (SmallPublicKey): both still sign correctly, so we require the exact signature for them too.
    const f = load('rsa_pkcs1_2048_sig_gen_test.json');
    const ran = runAll(f, (t, g) => {
      const pk = g['privateKey'] as { modulus: string; publicExponent: string; privateExponent: string };
      const key = rsaKeyFromNED(big(pk.modulus), big(pk.publicExponent), big(pk.privateExponent));
      if (t.result === 'acceptable' && !t.flags.every((x) => x === 'WeakHash' || x === 'SmallPublicKey')) throw new Error('undecided acceptable case');
      if (t.result === 'invalid') throw new Error('unexpected invalid generation case');
      const sig = rsaPkcs1Sign(key, digestName(g['sha']), hex(t['msg']));
      if (toHex(sig) !== str(t['sig'])) throw new Error('signature differs');
      if (!rsaPkcs1Verify(key.publicKey, digestName(g['sha']), hex(t['msg']), sig)) throw new Error('own signature does not verify');
    });
    expect(ran).to.equal(f.numberOfTests).and.to.equal(43);
  });

  for (const [name, curve, count] of [
    ['ecdsa_secp256r1_sha256_test.json', 'P-256', 484],
    ['ecdsa_secp384r1_sha384_test.json', 'P-384', 504],
  ] as const) {
    it(`${name}: ECDSA DER verify`, () => {
      const f = load(name);
      const ran = runAll(f, (t, g) => {
        const pk = g['publicKey'] as { uncompressed: string };
        const key: PublicKey = { type: 'ec', curve, point: fromHex(pk.uncompressed) };
        const ok = verifySignature({ kind: 'ecdsa', hash: digestName(g['sha']) as HashName }, key, hex(t['msg']), hex(t['sig']));
        if (t.result === 'acceptable') throw new Error('undecided acceptable case');
        if (ok !== (t.result === 'valid')) throw new Error(`verify returned ${ok}`);
      });
      expect(ran).to.equal(f.numberOfTests).and.to.equal(count);
    });
  }

  it('ed25519_test.json: Ed25519 verify (RFC 8032 strict)', () => {
    const f = load('ed25519_test.json');
    const ran = runAll(f, (t, g) => {
      const pk = g['publicKey'] as { pk: string };
      const ok = verifySignature({ kind: 'ed25519' }, { type: 'ed25519', raw: fromHex(pk.pk) }, hex(t['msg']), hex(t['sig']));
      if (t.result === 'acceptable') throw new Error('undecided acceptable case');
      if (ok !== (t.result === 'valid')) throw new Error(`verify returned ${ok}`);
    });
    expect(ran).to.equal(f.numberOfTests).and.to.equal(151);
  });

  for (const [name, group, size, count, toReject] of [
    ['ecdh_secp256r1_ecpoint_test.json', EcdhGroup.secp256r1, 32, 355, 25],
    ['ecdh_secp384r1_ecpoint_test.json', EcdhGroup.secp384r1, 48, 790, 19],
  ] as const) {
    it(`${name}: ECPoint validation and shared secrets (compressed points rejected)`, () => {
      const f = load(name);
      let rejected = 0;
      const ran = runAll(f, (t) => {
        // Wycheproof private keys are minimal or sign-padded big-endian integers; we take curve-size bytes.
        const d = big(t['private']);
        const priv = fromHex(d.toString(16).padStart(2 * size, '0'));
        const pub = hex(t['public']);
        // 'acceptable' is only the compressed public key: valid ECDH, but RFC 8422 §5.1.2/§5.11 lets a
        // TLS 1.2 peer send only the uncompressed form, so we reject it like every invalid point.
        if (t.result === 'acceptable' && !t.flags.includes('CompressedPublic')) throw new Error('undecided acceptable case');
        if (t.result === 'valid') {
          const z = ecdhSharedSecret(group, priv, pub);
          if (toHex(z) !== str(t['shared'])) throw new Error('shared secret differs');
        } else {
          expectTLSIllegal(() => ecdhSharedSecret(group, priv, pub));
          rejected++;
        }
      });
      expect(ran).to.equal(f.numberOfTests).and.to.equal(count);
      expect(rejected).to.equal(toReject); // the invalid cases plus the one compressed 'acceptable' point
    });
  }

  it('x25519_test.json: shared secrets, and the all-zero secret rejected (RFC 7748 §6.1)', () => {
    const f = load('x25519_test.json');
    let zero = 0;
    const ran = runAll(f, (t) => {
      const shared = str(t['shared']);
      // 'acceptable' cases are twist points, non-canonical encodings and other edge cases RFC 7748 §5
      // defines a result for: we compute them. The exception is an all-zero shared secret (low-order
      // public key), which TLS must refuse (RFC 7748 §6.1, RFC 8422 §5.11).
      if (t.result === 'invalid') throw new Error('no invalid cases expected in this file');
      if (shared === '00'.repeat(32)) {
        expectTLSIllegal(() => ecdhSharedSecret(EcdhGroup.x25519, hex(t['private']), hex(t['public'])));
        zero++;
      } else {
        const z = ecdhSharedSecret(EcdhGroup.x25519, hex(t['private']), hex(t['public']));
        if (toHex(z) !== shared) throw new Error('shared secret differs');
      }
    });
    expect(ran).to.equal(f.numberOfTests).and.to.equal(518);
    expect(zero).to.equal(31);
  });

  function runAead(name: string, aeadFor: (g: TestGroup) => 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305' | undefined): { ran: number; skipped: number; file: VectorFile } {
    const file = load(name);
    let skipped = 0;
    const ran = runAll(file, (t, g) => {
      const which = aeadFor(g);
      if (!which) {
        skipped++;
        return;
      }
      if (t.result === 'acceptable') throw new Error('undecided acceptable case');
      const a = createAead(which, hex(t['key']));
      const iv = hex(t['iv']);
      const sealed = concat(hex(t['ct']), hex(t['tag']));
      const opened = a.open(iv, sealed, hex(t['aad']));
      if (t.result === 'valid') {
        if (opened === null || toHex(opened) !== str(t['msg'])) throw new Error('open failed');
        if (toHex(a.seal(iv, hex(t['msg']), hex(t['aad']))) !== toHex(sealed)) throw new Error('seal differs');
      } else if (opened !== null) {
        throw new Error('open accepted an invalid ciphertext');
      }
    });
    return { ran, skipped, file };
  }

  it('aes_gcm_test.json: every case with a 12-byte IV, 16-byte tag and 128/256-bit key (the TLS ones)', () => {
    const { ran, skipped, file } = runAead('aes_gcm_test.json', (g) => {
      if (g['ivSize'] !== 96 || g['tagSize'] !== 128) return undefined;
      return g['keySize'] === 128 ? 'AES-128-GCM' : g['keySize'] === 256 ? 'AES-256-GCM' : undefined;
    });
    expect(ran).to.equal(file.numberOfTests).and.to.equal(316);
    expect(ran - skipped).to.equal(133); // AES-192 and non-96-bit IVs are not used by TLS
  });

  it('chacha20_poly1305_test.json: all cases (non-12-byte nonces must fail to open)', () => {
    const { ran, skipped, file } = runAead('chacha20_poly1305_test.json', () => 'CHACHA20-POLY1305');
    expect(skipped).to.equal(0);
    expect(ran).to.equal(file.numberOfTests).and.to.equal(325);
  });

  it('hmac_sha256_test.json: HMAC-SHA256, full and truncated tags', () => {
    const f = load('hmac_sha256_test.json');
    const ran = runAll(f, (t, g) => {
      const tag = hex(t['tag']);
      expect(tag.length * 8).to.equal(g['tagSize']);
      const mac = hmac('sha256', hex(t['key']), hex(t['msg'])).subarray(0, tag.length);
      if (t.result === 'acceptable') throw new Error('undecided acceptable case');
      if (timingSafeEqual(mac, tag) !== (t.result === 'valid')) throw new Error('mac verdict differs');
    });
    expect(ran).to.equal(f.numberOfTests).and.to.equal(174);
  });
});
