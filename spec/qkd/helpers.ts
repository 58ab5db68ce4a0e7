// Shared test helpers for the QKD specs: temp dirs, SAE credentials, links with a known supply.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LinkBlock, LinkStats, QkdLink } from '../../lib/qkd/link.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import type { PkiFiles } from '../../lib/qkd/kme/pki.js';

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `qtls-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** TLS material of an SAE (or KME) from the network's PKI. */
export function creds(pki: PkiFiles, id: string): { cert: Buffer; key: Buffer; ca: Buffer } {
  const f = pki.sae[id] ?? pki.kme[id];
  if (!f) throw new Error(`no credentials for ${id}`);
  return { cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(pki.ca) };
}

/** A link that yields `blocks` blocks of `blockBits` random-looking bits, then aborts every block. */
export class FiniteLink implements QkdLink {
  readonly kind = 'test-finite';
  private made = 0;
  private aborted = 0;
  constructor(
    private readonly blocks: number,
    private readonly blockBits: number,
  ) {}
  async nextBlock(): Promise<LinkBlock> {
    if (this.made >= this.blocks) {
      this.aborted++;
      await new Promise((r) => setTimeout(r, 20));
      return { ok: false, reason: 'supply exhausted' };
    }
    this.made++;
    const b = new Uint8Array(this.blockBits / 8);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + this.made * 7919) & 0xff;
    return { ok: true, alice: b, bob: b.slice() };
  }
  stats(): LinkStats {
    return { kind: this.kind, simulated: true, blocks: this.made, abortedBlocks: this.aborted, finalBits: this.made * this.blockBits };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns true (bounded; fails the test on expiry). */
export async function until(f: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Equal key bytes. */
export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** The KeyDeliveryError `p` rejects with (fails the test if it resolves or rejects with anything else). */
export async function rejection(p: Promise<unknown>): Promise<KeyDeliveryError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(KeyDeliveryError);
    return e as KeyDeliveryError;
  }
  throw new Error('expected a KeyDeliveryError');
}
