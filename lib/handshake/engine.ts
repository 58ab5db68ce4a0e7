// The connection engine: record layer + handshake framing + alerts, transport-agnostic. Bytes from the
// peer go in through receive(); bytes for the peer come out through hooks.write(). The handshake code
// (client.ts / server.ts) drives it as straight-line async code: `await engine.expect(...)`.
import { AlertDescription, AlertLevel, TLSError, alertName } from '../alert.js';
import { ContentType, contentTypeName } from '../record/content-type.js';
import { RecordLayer, type TLSRecord } from '../record/record-layer.js';
import type { RecordProtection } from '../record/protection.js';
import { HandshakeType, handshakeTypeName } from './handshake-type.js';
import { HandshakeReassembler, MAX_HANDSHAKE_MESSAGE, frameHandshake, type HandshakeMessage } from './reassembler.js';
import { Transcript } from './transcript.js';

export interface TraceEvent {
  direction: 'in' | 'out';
  kind: 'handshake' | 'change_cipher_spec' | 'alert' | 'application_data' | 'record';
  /** Handshake type or alert description code. */
  type?: number;
  name: string;
  length: number;
  /** Raw handshake message bytes (header + body) for dissectors; absent for encrypted payloads. */
  raw?: Uint8Array;
  level?: number;
  encrypted?: boolean;
}

export interface EngineHooks {
  write(bytes: Uint8Array): void;
  onApplicationData(data: Uint8Array): void;
  /** The peer sent close_notify. */
  onCloseNotify(): void;
  /** A fatal error (ours, already sent as an alert, or the peer's). Called once. */
  onFatal(err: TLSError): void;
  /** Warning alerts other than close_notify (e.g. no_renegotiation). */
  onWarning?(description: number): void;
  /** A post-handshake handshake message (HelloRequest, ClientHello for renegotiation). */
  onPostHandshake?(msg: HandshakeMessage): void;
  trace?(e: TraceEvent): void;
}

type Incoming = { kind: 'handshake'; msg: HandshakeMessage } | { kind: 'ccs' };

/** Warning alerts in a row without other traffic before we call it a flood. */
const MAX_WARNING_ALERTS = 8;

/**
 * Post-handshake handshake messages (renegotiation requests, each refused with a warning alert) in a
 * row without application data in between. Every refusal is an alert we must queue, ~8x the size of
 * a 4-byte HelloRequest, whether or not the peer reads: a flood must end the connection.
 */
const MAX_POST_HANDSHAKE_MESSAGES = 8;

/** HelloRequests a client ignores during one handshake before it calls them a flood. */
const MAX_IGNORED_HELLO_REQUESTS = 8;

/**
 * Input we hold unprocessed during the handshake (records behind a ChangeCipherSpec or a Finished,
 * handshake messages not yet asked for) while the handshake code awaits something of its own (an
 * SNICallback, a session store, a key manager). An honest peer is at most one flight ahead; a hostile
 * one could otherwise make us buffer without limit.
 */
export const MAX_PENDING_HANDSHAKE_INPUT = 4 * MAX_HANDSHAKE_MESSAGE;

export class Engine {
  readonly records = new RecordLayer();
  readonly transcript = new Transcript();
  private readonly reassembler = new HandshakeReassembler();
  private readonly queue: Incoming[] = [];
  /** Bytes of the handshake messages in `queue`. */
  private queuedBytes = 0;
  private waiter: { resolve: (v: Incoming) => void; reject: (e: TLSError) => void } | undefined;
  /** After a ChangeCipherSpec, record processing stops until the handshake installs the new read keys. */
  private pausedForCcs = false;
  private warningRun = 0;
  private postHandshakeRun = 0;
  private ignoredHelloRequests = 0;
  private writeClosed = false;
  /** Set by complete() when the handshake is done: application data may flow. */
  handshakeComplete = false;
  /**
   * The peer's Finished has arrived: the handshake code has its last message. Records behind it (the
   * peer's first application data, even a close_notify, often in the same TCP segment) wait unread
   * until complete() — they belong to the connection, not to the handshake.
   */
  private pausedAfterFinished = false;
  error: TLSError | undefined;
  /** The peer sent close_notify. */
  peerClosed = false;

  /** The verify_data of the latest Finished we sent / received (node: getFinished / getPeerFinished). */
  finishedSent: Uint8Array | undefined;
  finishedReceived: Uint8Array | undefined;

  constructor(
    private readonly hooks: EngineHooks,
    private readonly role: 'client' | 'server',
  ) {}

  /** Replace the trace hook (node: tlsSocket.enableTrace()). */
  setTrace(trace: ((e: TraceEvent) => void) | undefined): void {
    this.hooks.trace = trace;
  }

  // ---------- input ----------

  receive(chunk: Uint8Array): void {
    if (this.error || this.peerClosed) return; // §7.2.1: data after close_notify is ignored
    this.records.feed(chunk);
    this.pump();
    const pending = this.records.bufferedInput + this.queuedBytes;
    if (!this.handshakeComplete && !this.error && pending > MAX_PENDING_HANDSHAKE_INPUT)
      this.fail(new TLSError('unexpected_message', `peer sent ${pending} bytes the handshake has not asked for yet (limit ${MAX_PENDING_HANDSHAKE_INPUT})`));
  }

  private pump(): void {
    try {
      while (!this.error && !this.peerClosed && !this.pausedForCcs && !this.pausedAfterFinished) {
        const rec = this.records.next();
        if (!rec) break;
        this.dispatch(rec);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private dispatch(rec: TLSRecord): void {
    const t = this.hooks.trace;
    // §6.2.1: a handshake message split over records must not be interleaved with other types.
    if (rec.type !== ContentType.handshake && this.reassembler.midMessage)
      throw new TLSError('unexpected_message', `${contentTypeName(rec.type)} record in the middle of a fragmented handshake message`);
    switch (rec.type) {
      case ContentType.handshake: {
        this.warningRun = 0;
        this.reassembler.push(rec.fragment);
        for (let msg = this.reassembler.next(); msg; msg = this.reassembler.next()) {
          t?.({ direction: 'in', kind: 'handshake', type: msg.type, name: handshakeTypeName(msg.type), length: msg.body.length, raw: msg.raw, encrypted: this.records.readEncrypted });
          if (this.handshakeComplete) this.postHandshake(msg);
          else if (msg.type === HandshakeType.hello_request && this.role === 'client') this.ignoreHelloRequest(msg);
          else {
            this.enqueue({ kind: 'handshake', msg });
            if (msg.type === HandshakeType.finished && this.records.readEncrypted) {
              // Anything after Finished in this same record is a protocol violation (§7.4.9 is last).
              if (this.reassembler.midMessage) throw new TLSError('unexpected_message', 'data after Finished in the same record');
              this.pausedAfterFinished = true;
              return;
            }
          }
        }
        return;
      }
      case ContentType.change_cipher_spec: {
        // §7.1: the message is a single byte of value 1.
        if (rec.fragment.length !== 1 || rec.fragment[0] !== 1) throw new TLSError('decode_error', 'malformed ChangeCipherSpec');
        if (this.handshakeComplete) throw new TLSError('unexpected_message', 'ChangeCipherSpec after the handshake');
        t?.({ direction: 'in', kind: 'change_cipher_spec', name: 'ChangeCipherSpec', length: 1 });
        this.pausedForCcs = true;
        this.enqueue({ kind: 'ccs' });
        return;
      }
      case ContentType.alert:
        return this.receiveAlert(rec.fragment);
      case ContentType.application_data: {
        if (!this.handshakeComplete || !this.records.readEncrypted)
          throw new TLSError('unexpected_message', 'application data before the handshake completed');
        this.warningRun = 0;
        if (rec.fragment.length > 0) this.postHandshakeRun = 0;
        t?.({ direction: 'in', kind: 'application_data', name: 'ApplicationData', length: rec.fragment.length });
        if (rec.fragment.length > 0) this.hooks.onApplicationData(rec.fragment);
        return;
      }
    }
  }

  private receiveAlert(fragment: Uint8Array): void {
    // §7.2: an alert is exactly two bytes; we don't accept alerts split across records.
    if (fragment.length !== 2) throw new TLSError('decode_error', `alert record of ${fragment.length} bytes`);
    const level = fragment[0]!;
    const desc = fragment[1]!;
    this.hooks.trace?.({ direction: 'in', kind: 'alert', type: desc, level, name: alertName(desc), length: 2, encrypted: this.records.readEncrypted });
    if (level !== AlertLevel.warning && level !== AlertLevel.fatal) throw new TLSError('illegal_parameter', `alert level ${level}`);
    if (desc === AlertDescription.close_notify) {
      this.peerClosed = true;
      this.records.discardInput();
      if (!this.handshakeComplete) {
        this.fail(new TLSError('close_notify', 'peer closed the connection during the handshake', 'remote'));
        return;
      }
      this.hooks.onCloseNotify();
      return;
    }
    // §7.2.2: a fatal alert ends the connection at once; so does user_canceled before the handshake.
    if (level === AlertLevel.fatal) {
      this.fail(TLSError.fromRemote(desc));
      return;
    }
    if (++this.warningRun > MAX_WARNING_ALERTS) throw new TLSError('unexpected_message', 'too many warning alerts');
    if (!this.handshakeComplete && desc !== AlertDescription.no_renegotiation) {
      // A warning alert in the middle of our handshake can only be a refusal we can't recover from.
      this.fail(TLSError.fromRemote(desc));
      return;
    }
    this.hooks.onWarning?.(desc);
  }

  /**
   * §7.4.1.1: "This message will be ignored by the client if the client is currently negotiating a
   * session" (OpenSSL does the same); it is not part of the transcript. It must still be well formed,
   * and a stream of them is a flood.
   */
  private ignoreHelloRequest(msg: HandshakeMessage): void {
    if (msg.body.length !== 0) throw new TLSError('decode_error', `HelloRequest with a ${msg.body.length}-byte body`);
    if (++this.ignoredHelloRequests > MAX_IGNORED_HELLO_REQUESTS)
      throw new TLSError('unexpected_message', `more than ${MAX_IGNORED_HELLO_REQUESTS} HelloRequests during the handshake`);
  }

  private postHandshake(msg: HandshakeMessage): void {
    if (!this.hooks.onPostHandshake) throw new TLSError('unexpected_message', `unexpected ${handshakeTypeName(msg.type)} after the handshake`);
    if (++this.postHandshakeRun > MAX_POST_HANDSHAKE_MESSAGES)
      throw new TLSError('unexpected_message', `too many renegotiation requests (${MAX_POST_HANDSHAKE_MESSAGES} without application data in between)`);
    this.hooks.onPostHandshake(msg);
  }

  private enqueue(item: Incoming): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(item);
    } else {
      this.queue.push(item);
      if (item.kind === 'handshake') this.queuedBytes += item.msg.raw.length;
    }
  }

  private nextIncoming(): Promise<Incoming> {
    if (this.error) return Promise.reject(this.error);
    const item = this.queue.shift();
    if (item?.kind === 'handshake') this.queuedBytes -= item.msg.raw.length;
    if (item) return Promise.resolve(item);
    if (this.waiter) return Promise.reject(new TLSError('internal_error', 'two readers waiting on one handshake'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /**
   * The next handshake message, which must be one of `types` (RFC 5246 §7.4: anything else, or a CCS,
   * is unexpected_message). The message is added to the transcript.
   */
  async expect(...types: number[]): Promise<HandshakeMessage> {
    const item = await this.nextIncoming();
    const want = types.map(handshakeTypeName).join(' or ');
    if (item.kind === 'ccs') throw new TLSError('unexpected_message', `expected ${want}, got ChangeCipherSpec`);
    if (!types.includes(item.msg.type)) throw new TLSError('unexpected_message', `expected ${want}, got ${handshakeTypeName(item.msg.type)}`);
    this.transcript.add(item.msg.raw);
    if (item.msg.type === HandshakeType.finished) this.finishedReceived = item.msg.body.slice();
    return item.msg;
  }

  /** Wait for ChangeCipherSpec, install the new read protection (§7.1) and resume reading. */
  async expectChangeCipherSpec(protection: RecordProtection): Promise<void> {
    const item = await this.nextIncoming();
    if (item.kind !== 'ccs') throw new TLSError('unexpected_message', `expected ChangeCipherSpec, got ${handshakeTypeName(item.msg.type)}`);
    // A handshake message that arrived in the same record as... can't happen: CCS is its own type and
    // the reassembler must be empty (checked in dispatch). Bytes already read after the CCS are still
    // in the record layer, encrypted under the new keys.
    this.records.changeReadProtection(protection);
    this.pausedForCcs = false;
    queueMicrotask(() => this.pump());
  }

  /** The handshake is done: let application data flow, including any that arrived with the last flight. */
  complete(): void {
    this.handshakeComplete = true;
    this.pausedAfterFinished = false;
    this.pump();
  }

  // ---------- output ----------

  private out(type: number, data: Uint8Array): void {
    if (this.writeClosed) return;
    this.hooks.write(this.records.encode(type, data));
  }

  sendHandshake(type: number, body: Uint8Array, opts: { transcript?: boolean } = {}): Uint8Array {
    if (type === HandshakeType.finished) this.finishedSent = body.slice();
    const raw = frameHandshake(type, body);
    if (opts.transcript !== false) this.transcript.add(raw);
    this.hooks.trace?.({ direction: 'out', kind: 'handshake', type, name: handshakeTypeName(type), length: body.length, raw, encrypted: this.records.writeEncrypted });
    this.out(ContentType.handshake, raw);
    return raw;
  }

  sendChangeCipherSpec(protection: RecordProtection): void {
    this.hooks.trace?.({ direction: 'out', kind: 'change_cipher_spec', name: 'ChangeCipherSpec', length: 1 });
    this.out(ContentType.change_cipher_spec, new Uint8Array([1]));
    this.records.changeWriteProtection(protection);
  }

  sendApplicationData(data: Uint8Array): void {
    if (this.error) throw this.error;
    if (!this.handshakeComplete) throw new Error('application data before the handshake completed');
    this.hooks.trace?.({ direction: 'out', kind: 'application_data', name: 'ApplicationData', length: data.length });
    this.out(ContentType.application_data, data);
  }

  sendAlert(level: number, description: number): void {
    this.hooks.trace?.({ direction: 'out', kind: 'alert', type: description, level, name: alertName(description), length: 2, encrypted: this.records.writeEncrypted });
    try {
      this.out(ContentType.alert, new Uint8Array([level, description]));
    } catch {
      /* the transport is gone; nothing more to tell the peer */
    }
  }

  /** Send close_notify (§7.2.1) once; no more writes follow it. */
  close(): void {
    if (this.writeClosed || this.error) return;
    this.sendAlert(AlertLevel.warning, AlertDescription.close_notify);
    this.writeClosed = true;
  }

  get closed(): boolean {
    return this.writeClosed;
  }

  /**
   * Record a fatal error: send the alert if the failure is ours (§7.2.2), then report it. Idempotent:
   * the first error is the one every later read and write returns.
   */
  fail(err: unknown): TLSError {
    if (this.error) return this.error;
    const e = err instanceof TLSError ? err : new TLSError('internal_error', err instanceof Error ? err.message : String(err), 'local', { cause: err });
    this.error = e;
    if (e.origin === 'local' && e.alert !== 'close_notify') this.sendAlert(AlertLevel.fatal, e.alertCode);
    this.writeClosed = true;
    this.records.discardInput();
    this.queue.length = 0;
    this.queuedBytes = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
    this.hooks.onFatal(e);
    return e;
  }
}

