// Alice's side of Cascade for one frame: she never changes her bits, she only answers parity questions.
// Each answer bit is one disclosed parity (counted). A question names the pass, and either "all top-level
// blocks of size k" or one range [start, start+len) in that pass's shuffled order.
import { Bb84ProtocolError } from './codec.js';
import { passPermutation } from './permutation.js';

export type CascadeItem =
  | { kind: 'top'; pass: number; k: number }
  | { kind: 'range'; pass: number; start: number; len: number };

export class CascadeAliceFrame {
  disclosed = 0;
  private readonly prefixes: Uint8Array[] = [];

  constructor(private readonly bits: Uint8Array, private readonly seed: Uint8Array) {}

  get length(): number {
    return this.bits.length;
  }

  /** Appends the answers for `item` to `out`. */
  answer(item: CascadeItem, out: number[]): void {
    const n = this.bits.length;
    if (item.kind === 'top') {
      if (!(item.k >= 1 && item.k <= n)) throw new Bb84ProtocolError(`block size ${item.k} outside 1..${n}`);
      const prefix = this.pass(item.pass);
      for (let s = 0; s < n; s += item.k) out.push(prefix[Math.min(n, s + item.k)] ^ prefix[s]);
      this.disclosed += Math.ceil(n / item.k);
      return;
    }
    const prefix = this.prefixes[item.pass];
    if (!prefix) throw new Bb84ProtocolError(`parity asked for pass ${item.pass} before its blocks were announced`);
    if (!(item.len >= 1 && item.start + item.len <= n)) throw new Bb84ProtocolError(`range ${item.start}+${item.len} outside frame`);
    out.push(prefix[item.start + item.len] ^ prefix[item.start]);
    this.disclosed++;
  }

  /** Prefix parities of the frame in pass `pass`'s order (built once per pass). */
  private pass(pass: number): Uint8Array {
    let prefix = this.prefixes[pass];
    if (prefix) return prefix;
    if (!(Number.isInteger(pass) && pass >= 0 && pass < 64)) throw new Bb84ProtocolError(`pass ${pass} out of range`);
    const n = this.bits.length;
    const perm = passPermutation(this.seed, pass, n);
    prefix = new Uint8Array(n + 1);
    for (let j = 0; j < n; j++) prefix[j + 1] = prefix[j] ^ this.bits[perm[j]];
    this.prefixes[pass] = prefix;
    return prefix;
  }
}
