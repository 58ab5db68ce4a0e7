// TLS 1.2 PRF and the secrets derived with it (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627 §4).
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from '../wire/bytes.js';

/** The PRF hash of a TLS 1.2 cipher suite: SHA-256 by default, SHA-384 for *_SHA384 suites. */
export type PrfHash = 'sha256' | 'sha384';

const prfHashes = { sha256, sha384 } as const;

/**
 * RFC 5246 §5: P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 * with A(0) = seed, A(i) = HMAC(secret, A(i-1)).
 */
function pHash(name: PrfHash, secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const h = prfHashes[name];
  if (!h) throw new TypeError(`unsupported PRF hash ${String(name)}`);
  // Key the HMAC once and clone it per block (saves re-hashing the padded key every call).
  const keyed = nobleHmac.create(h, secret);
  const mac = (data: Uint8Array): Uint8Array => keyed.clone().update(data).digest();
  const out = new Uint8Array(length);
  let a = seed;
  let off = 0;
  while (off < length) {
    a = mac(a);
    const block = mac(concat(a, seed));
    out.set(block.subarray(0, Math.min(block.length, length - off)), off);
    off += block.length;
  }
  return out;
}

/** RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret, label + seed). label is ASCII. */
export function prf(hash: PrfHash, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`prf: invalid length ${length}`);
  return pHash(hash, secret, concat(utf8(label), seed), length);
}

/** RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]. */
export function masterSecret(hash: PrfHash, premaster: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Uint8Array {
  return prf(hash, premaster, 'master secret', concat(clientRandom, serverRandom), 48);
}

/**
 * RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47],
 * where session_hash is the transcript hash up to and including ClientKeyExchange.
 */
export function extendedMasterSecret(hash: PrfHash, premaster: Uint8Array, sessionHash: Uint8Array): Uint8Array {
  return prf(hash, premaster, 'extended master secret', sessionHash, 48);
}

/** RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random). Note the order. */
export function keyBlock(hash: PrfHash, master: Uint8Array, serverRandom: Uint8Array, clientRandom: Uint8Array, length: number): Uint8Array {
  return prf(hash, master, 'key expansion', concat(serverRandom, clientRandom), length);
}

/** RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]. */
export function finishedVerifyData(hash: PrfHash, master: Uint8Array, sender: 'client' | 'server', transcriptHash: Uint8Array): Uint8Array {
  return prf(hash, master, sender === 'client' ? 'client finished' : 'server finished', transcriptHash, 12);
}
