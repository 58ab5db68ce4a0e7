import { expect } from 'chai';
import { AuthKeyPool, AuthPoolExhaustedError } from '../../../lib/qkd/bb84/auth-pool.js';
import { AuthenticatedEndpoint, AuthenticationError, ClassicalWire } from '../../../lib/qkd/bb84/classical-channel.js';

function pair(bootstrap = new Uint8Array(96).map((_, i) => i)) {
  const wire = new ClassicalWire();
  const pa = new AuthKeyPool(bootstrap);
  const pb = new AuthKeyPool(bootstrap);
  const a = new AuthenticatedEndpoint('alice', wire, pa);
  const b = new AuthenticatedEndpoint('bob', wire, pb);
  a.rekey();
  b.rekey();
  return { wire, a, b, pa, pb };
}

describe('bb84 authenticated classical channel', () => {
  it('delivers messages in order and counts messages and bytes per direction', () => {
    const { wire, a, b } = pair();
    a.send(new Uint8Array([1, 2, 3]));
    a.send(new Uint8Array([4]));
    b.send(new Uint8Array(10));
    expect([...b.receive()]).to.deep.equal([1, 2, 3]);
    expect([...b.receive()]).to.deep.equal([4]);
    expect(a.receive().length).to.equal(10);
    expect(wire.aliceToBob).to.deep.equal({ messages: 2, bytes: (4 + 3 + 16) + (4 + 1 + 16) });
    expect(wire.bobToAlice).to.deep.equal({ messages: 1, bytes: 4 + 10 + 16 });
    expect(wire.messages).to.equal(3);
  });

  for (const [what, at] of [['payload', 5], ['tag', -1], ['sequence number', 3]] as const) {
    it(`a message with a flipped ${what} byte fails verification`, () => {
      const { wire, a, b } = pair();
      wire.interceptor = (frame) => {
        frame[at < 0 ? frame.length + at : at] ^= 0x01;
        return frame;
      };
      a.send(new Uint8Array([9, 9, 9, 9]));
      expect(() => b.receive()).to.throw(AuthenticationError, /tampered|MAC/);
    });
  }

  it('replayed, reordered, dropped and reflected messages are rejected', () => {
    let { wire, a, b } = pair();
    let saved: Uint8Array | undefined;
    wire.interceptor = (f, { index }) => (index === 0 ? (saved = f) : saved!);
    a.send(new Uint8Array([1]));
    a.send(new Uint8Array([2])); // replaced by a replay of message 0
    expect([...b.receive()]).to.deep.equal([1]);
    expect(() => b.receive()).to.throw(AuthenticationError);

    ({ wire, a, b } = pair());
    expect(() => b.receive()).to.throw(AuthenticationError, /no message/);

    ({ wire, a, b } = pair());
    a.send(new Uint8Array([7]));
    // Bob's own message sent back to him as if from Alice: the direction is part of the MAC input
    const frame = wire.take('bob')!;
    b.send(new Uint8Array([7]));
    const bobs = wire.take('alice')!;
    wire.transmit('alice', bobs);
    expect(() => b.receive()).to.throw(AuthenticationError);
    expect(frame.length).to.equal(bobs.length);
  });

  it('a different key (pools out of step) fails verification', () => {
    const wire = new ClassicalWire();
    const a = new AuthenticatedEndpoint('alice', wire, new AuthKeyPool(new Uint8Array(64).fill(1)));
    const b = new AuthenticatedEndpoint('bob', wire, new AuthKeyPool(new Uint8Array(64).fill(2)));
    a.rekey();
    b.rekey();
    a.send(new Uint8Array([1]));
    expect(() => b.receive()).to.throw(AuthenticationError);
  });

  it('the key pool hands out each byte once, accepts refills and reports exhaustion', () => {
    const pool = new AuthKeyPool(new Uint8Array(64).map((_, i) => i));
    expect([...pool.take(32)]).to.deep.equal(Array.from({ length: 32 }, (_, i) => i));
    expect(pool.take(32)[0]).to.equal(32);
    expect(pool.available).to.equal(0);
    expect(() => pool.take(32)).to.throw(AuthPoolExhaustedError);
    pool.refill(new Uint8Array(40).fill(7));
    expect(pool.available).to.equal(40);
    expect(pool.take(32).every((x) => x === 7)).to.equal(true);
    expect(pool.consumedBytes).to.equal(96);
    expect(pool.refilledBytes).to.equal(40);
    expect(() => new AuthKeyPool(new Uint8Array(16))).to.throw(RangeError);
  });

  it('rekeying consumes a fresh MAC key from each pool and restarts sequence numbers', () => {
    const { a, b, pa, pb } = pair();
    a.send(new Uint8Array([1]));
    b.receive();
    a.rekey();
    b.rekey();
    expect(pa.available).to.equal(96 - 64);
    expect(pb.available).to.equal(96 - 64);
    a.send(new Uint8Array([2]));
    expect([...b.receive()]).to.deep.equal([2]);
    a.rekey(); // Alice moves on alone: Bob's next verification must fail
    a.send(new Uint8Array([3]));
    expect(() => b.receive()).to.throw(AuthenticationError);
  });
});
