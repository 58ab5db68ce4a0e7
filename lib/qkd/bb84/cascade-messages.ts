// Wire format of the Cascade round trips for a batch of frames reconciled together.
//   CascadeStart  (Alice → Bob): frame count, then per frame its length and 16-byte public shuffle seed.
//   CascadeQuery  (Bob → Alice): entries {frame, items[]}; item = u8 kind (0 top, 1 range), pass, then
//                                k (top) or start, len (range). Zero entries = "Cascade finished".
//   CascadeAnswer (Alice → Bob): the parity bits, in question order.
import type { CascadeItem } from './cascade-alice.js';
import { Bb84ProtocolError, MessageReader, MessageWriter, Msg } from './codec.js';

export const SHUFFLE_SEED_BYTES = 16;

export interface QueryEntry {
  frame: number;
  items: CascadeItem[];
}

export function encodeStart(frames: { length: number; seed: Uint8Array }[]): Uint8Array {
  const w = new MessageWriter(Msg.CascadeStart, 4 + frames.length * 20).varint(frames.length);
  for (const f of frames) w.varint(f.length).bytes(f.seed);
  return w.finish();
}

export function decodeStart(msg: Uint8Array): { length: number; seed: Uint8Array }[] {
  const r = new MessageReader(msg, Msg.CascadeStart);
  const count = r.varint();
  const out: { length: number; seed: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) out.push({ length: r.varint(), seed: r.bytes(SHUFFLE_SEED_BYTES) });
  r.end();
  return out;
}

export function encodeQuery(entries: QueryEntry[]): Uint8Array {
  const w = new MessageWriter(Msg.CascadeQuery, 16 + entries.length * 24).varint(entries.length);
  for (const e of entries) {
    w.varint(e.frame).varint(e.items.length);
    for (const it of e.items) {
      if (it.kind === 'top') w.u8(0).varint(it.pass).varint(it.k);
      else w.u8(1).varint(it.pass).varint(it.start).varint(it.len);
    }
  }
  return w.finish();
}

export function decodeQuery(msg: Uint8Array): QueryEntry[] {
  const r = new MessageReader(msg, Msg.CascadeQuery);
  const count = r.varint();
  const out: QueryEntry[] = [];
  for (let i = 0; i < count; i++) {
    const frame = r.varint();
    const n = r.varint();
    const items: CascadeItem[] = [];
    for (let j = 0; j < n; j++) {
      const kind = r.u8();
      const pass = r.varint();
      if (kind === 0) items.push({ kind: 'top', pass, k: r.varint() });
      else if (kind === 1) items.push({ kind: 'range', pass, start: r.varint(), len: r.varint() });
      else throw new Bb84ProtocolError(`unknown Cascade item kind ${kind}`);
    }
    out.push({ frame, items });
  }
  r.end();
  return out;
}

export function encodeAnswer(bits: number[]): Uint8Array {
  return new MessageWriter(Msg.CascadeAnswer, 8 + (bits.length >>> 3)).varint(bits.length).bits(bits).finish();
}

export function decodeAnswer(msg: Uint8Array): Uint8Array {
  const r = new MessageReader(msg, Msg.CascadeAnswer);
  const bits = r.bits(r.varint());
  r.end();
  return bits;
}
