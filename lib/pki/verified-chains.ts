// A small cache of successful chain validations. Verifying a chain costs a few milliseconds of
// signature checks (ECDSA verify ≈ 2.5 ms in pure JS); a client reconnecting to the same server sees
// the same chain every time. The key covers everything the result depends on — the exact chain bytes,
// the exact trust anchors and the purpose — except time, which is re-checked on every hit. Failures are
// never cached, so a hit can only repeat a decision that a full validation made.
import { hash } from '../crypto/hash.js';
import { toHex } from '../wire/bytes.js';
import { isValidAt, type Certificate } from './x509.js';

const MAX_ENTRIES = 256;

const anchorKeys = new WeakMap<readonly Certificate[], string>();

function anchorsKey(anchors: readonly Certificate[]): string {
  let k = anchorKeys.get(anchors);
  if (k === undefined) {
    k = toHex(hash('sha256', Buffer.concat(anchors.map((a) => hash('sha256', a.der)))));
    anchorKeys.set(anchors, k);
  }
  return k;
}

function chainKey(chain: readonly Certificate[], anchors: readonly Certificate[], purpose: string): string {
  const parts = chain.map((c) => hash('sha256', c.der));
  return `${purpose}:${anchorsKey(anchors)}:${toHex(hash('sha256', Buffer.concat(parts)))}`;
}

export class VerifiedChainCache {
  private readonly entries = new Map<string, Certificate[]>();

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  /** The validated path for this chain, if it was validated before and every certificate is still in date. */
  get(chain: readonly Certificate[], anchors: readonly Certificate[], purpose: string, now = new Date()): Certificate[] | undefined {
    const k = chainKey(chain, anchors, purpose);
    const path = this.entries.get(k);
    if (!path) return undefined;
    if (!path.every((c) => isValidAt(c, now))) {
      this.entries.delete(k);
      return undefined;
    }
    this.entries.delete(k);
    this.entries.set(k, path); // most recently used last
    return path;
  }

  set(chain: readonly Certificate[], anchors: readonly Certificate[], purpose: string, path: Certificate[]): void {
    const k = chainKey(chain, anchors, purpose);
    this.entries.delete(k);
    this.entries.set(k, path);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
