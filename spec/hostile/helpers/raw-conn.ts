// RawConn: one end of a TLS connection driven by a test, byte by byte. It uses the stack's own record
// layer (framing, AEAD protection, sequence numbers), handshake framing and transcript, but no
// handshake logic and no rules: the test decides every message, and may bypass even the record layer
// to put arbitrary bytes on the wire. What the peer sends back is decoded (and decrypted once keys are
// installed) so a test can assert the exact alert bytes received.
import type { Duplex } from 'node:stream';
import { AlertDescription, alertName } from '../../../lib/alert.js';
import { handshakeTypeName } from '../../../lib/handshake/handshake-type.js';
import { HandshakeReassembler, frameHandshake, type HandshakeMessage } from '../../../lib/handshake/reassembler.js';
import { Transcript } from '../../../lib/handshake/transcript.js';
import { ContentType, contentTypeName } from '../../../lib/record/content-type.js';
import type { RecordProtection } from '../../../lib/record/protection.js';
import { RecordLayer } from '../../../lib/record/record-layer.js';
import { concat } from '../../../lib/wire/bytes.js';
import { deferred } from './guard.js';

export interface RxRecord {
  type: number;
  version: number;
  fragment: Uint8Array;
  /** Was the record protected (decrypted with the keys the test installed)? */
  encrypted: boolean;
}

export interface AlertSeen {
  level: number;
  description: number;
  /** e.g. 'fatal decode_error' */
  text: string;
  encrypted: boolean;
}

/** Default deadline for anything a RawConn waits for. */
export const IO_TIMEOUT = 3000;

/** A record built by hand: no length limits, no protection, any type and version. */
export function rawRecord(type: number, body: Uint8Array, version = 0x0303): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type;
  out[1] = version >> 8;
  out[2] = version & 0xff;
  out[3] = (body.length >> 8) & 0xff;
  out[4] = body.length & 0xff;
  out.set(body, 5);
  return out;
}

export class RawConn {
  readonly records = new RecordLayer();
  readonly transcript = new Transcript();
  private readonly reasm = new HandshakeReassembler();
  private readonly inbox: RxRecord[] = [];
  private readonly hsQueue: HandshakeMessage[] = [];
  private wake = deferred<void>();
  /** Keys to install when the peer's ChangeCipherSpec arrives. */
  private pendingReadKeys: RecordProtection | undefined;
  private pausedAtCcs = false;
  /** Writes collected since hold(), not yet on the wire (a test may still edit them). */
  held: Uint8Array[] | undefined;
  /** Every byte received, as it came. */
  readonly rawIn: Buffer[] = [];
  /** Every record received, in order (for diagnostics). */
  readonly log: RxRecord[] = [];
  /** The transport ended or closed. */
  eof = false;
  /** A transport error (ECONNRESET...): treated as EOF. */
  error: Error | undefined;
  /** The peer's bytes did not parse as records. */
  parseError: Error | undefined;
  readonly closed = deferred<void>();

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.rawIn.push(chunk);
      this.records.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pump();
    });
    const end = () => {
      this.eof = true;
      this.closed.resolve();
      this.notify();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', (e: Error) => {
      this.error ??= e;
      end();
    });
  }

  get localPort(): number | undefined {
    return (this.socket as { localPort?: number }).localPort;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = deferred<void>();
    w.resolve();
  }

  private pump(): void {
    try {
      while (!this.pausedAtCcs) {
        const encrypted = this.records.readEncrypted;
        const rec = this.records.next();
        if (!rec) break;
        const r: RxRecord = { ...rec, encrypted };
        this.inbox.push(r);
        this.log.push(r);
        if (rec.type === ContentType.change_cipher_spec) {
          if (this.pendingReadKeys) {
            this.records.changeReadProtection(this.pendingReadKeys);
            this.pendingReadKeys = undefined;
          } else {
            this.pausedAtCcs = true;
          }
        }
      }
    } catch (e) {
      this.parseError ??= new Error(`hostile peer could not parse what it received: ${(e as Error).message}`);
    }
    this.notify();
  }

  /** Read protection for after the peer's next ChangeCipherSpec (installed at once if it already came). */
  setReadKeys(p: RecordProtection): void {
    if (this.pausedAtCcs) {
      this.records.changeReadProtection(p);
      this.pausedAtCcs = false;
      this.pump();
    } else {
      this.pendingReadKeys = p;
    }
  }

  // ---------- input ----------

  /** The next record, or undefined at EOF. */
  async nextRecord(ms = IO_TIMEOUT): Promise<RxRecord | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = this.inbox.shift();
      if (r) return r;
      if (this.parseError) throw this.parseError;
      if (this.eof) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for a record (received so far: ${this.describeLog()})`);
      let t: NodeJS.Timeout;
      await Promise.race([this.wake.promise, new Promise<void>((res) => (t = setTimeout(res, left)))]);
      clearTimeout(t!);
    }
  }

  /** Headers of every record received, from the raw bytes (also those we could not decrypt). */
  rawRecordHeaders(): Array<{ type: number; length: number }> {
    const all = Buffer.concat(this.rawIn);
    const out: Array<{ type: number; length: number }> = [];
    for (let p = 0; p + 5 <= all.length; ) {
      const length = all.readUInt16BE(p + 3);
      out.push({ type: all[p]!, length });
      p += 5 + length;
    }
    return out;
  }

  describeLog(): string {
    return this.log.map((r) => `${contentTypeName(r.type)}(${r.fragment.length}${r.encrypted ? ',enc' : ''})`).join(' ') || 'nothing';
  }

  /** The next handshake message, which must be one of `types`; added to the transcript. */
  async readHandshake(...types: number[]): Promise<HandshakeMessage> {
    const msg = await this.nextHandshake();
    if (types.length && !types.includes(msg.type))
      throw new Error(`hostile peer expected ${types.map(handshakeTypeName).join('/')}, got ${handshakeTypeName(msg.type)}`);
    this.transcript.add(msg.raw);
    return msg;
  }

  private async nextHandshake(): Promise<HandshakeMessage> {
    for (;;) {
      const m = this.hsQueue.shift();
      if (m) return m;
      const rec = await this.nextRecord();
      if (!rec) throw new Error(`hostile peer: connection closed while waiting for a handshake message (received: ${this.describeLog()})`);
      if (rec.type === ContentType.handshake) {
        this.reasm.push(rec.fragment);
        for (let x = this.reasm.next(); x; x = this.reasm.next()) this.hsQueue.push(x);
      } else if (rec.type === ContentType.alert) {
        throw new Error(`hostile peer expected a handshake message, got alert ${describeAlert(rec.fragment)}`);
      } else {
        throw new Error(`hostile peer expected a handshake message, got ${contentTypeName(rec.type)}`);
      }
    }
  }

  async expectChangeCipherSpec(): Promise<void> {
    const rec = await this.nextRecord();
    if (!rec || rec.type !== ContentType.change_cipher_spec)
      throw new Error(`hostile peer expected ChangeCipherSpec, got ${rec ? contentTypeName(rec.type) : 'EOF'}${rec?.type === ContentType.alert ? ' ' + describeAlert(rec.fragment) : ''}`);
  }

  /**
   * Read until an alert record arrives and return it. Handshake and application-data records before
   * it are skipped (and stay in `log`). Fails on EOF without an alert.
   */
  async expectAlert(ms = IO_TIMEOUT): Promise<AlertSeen> {
    for (;;) {
      const rec = await this.nextRecord(ms);
      if (!rec) throw new Error(`connection closed without an alert (received: ${this.describeLog()})`);
      if (rec.type !== ContentType.alert) continue;
      if (rec.fragment.length !== 2) throw new Error(`malformed alert record of ${rec.fragment.length} bytes`);
      return { level: rec.fragment[0]!, description: rec.fragment[1]!, text: describeAlert(rec.fragment), encrypted: rec.encrypted };
    }
  }

  /** Application data received until at least n bytes, concatenated. */
  async readApplicationData(n: number, ms = IO_TIMEOUT): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n) {
      const rec = await this.nextRecord(ms);
      if (!rec) throw new Error(`EOF after ${got} of ${n} application bytes`);
      if (rec.type === ContentType.alert) throw new Error(`alert ${describeAlert(rec.fragment)} while reading application data`);
      if (rec.type !== ContentType.application_data) continue;
      parts.push(rec.fragment);
      got += rec.fragment.length;
    }
    return concat(...parts);
  }

  /** Resolves when the peer has closed the transport. */
  async waitClosed(ms = IO_TIMEOUT): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.eof) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`peer did not close the connection within ${ms} ms`);
      let t: NodeJS.Timeout;
      await Promise.race([this.wake.promise, new Promise<void>((res) => (t = setTimeout(res, left)))]);
      clearTimeout(t!);
    }
  }

  // ---------- output ----------

  /** Collect writes until flush(), then send them in one transport write (one TCP segment, in practice). */
  hold(): void {
    this.held ??= [];
  }
  flush(): void {
    const parts = this.held;
    this.held = undefined;
    if (parts?.length) this.write(concat(...parts));
  }

  write(bytes: Uint8Array): void {
    if (this.held) {
      this.held.push(bytes);
      return;
    }
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(bytes);
  }

  /** Frame (and protect, once keys are on) one record of `type` without sending it. */
  encodeRecord(type: number, data: Uint8Array): Uint8Array {
    return this.records.encode(type, data);
  }

  sendRecord(type: number, data: Uint8Array): void {
    this.write(this.encodeRecord(type, data));
  }

  /** Send a handshake message in its own record; it enters the transcript unless told otherwise. */
  sendHandshake(type: number, body: Uint8Array, opts: { transcript?: boolean } = {}): Uint8Array {
    const raw = frameHandshake(type, body);
    if (opts.transcript !== false) this.transcript.add(raw);
    this.sendRecord(ContentType.handshake, raw);
    return raw;
  }

  /** Send ChangeCipherSpec and switch write protection (if given). */
  sendChangeCipherSpec(p?: RecordProtection): void {
    this.sendRecord(ContentType.change_cipher_spec, new Uint8Array([1]));
    if (p) this.records.changeWriteProtection(p);
  }

  sendAlert(level: number, description: number): void {
    this.sendRecord(ContentType.alert, new Uint8Array([level, description]));
  }

  sendApplicationData(data: Uint8Array): void {
    this.sendRecord(ContentType.application_data, data);
  }

  /** Half-close (FIN). */
  end(): void {
    this.flush();
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function describeAlert(fragment: Uint8Array): string {
  if (fragment.length !== 2) return `<malformed alert of ${fragment.length} bytes>`;
  const level = fragment[0] === 1 ? 'warning' : fragment[0] === 2 ? 'fatal' : `level(${fragment[0]})`;
  return `${level} ${alertName(fragment[1]!)}`;
}

export { AlertDescription };
