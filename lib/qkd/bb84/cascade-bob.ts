// Bob's side of Cascade for one frame: he asks, Alice answers, he corrects.
//
// Each pass shuffles the frame with a public permutation and splits it into top-level blocks of size k_i.
// Bob asks for Alice's parities of all top-level blocks; every block whose parity differs from his holds an
// odd number of errors and is searched by BINARY: he asks the parity of the left half, compares, and
// descends into the half that still differs, down to one bit, which he flips. Flipping a bit changes the
// parity of the block containing it in every earlier pass; a block that now differs is searched again
// (the "cascade"). All searches that are in progress run in parallel, so one round trip serves every open
// block; Alice's parities already known to Bob (answered or inferred as parent ⊕ left) are never asked
// again. With `subBlockReuse`, the sub-blocks revealed by earlier searches are checked as well, so an odd
// sub-block inside an even top-level block is found without new questions.
import { Bb84ProtocolError } from './codec.js';
import type { CascadeItem } from './cascade-alice.js';
import { XorFenwick } from './fenwick.js';
import { invert, passPermutation } from './permutation.js';

interface BobPass {
  readonly k: number;
  readonly blocks: number;
  /** log2 of the heap slots reserved per block. */
  readonly shift: number;
  readonly inv: Uint32Array;
  readonly perm: Uint32Array;
  /** Built on first use (most late passes never need a range parity). */
  fen: XorFenwick | undefined;
  /** Alice's parity of each known node (heap-indexed per block), −1 unknown. */
  readonly known: Int8Array;
  readonly dirty: Uint8Array;
  /** Known sub-blocks turned odd by a correction elsewhere, to search first (sub-block reuse only). */
  readonly tasks: (number[] | undefined)[];
}

interface Pending {
  pass: number;
  block: number;
  node: number;
}

const NONE = 0;
const FLIP = 1;
const QUERY = 2;

export class CascadeBobFrame {
  /** Parities received from Alice. */
  disclosed = 0;
  /** Round trips in which this frame asked something. */
  rounds = 0;
  private readonly bits: Uint8Array;
  private readonly flipped: Uint8Array;
  private readonly schedule: number[];
  private readonly passes: BobPass[] = [];
  private dirtyList: number[] = []; // pass * STRIDE + block
  private asked: CascadeItem[] | undefined;
  private pending: Pending[] = [];
  // result slots of the last find()
  private actPos = 0;
  private actNode = 0;

  constructor(
    bits: Uint8Array,
    private readonly seed: Uint8Array,
    blockSizes: number[],
    private readonly subBlockReuse: boolean,
  ) {
    this.bits = bits.slice();
    this.flipped = new Uint8Array(bits.length);
    this.schedule = blockSizes.slice();
  }

  get length(): number {
    return this.bits.length;
  }

  /** Bob's current (corrected) bits. */
  get corrected(): Uint8Array {
    return this.bits;
  }

  /** Positions flipped so far (1 = flipped an odd number of times). */
  get flips(): Uint8Array {
    return this.flipped;
  }

  get passesRun(): number {
    return this.passes.length;
  }

  /** Schedules `count` further passes of block size `k` (used after a failed confirmation). */
  addPasses(count: number, k: number): void {
    for (let i = 0; i < count; i++) this.schedule.push(k);
  }

  /** Questions for the next round trip, or null when the frame is finished. */
  nextQuestions(): CascadeItem[] | null {
    if (this.asked) throw new Error('previous questions not answered yet');
    const items = this.resolve();
    if (items.length === 0) {
      const p = this.passes.length;
      if (p >= this.schedule.length) return null;
      const k = Math.max(1, Math.min(this.bits.length, this.schedule[p]));
      this.startPass(k);
      items.push({ kind: 'top', pass: p, k });
    }
    this.asked = items;
    this.rounds++;
    return items;
  }

  /** Number of answer bits the last questions expect. */
  expectedAnswers(): number {
    let total = 0;
    for (const it of this.asked ?? []) total += it.kind === 'top' ? this.passes[it.pass].blocks : 1;
    return total;
  }

  /** Consumes Alice's answers (0/1 values starting at `offset`); returns the next offset. */
  absorb(answers: Uint8Array, offset: number): number {
    const items = this.asked;
    if (!items) throw new Bb84ProtocolError('answers without questions');
    if (offset + this.expectedAnswers() > answers.length) throw new Bb84ProtocolError('too few Cascade answers');
    this.asked = undefined;
    let o = offset;
    let q = 0;
    for (const it of items) {
      const P = this.passes[it.pass];
      if (it.kind === 'top') {
        const mine = this.blockParities(P);
        for (let b = 0; b < P.blocks; b++) {
          const a = answers[o++];
          P.known[b << P.shift | 1] = a;
          if ((a ^ mine[b]) !== 0) this.markDirty(it.pass, b, -1);
        }
        this.disclosed += P.blocks;
      } else {
        const pend = this.pending[q++];
        const base = pend.block << P.shift;
        const a = answers[o++];
        P.known[base + pend.node] = a;
        P.known[base + pend.node + 1] = P.known[base + (pend.node >>> 1)] ^ a;
        this.disclosed++;
      }
    }
    this.pending = [];
    return o;
  }

  private startPass(k: number): void {
    const n = this.bits.length;
    const p = this.passes.length;
    const perm = passPermutation(this.seed, p, n);
    const inv = invert(perm);
    const blocks = Math.ceil(n / k);
    const shift = Math.ceil(Math.log2(k)) + 1;
    this.passes.push({
      k, blocks, shift, perm, inv,
      fen: undefined,
      known: new Int8Array(blocks << shift).fill(-1),
      dirty: new Uint8Array(blocks),
      tasks: new Array(blocks),
    });
  }

  /** Bob's parity of every top-level block of a pass, in one sweep. */
  private blockParities(P: BobPass): Uint8Array {
    const out = new Uint8Array(P.blocks);
    const { perm, k } = P;
    const bits = this.bits;
    for (let b = 0, j = 0; b < P.blocks; b++) {
      let x = 0;
      const end = Math.min(j + k, bits.length);
      for (; j < end; j++) x ^= bits[perm[j]];
      out[b] = x;
    }
    return out;
  }

  private fen(P: BobPass): XorFenwick {
    if (!P.fen) {
      const shuffled = new Uint8Array(this.bits.length);
      for (let j = 0; j < shuffled.length; j++) shuffled[j] = this.bits[P.perm[j]];
      P.fen = new XorFenwick(shuffled);
    }
    return P.fen;
  }

  private markDirty(pass: number, block: number, pos: number): void {
    const P = this.passes[pass];
    if (this.subBlockReuse && pos >= 0) {
      const node = this.deepestOddOnChain(P, block, pos);
      if (node > 1) (P.tasks[block] ??= []).push(node);
    }
    if (P.dirty[block]) return;
    P.dirty[block] = 1;
    this.dirtyList.push(pass * 0x200000 + block);
  }

  private flip(i: number): void {
    this.bits[i] ^= 1;
    this.flipped[i] ^= 1;
    for (let q = 0; q < this.passes.length; q++) {
      const P = this.passes[q];
      const pos = P.inv[i];
      P.fen?.toggle(pos);
      this.markDirty(q, Math.floor(pos / P.k), pos);
    }
  }

  /** Runs every open search as far as known parities allow; returns the questions still needed. */
  private resolve(): CascadeItem[] {
    for (;;) {
      let flipped = false;
      this.pending = [];
      const list = this.dirtyList;
      for (let idx = 0; idx < list.length; idx++) {
        const key = list[idx];
        const pass = Math.floor(key / 0x200000);
        const block = key % 0x200000;
        const act = this.find(pass, block);
        if (act === FLIP) {
          this.flip(this.passes[pass].perm[this.actPos]);
          flipped = true;
          idx--; // re-examine this block: it may hold more odd nodes
        } else if (act === QUERY) {
          this.pending.push({ pass, block, node: this.actNode });
        } else {
          const P = this.passes[pass];
          P.dirty[block] = 0;
          P.tasks[block] = undefined;
          list[idx] = -1;
        }
      }
      this.dirtyList = list.filter((k) => k >= 0);
      if (!flipped) break;
    }
    return this.pending.map((p) => {
      const P = this.passes[p.pass];
      const [start, len] = this.nodeRange(P, p.block, p.node);
      return { kind: 'range', pass: p.pass, start, len } as CascadeItem;
    });
  }

  private nodeRange(P: BobPass, block: number, node: number): [number, number] {
    let s = block * P.k;
    let len = Math.min(P.k, this.bits.length - s);
    const depth = 31 - Math.clz32(node);
    for (let d = depth - 1; d >= 0; d--) {
      const half = len >>> 1;
      if ((node >>> d) & 1) {
        s += half;
        len -= half;
      } else {
        len = half;
      }
    }
    return [s, len];
  }

  /** After a correction at `pos`: the smallest known node containing it whose parity now differs. */
  private deepestOddOnChain(P: BobPass, block: number, pos: number): number {
    const base = block << P.shift;
    let node = 1;
    let s = block * P.k;
    let len = Math.min(P.k, this.bits.length - s);
    let deepest = 0;
    while (P.known[base + node] >= 0) {
      if ((P.known[base + node] ^ this.fen(P).range(s, len)) !== 0) deepest = node;
      if (len === 1) break;
      const half = len >>> 1;
      if (pos < s + half) {
        node <<= 1;
        len = half;
      } else {
        node = (node << 1) + 1;
        s += half;
        len -= half;
      }
    }
    return deepest;
  }

  /** The next action in a block: search its pending odd sub-blocks first, then its top-level block. */
  private find(pass: number, block: number): number {
    const P = this.passes[pass];
    const base = block << P.shift;
    const tasks = P.tasks[block];
    if (tasks) {
      while (tasks.length > 0) {
        const node = tasks[tasks.length - 1];
        const [s, len] = this.nodeRange(P, block, node);
        const r = this.descend(P, base, node, s, len);
        if (r !== NONE) return r;
        tasks.pop();
      }
    }
    const s = block * P.k;
    return this.descend(P, base, 1, s, Math.min(P.k, this.bits.length - s));
  }

  /** BINARY from an odd node: descend through known halves for free, ask for the first unknown one. */
  private descend(P: BobPass, base: number, node: number, start: number, size: number): number {
    if ((P.known[base + node] ^ this.fen(P).range(start, size)) === 0) return NONE;
    for (;;) {
      if (size === 1) {
        this.actPos = start;
        return FLIP;
      }
      const half = size >>> 1;
      const left = node << 1;
      const kl = P.known[base + left];
      if (kl < 0) {
        this.actNode = left;
        return QUERY;
      }
      if ((kl ^ this.fen(P).range(start, half)) !== 0) {
        node = left;
        size = half;
      } else {
        node = left + 1;
        start += half;
        size -= half;
      }
    }
  }
}
