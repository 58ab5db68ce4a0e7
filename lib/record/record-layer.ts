// The record layer (RFC 5246 §6.2): framing, size limits, sequence numbers and the switch of read/write
// protection at ChangeCipherSpec. It knows nothing of handshakes.
import { TLSError } from '../alert.js';
import { ByteQueue } from '../wire/byte-queue.js';
import { ContentType, isContentType, contentTypeName, MAX_CIPHERTEXT, MAX_PLAINTEXT, RECORD_HEADER, TLS12 } from './content-type.js';
import { NULL_PROTECTION, type RecordProtection } from './protection.js';

export interface TLSRecord {
  type: number;
  version: number;
  /** Decrypted fragment. */
  fragment: Uint8Array;
}

/**
 * Consecutive empty records we tolerate before treating the peer as hostile (an empty-record flood
 * makes us spin without progress; OpenSSL uses 32 as well).
 */
export const MAX_EMPTY_RECORDS = 32;

const SEQ_LIMIT = (1n << 64n) - 1n;

export class RecordLayer {
  private readonly input = new ByteQueue();
  private readProtection: RecordProtection = NULL_PROTECTION;
  private writeProtection: RecordProtection = NULL_PROTECTION;
  private readSeq = 0n;
  private writeSeq = 0n;
  private emptyRun = 0;
  /** Version negotiated; until then any 3.x record version is accepted (RFC 5246 Appendix E.1). */
  private negotiatedVersion: number | undefined;
  /** Version written in our record headers; a ClientHello record traditionally says TLS 1.0. */
  writeVersion = TLS12;
  /** Largest plaintext fragment we send (RFC 6066 max_fragment_length could lower it). */
  maxFragment = MAX_PLAINTEXT;

  get readEncrypted(): boolean {
    return this.readProtection !== NULL_PROTECTION;
  }
  get writeEncrypted(): boolean {
    return this.writeProtection !== NULL_PROTECTION;
  }
  get bufferedInput(): number {
    return this.input.length;
  }

  setNegotiatedVersion(v: number): void {
    this.negotiatedVersion = v;
    this.writeVersion = v;
  }

  /** §6.1: a new read state takes effect with sequence number 0 after receiving ChangeCipherSpec. */
  changeReadProtection(p: RecordProtection): void {
    this.readProtection = p;
    this.readSeq = 0n;
  }
  changeWriteProtection(p: RecordProtection): void {
    this.writeProtection = p;
    this.writeSeq = 0n;
  }

  feed(chunk: Uint8Array): void {
    this.input.push(chunk);
  }

  /** The next complete record, decrypted, or undefined when more bytes are needed. Throws TLSError. */
  next(): TLSRecord | undefined {
    if (this.input.length < RECORD_HEADER) {
      this.checkHeaderPrefix();
      return undefined;
    }
    const h = this.input.peek(RECORD_HEADER);
    const type = h[0]!;
    const version = (h[1]! << 8) | h[2]!;
    const length = (h[3]! << 8) | h[4]!;
    this.checkHeader(type, version, length);
    if (this.input.length < RECORD_HEADER + length) return undefined;
    this.input.take(RECORD_HEADER);
    const raw = this.input.take(length);

    if (this.readSeq >= SEQ_LIMIT) throw new TLSError('internal_error', 'read sequence number would wrap');
    const fragment = this.readProtection.open(type, version, this.readSeq, raw);
    this.readSeq++;
    if (fragment.length > MAX_PLAINTEXT) throw new TLSError('record_overflow', `record plaintext of ${fragment.length} bytes exceeds 2^14`);

    if (fragment.length === 0) {
      // §6.2.1: zero-length fragments of handshake, alert or CCS are forbidden; empty application
      // data is allowed (a traffic-analysis countermeasure) but bounded.
      if (type !== ContentType.application_data) throw new TLSError('unexpected_message', `empty ${contentTypeName(type)} record`);
      if (++this.emptyRun > MAX_EMPTY_RECORDS) throw new TLSError('unexpected_message', `more than ${MAX_EMPTY_RECORDS} consecutive empty records`);
    } else {
      this.emptyRun = 0;
    }
    return { type, version, fragment };
  }

  /** Reject garbage as soon as its first byte arrives, so a non-TLS peer doesn't wait for 5 bytes. */
  private checkHeaderPrefix(): void {
    if (this.input.length === 0) return;
    const t = this.input.peek(1)[0]!;
    if (!isContentType(t)) throw new TLSError('unexpected_message', describeGarbage(this.input.peek(this.input.length)));
  }

  private checkHeader(type: number, version: number, length: number): void {
    if (!isContentType(type)) throw new TLSError('unexpected_message', describeGarbage(this.input.peek(Math.min(this.input.length, 16))));
    if (version >> 8 !== 3) throw new TLSError('protocol_version', `record version 0x${version.toString(16).padStart(4, '0')} is not TLS`);
    if (this.negotiatedVersion !== undefined && version !== this.negotiatedVersion)
      throw new TLSError('protocol_version', `record version 0x${version.toString(16)} after negotiating 0x${this.negotiatedVersion.toString(16)}`);
    const limit = this.readEncrypted ? MAX_CIPHERTEXT : MAX_PLAINTEXT;
    if (length > limit) throw new TLSError('record_overflow', `record length ${length} exceeds ${limit}`);
  }

  /** Fragment (§6.2.1) and protect data of one content type; returns the wire bytes. */
  encode(type: number, data: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    let off = 0;
    do {
      const chunk = data.subarray(off, off + this.maxFragment);
      off += chunk.length;
      if (this.writeSeq >= SEQ_LIMIT) throw new TLSError('internal_error', 'write sequence number would wrap');
      const body = this.writeProtection.seal(type, this.writeVersion, this.writeSeq, chunk);
      this.writeSeq++;
      const rec = new Uint8Array(RECORD_HEADER + body.length);
      rec[0] = type;
      rec[1] = this.writeVersion >> 8;
      rec[2] = this.writeVersion & 0xff;
      rec[3] = body.length >> 8;
      rec[4] = body.length & 0xff;
      rec.set(body, RECORD_HEADER);
      parts.push(rec);
      total += rec.length;
    } while (off < data.length);
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Drop any unread input (after a fatal error nothing more is processed). */
  discardInput(): void {
    this.input.clear();
  }
}

function describeGarbage(head: Uint8Array): string {
  const text = Buffer.from(head).toString('latin1');
  if (/^(GET|POST|HEAD|PUT|OPTIONS|DELETE|CONNECT|PATCH) /.test(text)) return 'peer sent a plaintext HTTP request, not TLS';
  return `unknown record content type ${head[0]}`;
}
