// Key representations shared by crypto/ (which uses them) and pki/ (which parses them from DER/PEM).

export type NamedCurve = 'P-256' | 'P-384';

export type PublicKey =
  | { type: 'ec'; curve: NamedCurve; /** uncompressed SEC1 point 04||X||Y */ point: Uint8Array }
  | { type: 'ed25519'; /** 32-byte raw public key */ raw: Uint8Array }
  | { type: 'rsa'; n: bigint; e: bigint; /** modulus size in bits */ bits: number };

export type PrivateKey =
  | { type: 'ec'; curve: NamedCurve; /** big-endian scalar, curve-size bytes */ d: Uint8Array; publicKey: PublicKey & { type: 'ec' } }
  | { type: 'ed25519'; /** 32-byte seed */ seed: Uint8Array; publicKey: PublicKey & { type: 'ed25519' } }
  | {
      type: 'rsa';
      n: bigint; e: bigint; d: bigint; p: bigint; q: bigint; dp: bigint; dq: bigint; qi: bigint;
      bits: number;
      publicKey: PublicKey & { type: 'rsa' };
    };

/** A signature algorithm as certificates and TLS name it, independent of the wire code. */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type SignatureAlgorithm =
  | { kind: 'ecdsa'; hash: HashName }
  | { kind: 'ed25519' }
  | { kind: 'rsa-pkcs1'; hash: HashName }
  | { kind: 'rsa-pss'; hash: HashName; mgfHash: HashName; saltLength: number };
