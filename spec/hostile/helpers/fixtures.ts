// Test PKI (fixtures/pki, see make-fixtures.sh) loaded once, as PEM text, DER chains and parsed keys.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrivateKey } from '../../../lib/crypto/keys.js';
import { parsePrivateKey } from '../../../lib/pki/keys.js';
import { pemDecode } from '../../../lib/pki/pem.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pki');

const cache = new Map<string, string>();
export function pem(name: string): string {
  let t = cache.get(name);
  if (t === undefined) cache.set(name, (t = readFileSync(join(DIR, name), 'latin1')));
  return t;
}

/** DER certificates of a PEM chain file, leaf first. */
export function chainDer(name: string): Uint8Array[] {
  return pemDecode(pem(name), 'CERTIFICATE');
}


const keys = new Map<string, PrivateKey>();
export function privateKey(name: string): PrivateKey {
  let k = keys.get(name);
  if (!k) keys.set(name, (k = parsePrivateKey(pem(name))));
  return k;
}

/** The identities a hostile server can present (file stem → chain + key). */
export const IDENTITIES = {
  ecdsa: { chain: 'ecdsa-p256-chain.pem', key: 'ecdsa-p256-key.pem' },
  rsa: { chain: 'rsa-chain.pem', key: 'rsa-key.pem' },
  expired: { chain: 'expired-chain.pem', key: 'expired-key.pem' },
  wrongName: { chain: 'wrong-name-chain.pem', key: 'wrong-name-key.pem' },
  unknownCa: { chain: 'unknown-ca-cert.pem', key: 'unknown-ca-key.pem' },
} as const;
export type IdentityName = keyof typeof IDENTITIES;

export const CA = () => pem('ca.pem');
