// A QkdLink that is NOT quantum: both sites get the same bytes straight from the CSPRNG. It stands in
// until the BB84 link plugs in, and says so in its stats (`kind: 'csprng', simulated: true`).
import { randomBytes } from '../crypto/random.js';
import type { LinkBlock, LinkStats, QkdLink } from './link.js';

export interface CsprngLinkOptions {
  /** Bits per block; a positive multiple of 8. Default 8192. */
  blockBits?: number;
  /** Wait this long before each block, to mimic a link's key rate. Default 0. */
  delayMs?: number;
}

export class CsprngLink implements QkdLink {
  readonly kind = 'csprng';
  private readonly blockBytes: number;
  private readonly delayMs: number;
  private blocks = 0;
  private finalBits = 0;

  constructor(opts: CsprngLinkOptions = {}) {
    const bits = opts.blockBits ?? 8192;
    if (!Number.isSafeInteger(bits) || bits <= 0 || bits % 8 !== 0) {
      throw new RangeError(`CsprngLink: blockBits must be a positive multiple of 8, got ${bits}`);
    }
    this.blockBytes = bits / 8;
    this.delayMs = opts.delayMs ?? 0;
  }

  async nextBlock(): Promise<LinkBlock> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const alice = randomBytes(this.blockBytes);
    const bob = alice.slice();
    this.blocks++;
    this.finalBits += this.blockBytes * 8;
    return { ok: true, alice, bob };
  }

  stats(): LinkStats {
    return {
      kind: 'csprng',
      simulated: true,
      blocks: this.blocks,
      abortedBlocks: 0,
      finalBits: this.finalBits,
      note: 'key material drawn from the operating system CSPRNG; no quantum process is involved',
    };
  }
}
