// Fenwick (binary indexed) tree over GF(2): toggle one bit and read the parity of any prefix in O(log n).
// Bob keeps one per Cascade pass, over his bits in that pass's shuffled order, so range parities stay
// cheap while his bits change under correction.

export class XorFenwick {
  private readonly tree: Uint8Array;

  constructor(bits: ArrayLike<number>) {
    const n = bits.length;
    const t = new Uint8Array(n + 1);
    for (let i = 1; i <= n; i++) {
      t[i] ^= bits[i - 1] & 1;
      const j = i + (i & -i);
      if (j <= n) t[j] ^= t[i];
    }
    this.tree = t;
  }

  toggle(pos: number): void {
    const t = this.tree;
    for (let i = pos + 1; i < t.length; i += i & -i) t[i] ^= 1;
  }

  /** Parity of positions [0, end). */
  prefix(end: number): number {
    const t = this.tree;
    let p = 0;
    for (let i = end; i > 0; i -= i & -i) p ^= t[i];
    return p;
  }

  /** Parity of positions [start, start + len). */
  range(start: number, len: number): number {
    return this.prefix(start + len) ^ this.prefix(start);
  }
}
