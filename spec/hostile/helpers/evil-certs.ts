// Hand-built certificates a hostile peer may send: structurally valid X.509 whose keys or signatures
// are weapons rather than credentials. Nothing here is signed for real.
import { der } from '../../../lib/pki/der.js';
import { encodeName } from '../../../lib/pki/issue.js';
import { encodeSubjectPublicKeyInfo } from '../../../lib/pki/keys.js';
import { OID } from '../../../lib/pki/oids.js';
import { parseCertificate } from '../../../lib/pki/x509.js';
import { randomBytes } from '../../../lib/crypto/random.js';
import { chainDer, privateKey } from './fixtures.js';

const ext = (oid: string, critical: boolean, value: Uint8Array) =>
  der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));

/** An RSA SubjectPublicKeyInfo for any (n, e): no private key exists or is needed. */
export function rsaSpki(n: bigint, e: bigint): Uint8Array {
  const rsaKey = der.sequence(der.integer(n), der.integer(e));
  return der.sequence(der.sequence(der.oid(OID.rsaEncryption), der.null()), der.bitString(rsaKey));
}

/** A random odd number of exactly `bits` bits (a plausible-looking modulus). */
export function fakeModulus(bits: number): bigint {
  const n = BigInt('0x' + Buffer.from(randomBytes(bits / 8)).toString('hex'));
  return n | (1n << BigInt(bits - 1)) | 1n;
}

export function rawCertificate(o: {
  subject: Uint8Array;
  issuer: Uint8Array;
  spki: Uint8Array;
  ca: boolean;
  san?: string;
  /** Signature bytes (garbage: nothing verifies them successfully). */
  signature: Uint8Array;
}): Uint8Array {
  const exts = [ext(OID.basicConstraints, true, o.ca ? der.sequence(der.boolean(true)) : der.sequence())];
  if (o.san) exts.push(ext(OID.subjectAltName, false, der.sequence(der.implicit(2, Buffer.from(o.san, 'latin1')))));
  const algId = der.sequence(der.oid(OID.sha256WithRSAEncryption), der.null());
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(BigInt('0x' + Buffer.from(randomBytes(8)).toString('hex'))),
    algId,
    o.issuer,
    der.sequence(der.time(new Date('2025-01-01T00:00:00Z')), der.time(new Date('2045-01-01T00:00:00Z'))),
    o.subject,
    o.spki,
    der.explicit(3, der.sequence(...exts)),
  );
  return der.sequence(tbs, algId, der.bitString(o.signature));
}

/**
 * [leaf, intermediate]: the intermediate (named as if issued by the trusted root) carries an RSA key
 * of `bits` bits with public exponent e = n - 2; the leaf (localhost, the real ECDSA fixture key)
 * claims to be issued by it. Checking the leaf's signature costs one modular exponentiation with a
 * `bits`-bit exponent.
 */
export function hugeExponentChain(bits = 16384): Uint8Array[] {
  const root = parseCertificate(chainDer('root-ca.pem')[0]!);
  const n = fakeModulus(bits);
  const evilName = encodeName({ C: 'DE', O: 'qtls test PKI', CN: 'Evil Intermediate' });
  const intermediate = rawCertificate({ subject: evilName, issuer: root.subject.der, spki: rsaSpki(n, n - 2n), ca: true, signature: randomBytes(64) });
  const leaf = rawCertificate({
    subject: encodeName({ C: 'DE', O: 'qtls test PKI', CN: 'localhost' }),
    issuer: evilName,
    spki: encodeSubjectPublicKeyInfo(privateKey('ecdsa-p256-key.pem').publicKey),
    ca: false,
    san: 'localhost',
    signature: randomBytes(bits / 8),
  });
  return [leaf, intermediate];
}
