// The public classical channel between Alice and Bob: a wire that only carries bytes (and counts them), and
// an authenticated endpoint per party. Each frame is seq(4) ‖ payload ‖ tag(16) with
// tag = HMAC-SHA256(k, direction ‖ seq ‖ payload) truncated to 128 bits; k comes from the party's own
// authentication key pool and is renewed every block. Anything altered, reordered, replayed or dropped fails
// verification and raises AuthenticationError, which aborts the block.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { AuthKeyPool } from './auth-pool.js';

export type Side = 'alice' | 'bob';

export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

export interface DirectionCounters {
  messages: number;
  bytes: number;
}

/** Called for every frame on the wire; returns the frame to deliver (an attacker may alter it). */
export type Interceptor = (frame: Uint8Array, info: { from: Side; index: number }) => Uint8Array;

export const MAC_KEY_BYTES = 32;
const TAG_BYTES = 16;

export class ClassicalWire {
  readonly aliceToBob: DirectionCounters = { messages: 0, bytes: 0 };
  readonly bobToAlice: DirectionCounters = { messages: 0, bytes: 0 };
  interceptor: Interceptor | undefined;
  private readonly toAlice: Uint8Array[] = [];
  private readonly toBob: Uint8Array[] = [];
  private index = 0;

  get messages(): number {
    return this.aliceToBob.messages + this.bobToAlice.messages;
  }

  get bytes(): number {
    return this.aliceToBob.bytes + this.bobToAlice.bytes;
  }

  transmit(from: Side, frame: Uint8Array): void {
    const counters = from === 'alice' ? this.aliceToBob : this.bobToAlice;
    counters.messages++;
    counters.bytes += frame.length;
    const delivered = this.interceptor ? this.interceptor(frame.slice(), { from, index: this.index }) : frame;
    this.index++;
    (from === 'alice' ? this.toBob : this.toAlice).push(delivered);
  }

  take(to: Side): Uint8Array | undefined {
    return (to === 'alice' ? this.toAlice : this.toBob).shift();
  }

  /** Drops undelivered frames (after an abort). */
  flush(): void {
    this.toAlice.length = 0;
    this.toBob.length = 0;
  }
}

export class AuthenticatedEndpoint {
  private key: Uint8Array | undefined;
  private sendSeq = 0;
  private recvSeq = 0;

  constructor(
    readonly side: Side,
    private readonly wire: ClassicalWire,
    private readonly pool: AuthKeyPool,
  ) {}

  /** Takes a fresh MAC key from this party's pool and restarts the sequence numbers. */
  rekey(): void {
    this.key?.fill(0);
    this.key = this.pool.take(MAC_KEY_BYTES);
    this.sendSeq = 0;
    this.recvSeq = 0;
  }

  send(payload: Uint8Array): void {
    const frame = new Uint8Array(4 + payload.length + TAG_BYTES);
    new DataView(frame.buffer).setUint32(0, this.sendSeq, false);
    frame.set(payload, 4);
    frame.set(this.tag(this.side, this.sendSeq, payload), 4 + payload.length);
    this.sendSeq++;
    this.wire.transmit(this.side, frame);
  }

  receive(): Uint8Array {
    const frame = this.wire.take(this.side);
    const peer: Side = this.side === 'alice' ? 'bob' : 'alice';
    if (!frame) throw new AuthenticationError(`no message for ${this.side} (dropped by the channel?)`);
    if (frame.length < 4 + TAG_BYTES) throw new AuthenticationError(`message from ${peer} too short to authenticate`);
    const seq = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
    const payload = frame.subarray(4, frame.length - TAG_BYTES);
    const expected = this.tag(peer, this.recvSeq, payload);
    const got = frame.subarray(frame.length - TAG_BYTES);
    let diff = seq ^ this.recvSeq;
    for (let i = 0; i < TAG_BYTES; i++) diff |= expected[i] ^ got[i];
    if (diff !== 0) throw new AuthenticationError(`message ${this.recvSeq} from ${peer} failed MAC verification (tampered)`);
    this.recvSeq++;
    return payload.slice();
  }

  private tag(from: Side, seq: number, payload: Uint8Array): Uint8Array {
    if (!this.key) throw new AuthenticationError('endpoint has no MAC key (rekey() first)');
    const h = hmac.create(sha256, this.key);
    h.update(new Uint8Array([from === 'alice' ? 0x41 : 0x42, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff]));
    h.update(payload);
    return h.digest().subarray(0, TAG_BYTES);
  }
}
