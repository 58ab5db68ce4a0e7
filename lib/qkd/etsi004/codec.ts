// Binary framing of ETSI GS QKD 004 V2.1.1 calls (§6.2 OPEN_CONNECT, §6.3 GET_KEY, §6.4 CLOSE), as ETSI's
// reference implementation puts them on a TLS connection (docs/etsi-004-framing.md has the byte diagrams).
//
//   header (8 bytes): version major | minor | patch (uint8 each) | service type (int8) | payload length (uint32 BE)
//
// Decoding is strict and bounded: a wrong major version, an unknown service type, a payload longer than
// the limit (refused from the header alone, before buffering it), a short or over-long payload, a
// missing NUL or invalid UTF-8 — each is an Etsi004DecodeError. Hostile bytes never throw anything else.

export const FRAME_VERSION = { major: 1, minor: 0, patch: 1 } as const;
export const HEADER_BYTES = 8;
export const KSID_BYTES = 16;
export const MIMETYPE_BYTES = 256;
export const QOS_BYTES = 7 * 4 + MIMETYPE_BYTES;
/** Default payload limit: far above any legitimate message (largest: GET_KEY response with chunk + metadata). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024;
const MAX_URI_BYTES = 1024;

export const ServiceType = {
  OPEN_CONNECT_REQUEST: 0x02,
  OPEN_CONNECT_RESPONSE: 0x03,
  GET_KEY_REQUEST: 0x04,
  GET_KEY_RESPONSE: 0x05,
  CLOSE_REQUEST: 0x08,
  CLOSE_RESPONSE: 0x09,
} as const;

/** The all-zero KSID: "allocate one" on OPEN_CONNECT (§6.2). */
export const NULL_KSID = '00000000-0000-0000-0000-000000000000';

/** §6.1.3 QoS: seven uint32 then the metadata MIME type (256 bytes, NUL padded). */
export interface Qos {
  /** bytes */
  keyChunkSize: number;
  maxBps: number;
  minBps: number;
  jitter: number;
  priority: number;
  /** milliseconds */
  timeout: number;
  /** seconds */
  ttl: number;
  metadataMimetype: string;
}

export interface OpenConnectRequest {
  type: 'open-connect-request';
  source: string;
  destination: string;
  qos: Qos;
  ksid: string;
}
export interface OpenConnectResponse {
  type: 'open-connect-response';
  status: number;
  qos: Qos;
  ksid: string;
}
export interface GetKeyRequest {
  type: 'get-key-request';
  ksid: string;
  index: number;
  /** size of the application's metadata buffer, bytes */
  metadataSize: number;
}
export interface GetKeyResponse {
  type: 'get-key-response';
  status: number;
  index: number;
  /** secret */
  key: Uint8Array;
  /** with status 8: the size needed (and no metadata follows); otherwise metadata.length */
  metadataSize: number;
  metadata: Uint8Array;
}
export interface CloseRequest {
  type: 'close-request';
  ksid: string;
}
export interface CloseResponse {
  type: 'close-response';
  status: number;
}

export type Message004 = OpenConnectRequest | OpenConnectResponse | GetKeyRequest | GetKeyResponse | CloseRequest | CloseResponse;

export class Etsi004DecodeError extends Error {
  override readonly name = 'Etsi004DecodeError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

// ---- encoding ------------------------------------------------------------------------------------

export function encodeMessage(m: Message004): Uint8Array {
  const w = new Out();
  switch (m.type) {
    case 'open-connect-request':
      w.cstring(m.source);
      w.cstring(m.destination);
      w.qos(m.qos);
      w.ksid(m.ksid);
      return frame(ServiceType.OPEN_CONNECT_REQUEST, w);
    case 'open-connect-response':
      w.u32(m.status);
      w.qos(m.qos);
      w.ksid(m.ksid);
      return frame(ServiceType.OPEN_CONNECT_RESPONSE, w);
    case 'get-key-request':
      w.ksid(m.ksid);
      w.u32(m.index);
      w.u32(m.metadataSize);
      return frame(ServiceType.GET_KEY_REQUEST, w);
    case 'get-key-response':
      w.u32(m.status);
      w.u32(m.index);
      w.u32(m.key.length);
      w.bytes(m.key);
      if (m.status === 8) {
        if (m.metadata.length !== 0) throw new RangeError('status 8 carries no metadata');
        w.u32(m.metadataSize);
      } else {
        if (m.metadataSize !== m.metadata.length) throw new RangeError('metadataSize must equal metadata.length');
        w.u32(m.metadata.length);
        w.bytes(m.metadata);
      }
      return frame(ServiceType.GET_KEY_RESPONSE, w);
    case 'close-request':
      w.ksid(m.ksid);
      return frame(ServiceType.CLOSE_REQUEST, w);
    case 'close-response':
      w.u32(m.status);
      return frame(ServiceType.CLOSE_RESPONSE, w);
  }
}

function frame(type: number, w: Out): Uint8Array {
  const payload = w.done();
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out[0] = FRAME_VERSION.major;
  out[1] = FRAME_VERSION.minor;
  out[2] = FRAME_VERSION.patch;
  out[3] = type;
  new DataView(out.buffer).setUint32(4, payload.length, false);
  out.set(payload, HEADER_BYTES);
  return out;
}

class Out {
  private parts: Uint8Array[] = [];
  bytes(b: Uint8Array): void {
    this.parts.push(b);
  }
  u32(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a uint32: ${n}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, false);
    this.parts.push(b);
  }
  cstring(s: string): void {
    const b = enc.encode(s);
    if (b.includes(0)) throw new RangeError('string contains NUL');
    if (b.length > MAX_URI_BYTES) throw new RangeError('string too long');
    this.parts.push(b, new Uint8Array([0]));
  }
  qos(q: Qos): void {
    for (const n of [q.keyChunkSize, q.maxBps, q.minBps, q.jitter, q.priority, q.timeout, q.ttl]) this.u32(n);
    const m = enc.encode(q.metadataMimetype);
    if (m.length > MIMETYPE_BYTES || m.includes(0)) throw new RangeError('bad metadata MIME type');
    const b = new Uint8Array(MIMETYPE_BYTES);
    b.set(m);
    this.parts.push(b);
  }
  ksid(u: string): void {
    this.parts.push(ksidToBytes(u));
  }
  done(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export function ksidToBytes(u: string): Uint8Array {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(u)) throw new RangeError(`not a UUID: ${u}`);
  return Uint8Array.from(Buffer.from(u.replace(/-/g, ''), 'hex'));
}

export function ksidFromBytes(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- decoding ------------------------------------------------------------------------------------

export interface FrameHeader {
  major: number;
  minor: number;
  patch: number;
  type: number;
  length: number;
}

const KNOWN_TYPES = new Set<number>(Object.values(ServiceType));

/** Parses and checks an 8-byte header (version, known service type, payload within the limit). */
export function decodeHeader(h: Uint8Array, maxPayload = DEFAULT_MAX_PAYLOAD): FrameHeader {
  if (h.length < HEADER_BYTES) throw new Etsi004DecodeError('truncated header');
  const dv = new DataView(h.buffer, h.byteOffset, HEADER_BYTES);
  const hdr = { major: h[0]!, minor: h[1]!, patch: h[2]!, type: dv.getInt8(3), length: dv.getUint32(4, false) };
  if (hdr.major !== FRAME_VERSION.major) throw new Etsi004DecodeError(`unsupported version ${hdr.major}.${hdr.minor}.${hdr.patch}`);
  if (!KNOWN_TYPES.has(hdr.type)) throw new Etsi004DecodeError(`unknown service type ${hdr.type}`);
  if (hdr.length > maxPayload) throw new Etsi004DecodeError(`payload of ${hdr.length} bytes exceeds the ${maxPayload}-byte limit`);
  return hdr;
}

/** Decodes one complete frame (header + exactly its payload). */
export function decodeFrame(bytes: Uint8Array, maxPayload = DEFAULT_MAX_PAYLOAD): Message004 {
  const h = decodeHeader(bytes, maxPayload);
  if (bytes.length !== HEADER_BYTES + h.length) {
    throw new Etsi004DecodeError(bytes.length < HEADER_BYTES + h.length ? 'truncated payload' : 'bytes after the payload');
  }
  return decodePayload(h.type, bytes.subarray(HEADER_BYTES));
}

export function decodePayload(type: number, p: Uint8Array): Message004 {
  const r = new In(p);
  let m: Message004;
  switch (type) {
    case ServiceType.OPEN_CONNECT_REQUEST:
      m = { type: 'open-connect-request', source: r.cstring(), destination: r.cstring(), qos: r.qos(), ksid: r.ksid() };
      break;
    case ServiceType.OPEN_CONNECT_RESPONSE:
      m = { type: 'open-connect-response', status: r.u32(), qos: r.qos(), ksid: r.ksid() };
      break;
    case ServiceType.GET_KEY_REQUEST:
      m = { type: 'get-key-request', ksid: r.ksid(), index: r.u32(), metadataSize: r.u32() };
      break;
    case ServiceType.GET_KEY_RESPONSE: {
      const status = r.u32();
      if (status !== 0 && r.left === 0) {
        // Status alone: what some servers send for a failure.
        m = { type: 'get-key-response', status, index: 0, key: new Uint8Array(0), metadataSize: 0, metadata: new Uint8Array(0) };
        break;
      }
      const index = r.u32();
      const key = r.bytes(r.u32());
      const metadataSize = r.u32();
      const metadata = status === 8 ? new Uint8Array(0) : r.bytes(metadataSize);
      m = { type: 'get-key-response', status, index, key, metadataSize, metadata };
      break;
    }
    case ServiceType.CLOSE_REQUEST:
      m = { type: 'close-request', ksid: r.ksid() };
      break;
    case ServiceType.CLOSE_RESPONSE:
      m = { type: 'close-response', status: r.u32() };
      break;
    default:
      throw new Etsi004DecodeError(`unknown service type ${type}`);
  }
  if (r.left !== 0) throw new Etsi004DecodeError(`${r.left} bytes after the message`);
  return m;
}

class In {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.at;
  }
  bytes(n: number): Uint8Array {
    if (n > this.left) throw new Etsi004DecodeError('truncated message');
    const out = this.b.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u32(): number {
    const x = this.bytes(4);
    return new DataView(x.buffer).getUint32(0, false);
  }
  cstring(): string {
    const end = this.b.indexOf(0, this.at);
    if (end < 0 || end - this.at > MAX_URI_BYTES) throw new Etsi004DecodeError('unterminated or over-long URI');
    const s = this.text(this.b.subarray(this.at, end));
    this.at = end + 1;
    return s;
  }
  qos(): Qos {
    const n = [this.u32(), this.u32(), this.u32(), this.u32(), this.u32(), this.u32(), this.u32()];
    const raw = this.bytes(MIMETYPE_BYTES);
    const nul = raw.indexOf(0);
    const end = nul < 0 ? raw.length : nul;
    for (let i = end; i < raw.length; i++) if (raw[i] !== 0) throw new Etsi004DecodeError('bytes after the MIME type NUL');
    return {
      keyChunkSize: n[0]!,
      maxBps: n[1]!,
      minBps: n[2]!,
      jitter: n[3]!,
      priority: n[4]!,
      timeout: n[5]!,
      ttl: n[6]!,
      metadataMimetype: this.text(raw.subarray(0, end)),
    };
  }
  ksid(): string {
    return ksidFromBytes(this.bytes(KSID_BYTES));
  }
  private text(b: Uint8Array): string {
    try {
      return utf8.decode(b);
    } catch {
      throw new Etsi004DecodeError('invalid UTF-8');
    }
  }
}

/**
 * Cuts a byte stream into frames. The header is checked as soon as its 8 bytes arrive, so an oversized
 * or foreign frame is refused without buffering its payload. After an error the reader stays failed.
 */
export class FrameReader {
  private buf = new Uint8Array(0);
  private failed: Etsi004DecodeError | undefined;

  constructor(private readonly maxPayload = DEFAULT_MAX_PAYLOAD) {}

  /** Adds bytes; returns the complete messages they finish (throws Etsi004DecodeError on bad input). */
  push(chunk: Uint8Array): Message004[] {
    if (this.failed) throw this.failed;
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
    const out: Message004[] = [];
    try {
      while (this.buf.length >= HEADER_BYTES) {
        const h = decodeHeader(this.buf, this.maxPayload);
        if (this.buf.length < HEADER_BYTES + h.length) break;
        out.push(decodePayload(h.type, this.buf.subarray(HEADER_BYTES, HEADER_BYTES + h.length)));
        this.buf = this.buf.slice(HEADER_BYTES + h.length);
      }
    } catch (e) {
      this.failed = e instanceof Etsi004DecodeError ? e : new Etsi004DecodeError(String(e));
      this.buf = new Uint8Array(0);
      throw this.failed;
    }
    return out;
  }

  /** The stream ended: fails if a frame was cut short. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.buf.length > 0) throw new Etsi004DecodeError('stream ended inside a frame');
  }
}
