// Handshake message framing (RFC 5246 §7.4): a 4-byte header (type, uint24 length) over a stream that
// records may split anywhere; several messages may share one record (§6.2.1).
import { TLSError } from '../alert.js';
import { ByteQueue } from '../wire/byte-queue.js';
import { handshakeTypeName, isKnownHandshakeType } from './handshake-type.js';

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
  /** header + body, exactly as it entered the transcript. */
  raw: Uint8Array;
}

/** Upper bound on one handshake message; large certificate chains stay well below (OpenSSL: 100 KiB). */
export const MAX_HANDSHAKE_MESSAGE = 256 * 1024;

export class HandshakeReassembler {
  private readonly q = new ByteQueue();

  /** True while part of a message is buffered: no other content type may interleave (§6.2.1). */
  get midMessage(): boolean {
    return this.q.length > 0;
  }

  push(fragment: Uint8Array): void {
    this.q.push(fragment);
  }

  next(): HandshakeMessage | undefined {
    if (this.q.length < 4) return undefined;
    const h = this.q.peek(4);
    const type = h[0]!;
    const len = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
    if (!isKnownHandshakeType(type)) throw new TLSError('unexpected_message', `unknown handshake message type ${type}`);
    if (len > MAX_HANDSHAKE_MESSAGE) throw new TLSError('illegal_parameter', `${handshakeTypeName(type)} of ${len} bytes exceeds the ${MAX_HANDSHAKE_MESSAGE}-byte limit`);
    if (this.q.length < 4 + len) return undefined;
    const raw = this.q.take(4 + len);
    return { type, body: raw.subarray(4), raw };
  }
}

export function frameHandshake(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = (body.length >> 16) & 0xff;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}
