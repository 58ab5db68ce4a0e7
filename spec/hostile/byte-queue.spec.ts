// The receive queue under peer-chosen chunking (lib/wire/byte-queue.ts is under both the record layer
// and handshake reassembly): byte-exact against a trivial model for random chunk and take sizes, and
// linear in time however small the chunks are.
import { expect } from 'chai';
import { ByteQueue } from '../../lib/wire/byte-queue.js';
import { Rng } from './helpers/fuzz.js';

describe('hostile/byte-queue: peer-chosen chunking', () => {
  it('matches a plain array model for 400 random push/peek/take sequences', () => {
    const rng = new Rng(77);
    const same = (a: Uint8Array, b: number[]) => Buffer.from(a).equals(Buffer.from(b));
    for (let round = 0; round < 400; round++) {
      const q = new ByteQueue();
      const model: number[] = [];
      let counter = 0;
      const handedOut: Array<[Uint8Array, number[]]> = [];
      for (let op = 0; op < 40; op++) {
        const k = rng.int(10);
        if (k < 5) {
          const n = rng.pick([0, 1, 2, 3, 17, 255, 256, 300, 2000]);
          const chunk = new Uint8Array(n).map(() => counter++ & 0xff);
          q.push(chunk);
          for (const b of chunk) model.push(b);
        } else if (model.length > 0) {
          const n = 1 + rng.int(Math.min(model.length, rng.pick([1, 4, 5, 300, 3000])));
          if (k < 7) expect(same(q.peek(n), model.slice(0, n)), `peek ${n}`).to.equal(true);
          else {
            const got = q.take(n);
            const want = model.splice(0, n);
            expect(same(got, want), `take ${n}`).to.equal(true);
            handedOut.push([got, want]);
          }
        }
        expect(q.length).to.equal(model.length);
      }
      // Bytes handed out earlier are never overwritten by later pushes (small chunks share a buffer).
      for (const [got, want] of handedOut) expect(same(got, want)).to.equal(true);
    }
  });

  it('300 000 1-byte pushes and byte-by-byte takes run in linear time', () => {
    const q = new ByteQueue();
    const one = new Uint8Array([7]);
    const t0 = Date.now();
    for (let i = 0; i < 300_000; i++) q.push(one);
    expect(q.length).to.equal(300_000);
    for (let i = 0; i < 1_000; i++) q.take(1);
    expect(q.take(299_000).length).to.equal(299_000);
    expect(Date.now() - t0).to.be.below(2000);
  });
});
