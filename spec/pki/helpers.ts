// Shared helpers for the PKI specs: fixture paths and loading.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/pki');

export function fixturePath(name: string): string {
  return path.join(FIXTURES, name);
}

export function fixture(name: string): string {
  return readFileSync(fixturePath(name), 'latin1');
}

export const LEAF_TYPES = ['rsa', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const;
