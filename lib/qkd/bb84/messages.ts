// Wire formats of the non-Cascade classical messages (see cascade-messages.ts for Cascade's).
import { Bb84ProtocolError, MessageReader, MessageWriter, Msg } from './codec.js';
import { CONFIRM_KEY_BYTES, CONFIRM_TAG_BYTES } from './confirm.js';

/** Bob → Alice: which pulses of a batch clicked (delta-coded indices) and his basis for each. */
export function encodeDetections(pulses: number, detected: Uint32Array, bases: Uint8Array): Uint8Array {
  const w = new MessageWriter(Msg.SiftDetections, 16 + detected.length * 2).varint(pulses).varint(detected.length);
  let prev = -1;
  for (const i of detected) {
    w.varint(i - prev - 1);
    prev = i;
  }
  return w.bits(bases, detected.length).finish();
}

export function decodeDetections(msg: Uint8Array): { pulses: number; detected: Uint32Array; bases: Uint8Array } {
  const r = new MessageReader(msg, Msg.SiftDetections);
  const pulses = r.varint();
  const n = r.varint();
  if (n > pulses) throw new Bb84ProtocolError(`${n} detections in ${pulses} pulses`);
  const detected = new Uint32Array(n);
  let prev = -1;
  for (let k = 0; k < n; k++) {
    prev += r.varint() + 1;
    if (prev >= pulses) throw new Bb84ProtocolError('detection index beyond the batch');
    detected[k] = prev;
  }
  const bases = r.bits(n);
  r.end();
  return { pulses, detected, bases };
}

/** Alice → Bob: 1 where her basis matched Bob's. */
export function encodeMatch(match: Uint8Array): Uint8Array {
  return new MessageWriter(Msg.SiftMatch, 8 + (match.length >>> 3)).varint(match.length).bits(match).finish();
}

export function decodeMatch(msg: Uint8Array, expected: number): Uint8Array {
  const r = new MessageReader(msg, Msg.SiftMatch);
  const n = r.varint();
  if (n !== expected) throw new Bb84ProtocolError(`match mask of ${n} bits for ${expected} detections`);
  const m = r.bits(n);
  r.end();
  return m;
}

/** Alice → Bob: the sampled positions (ascending, delta-coded) of a block of `n` bits and her values there. */
export function encodeSample(n: number, positions: Uint32Array, values: Uint8Array): Uint8Array {
  const w = new MessageWriter(Msg.SampleRequest, 16 + positions.length * 3).varint(n).varint(positions.length);
  let prev = -1;
  for (const p of positions) {
    w.varint(p - prev - 1);
    prev = p;
  }
  return w.bits(values).finish();
}

export function decodeSample(msg: Uint8Array, blockBits: number): { positions: Uint32Array; values: Uint8Array } {
  const r = new MessageReader(msg, Msg.SampleRequest);
  if (r.varint() !== blockBits) throw new Bb84ProtocolError('sample request for a block of another size');
  const s = r.varint();
  if (s > blockBits) throw new Bb84ProtocolError('sample larger than the block');
  const positions = new Uint32Array(s);
  let prev = -1;
  for (let k = 0; k < s; k++) {
    prev += r.varint() + 1;
    if (prev >= blockBits) throw new Bb84ProtocolError('sample position beyond the block');
    positions[k] = prev;
  }
  const values = r.bits(s);
  r.end();
  return { positions, values };
}

/** Error counts per basis: [errorsZ, bitsZ, errorsX, bitsX]. */
export type BasisTally = [number, number, number, number];

export function encodeTally(type: typeof Msg.SampleReport | typeof Msg.AbortReport, t: BasisTally): Uint8Array {
  return new MessageWriter(type).varint(t[0]).varint(t[1]).varint(t[2]).varint(t[3]).finish();
}

export function decodeTally(type: typeof Msg.SampleReport | typeof Msg.AbortReport, msg: Uint8Array): BasisTally {
  const r = new MessageReader(msg, type);
  const t: BasisTally = [r.varint(), r.varint(), r.varint(), r.varint()];
  r.end();
  if (t[0] > t[1] || t[2] > t[3]) throw new Bb84ProtocolError('more errors than bits in a tally');
  return t;
}

/** Alice → Bob after an abort: the rest of her (now worthless) block, so the QBER can be measured in full. */
export function encodeDisclosure(bits: Uint8Array): Uint8Array {
  return new MessageWriter(Msg.AbortDisclosure, 8 + (bits.length >>> 3)).varint(bits.length).bits(bits).finish();
}

export function decodeDisclosure(msg: Uint8Array, expected: number): Uint8Array {
  const r = new MessageReader(msg, Msg.AbortDisclosure);
  if (r.varint() !== expected) throw new Bb84ProtocolError('disclosure of the wrong length');
  const b = r.bits(expected);
  r.end();
  return b;
}

/** Alice → Bob: per frame to confirm, its index, hash point and tag. */
export function encodeTags(entries: { frame: number; key: Uint8Array; tag: Uint8Array }[]): Uint8Array {
  const w = new MessageWriter(Msg.ConfirmTags, 4 + entries.length * 20).varint(entries.length);
  for (const e of entries) w.varint(e.frame).bytes(e.key).bytes(e.tag);
  return w.finish();
}

export function decodeTags(msg: Uint8Array): { frame: number; key: Uint8Array; tag: Uint8Array }[] {
  const r = new MessageReader(msg, Msg.ConfirmTags);
  const n = r.varint();
  const out: { frame: number; key: Uint8Array; tag: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) out.push({ frame: r.varint(), key: r.bytes(CONFIRM_KEY_BYTES), tag: r.bytes(CONFIRM_TAG_BYTES) });
  r.end();
  return out;
}

/** Bob → Alice: per confirmed frame, ok flag and (if ok) the errors Cascade corrected in Z and in X. */
export interface ConfirmOutcome {
  frame: number;
  ok: boolean;
  errorsZ: number;
  errorsX: number;
}

export function encodeResults(results: ConfirmOutcome[]): Uint8Array {
  const w = new MessageWriter(Msg.ConfirmResult, 4 + results.length * 6).varint(results.length);
  for (const c of results) {
    w.varint(c.frame).u8(c.ok ? 1 : 0);
    if (c.ok) w.varint(c.errorsZ).varint(c.errorsX);
  }
  return w.finish();
}

export function decodeResults(msg: Uint8Array): ConfirmOutcome[] {
  const r = new MessageReader(msg, Msg.ConfirmResult);
  const n = r.varint();
  const out: ConfirmOutcome[] = [];
  for (let i = 0; i < n; i++) {
    const frame = r.varint();
    const ok = r.u8() === 1;
    out.push(ok ? { frame, ok, errorsZ: r.varint(), errorsX: r.varint() } : { frame, ok, errorsZ: 0, errorsX: 0 });
  }
  r.end();
  return out;
}

/** Alice → Bob: output length m and the (n + m − 1)-bit Toeplitz seed. */
export function encodePrivacySeed(m: number, seed: Uint8Array): Uint8Array {
  return new MessageWriter(Msg.PrivacySeed, seed.length + 16).varint(m).varint(seed.length).bytes(seed).finish();
}

export function decodePrivacySeed(msg: Uint8Array): { m: number; seed: Uint8Array } {
  const r = new MessageReader(msg, Msg.PrivacySeed);
  const m = r.varint();
  const seed = r.bytes(r.varint());
  r.end();
  return { m, seed };
}
