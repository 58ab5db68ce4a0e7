// From premaster secret to record protection: master secret (RFC 5246 §8.1, RFC 7627 §4), key block
// (§6.3) and the Finished verify_data (§7.4.9).
import { aeadKeyLength } from '../crypto/aead.js';
import { extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret } from '../crypto/prf.js';
import { createProtection, fixedIvLength, type RecordProtection } from '../record/protection.js';
import type { CipherSuite } from '../suites.js';

export function computeMasterSecret(
  suite: CipherSuite,
  premaster: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  /** Transcript hash through ClientKeyExchange when extended master secret was negotiated. */
  sessionHash: Uint8Array | undefined,
): Uint8Array {
  return sessionHash ? extendedMasterSecret(suite.prf, premaster, sessionHash) : masterSecret(suite.prf, premaster, clientRandom, serverRandom);
}

export interface ConnectionKeys {
  client: RecordProtection;
  server: RecordProtection;
}

/** §6.3: AEAD suites have no MAC keys; key block = client key, server key, client IV, server IV. */
export function deriveConnectionKeys(suite: CipherSuite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): ConnectionKeys {
  const kLen = aeadKeyLength(suite.aead);
  const ivLen = fixedIvLength(suite.aead);
  const block = keyBlock(suite.prf, master, serverRandom, clientRandom, 2 * kLen + 2 * ivLen);
  let o = 0;
  const take = (n: number) => block.subarray(o, (o += n));
  const ck = take(kLen), sk = take(kLen), civ = take(ivLen), siv = take(ivLen);
  return { client: createProtection(suite.aead, ck, civ), server: createProtection(suite.aead, sk, siv) };
}

export function verifyData(suite: CipherSuite, master: Uint8Array, sender: 'client' | 'server', transcriptHash: Uint8Array): Uint8Array {
  return finishedVerifyData(suite.prf, master, sender, transcriptHash);
}
