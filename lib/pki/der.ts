// Strict DER (ITU-T X.690 §8 BER + §10 DER restrictions) reader and a small DER writer.
//
// The reader is lazy: DERReader walks one level of TLVs at a time, so nesting depth costs nothing and a
// hostile input cannot recurse. Every failure is a DERError (a TLSError with decode_error) whose message
// names what was being read; no RangeError escapes from here.

import { TLSError } from '../alert.js';
import { concat } from '../wire/bytes.js';

export class DERError extends TLSError {
  constructor(message: string) {
    super('decode_error', `DER: ${message}`);
    this.name = 'DERError';
  }
}

function fail(message: string): never {
  throw new DERError(message);
}

/** Universal tags (X.690 §8.x), as full identifier octets (class and constructed bit included). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const tagNames = new Map<number, string>(Object.entries(Tag).map(([k, v]) => [v, k]));

/** Human-readable tag name for messages: 'SEQUENCE', '[0] constructed', 'tag 0x5f'. */
export function tagName(tag: number): string {
  const known = tagNames.get(tag);
  if (known) return known;
  if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]${tag & 0x20 ? ' constructed' : ''}`;
  return `tag 0x${tag.toString(16).padStart(2, '0')}`;
}

/** Context-specific tag identifier octet: [n] primitive (0x80|n) or constructed (0xa0|n), n < 31. */
export function contextTag(n: number, constructed: boolean): number {
  if (n < 0 || n > 30) throw new RangeError('context tag number must be 0..30');
  return (constructed ? 0xa0 : 0x80) | n;
}

export interface DERNode {
  /**
   * The identifier octet (class | constructed | number). High tag numbers (>= 31, multi-octet form) are
   * represented as 0x1f-form first octet plus `tagNumber`; certificates never use them.
   */
  tag: number;
  tagNumber: number;
  constructed: boolean;
  /** Contents octets. */
  value: Uint8Array;
  /** The complete TLV encoding (header + value), a view into the input. */
  raw: Uint8Array;
}

/** Longest length field we accept: 4 octets (values < 2^32); anything larger cannot fit in memory anyway. */
const MAX_LENGTH_OCTETS = 4;

/** Read one TLV at `offset` of `buf`. Returns the node and the offset after it. */
export function readTLV(buf: Uint8Array, offset: number, what = 'element'): { node: DERNode; next: number } {
  let p = offset;
  if (p >= buf.length) fail(`${what}: truncated (missing tag)`);
  const tag = buf[p++]!;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    // High-tag-number form (X.690 §8.1.2.4): base-128, minimal (first octet != 0x80), >= 31.
    tagNumber = 0;
    let n = 0;
    for (;;) {
      if (p >= buf.length) fail(`${what}: truncated tag`);
      const b = buf[p++]!;
      if (n === 0 && b === 0x80) fail(`${what}: non-minimal high tag number`);
      if (++n > 4) fail(`${what}: tag number too large`);
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (tagNumber < 31) fail(`${what}: high-tag-number form used for tag ${tagNumber}`);
  }
  if (p >= buf.length) fail(`${what}: truncated (missing length)`);
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    fail(`${what}: indefinite length is not allowed in DER`);
  } else {
    const n = first & 0x7f;
    if (n === 0x7f) fail(`${what}: reserved length octet 0xff`);
    if (n > MAX_LENGTH_OCTETS) fail(`${what}: length field of ${n} octets is too large`);
    if (buf.length - p < n) fail(`${what}: truncated length`);
    if (buf[p] === 0) fail(`${what}: non-minimal length encoding (leading zero octet)`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80) fail(`${what}: non-minimal length encoding (${len} in long form)`);
  }
  if (buf.length - p < len) fail(`${what}: truncated (${tagName(tag)} length ${len}, only ${buf.length - p} bytes left)`);
  const value = buf.subarray(p, p + len);
  const node: DERNode = { tag, tagNumber, constructed: (tag & 0x20) !== 0, value, raw: buf.subarray(offset, p + len) };
  return { node, next: p + len };
}

/** Decode exactly one DER element occupying all of `buf` (no trailing bytes). */
export function parseDER(buf: Uint8Array, what = 'DER'): DERNode {
  const { node, next } = readTLV(buf, 0, what);
  if (next !== buf.length) fail(`${what}: ${buf.length - next} trailing bytes after ${tagName(node.tag)}`);
  return node;
}

/** Sequential reader over the contents of a constructed element. */
export class DERReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array, readonly what = 'DER') {}

  static of(node: DERNode, what: string): DERReader {
    if (!node.constructed) fail(`${what}: expected a constructed element, got ${tagName(node.tag)}`);
    return new DERReader(node.value, what);
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Tag octet of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.atEnd() ? undefined : this.buf[this.pos];
  }

  /** Next element of any tag. */
  next(field = 'element'): DERNode {
    if (this.atEnd()) fail(`${this.what}: missing ${field}`);
    const { node, next } = readTLV(this.buf, this.pos, `${this.what}.${field}`);
    this.pos = next;
    return node;
  }

  /** Next element, which must carry `tag`. */
  expect(tag: number, field: string): DERNode {
    if (this.atEnd()) fail(`${this.what}: missing ${field} (${tagName(tag)})`);
    const t = this.buf[this.pos]!;
    if (t !== tag) fail(`${this.what}: expected ${field} (${tagName(tag)}), got ${tagName(t)}`);
    return this.next(field);
  }

  /** Next element if it carries `tag`, else undefined (nothing consumed). */
  optional(tag: number, field: string): DERNode | undefined {
    return this.peekTag() === tag ? this.next(field) : undefined;
  }

  /** Enter a SEQUENCE (or another constructed tag) and return a reader over its contents. */
  sequence(field: string, tag: number = Tag.SEQUENCE): DERReader {
    return new DERReader(this.expect(tag, field).value, `${this.what}.${field}`);
  }

  integer(field: string): bigint {
    return decodeInteger(this.expect(Tag.INTEGER, field), `${this.what}.${field}`);
  }
  smallInteger(field: string, max = Number.MAX_SAFE_INTEGER): number {
    return decodeSmallInteger(this.expect(Tag.INTEGER, field), `${this.what}.${field}`, max);
  }
  oid(field: string): string {
    return decodeOID(this.expect(Tag.OID, field), `${this.what}.${field}`);
  }
  octetString(field: string): Uint8Array {
    return this.expect(Tag.OCTET_STRING, field).value;
  }
  bitString(field: string): BitString {
    return decodeBitString(this.expect(Tag.BIT_STRING, field), `${this.what}.${field}`);
  }
  boolean(field: string): boolean {
    return decodeBoolean(this.expect(Tag.BOOLEAN, field), `${this.what}.${field}`);
  }
  null(field: string): void {
    decodeNull(this.expect(Tag.NULL, field), `${this.what}.${field}`);
  }

  /** Assert that every element was consumed. */
  end(): void {
    if (!this.atEnd()) fail(`${this.what}: unexpected trailing ${tagName(this.buf[this.pos]!)}`);
  }

  /** All remaining elements. */
  rest(field = 'element'): DERNode[] {
    const out: DERNode[] = [];
    while (!this.atEnd()) out.push(this.next(field));
    return out;
  }
}

// --- Primitive decoders (X.690 §8.2–§8.26 with DER restrictions §10–§11) -------------------------------

/** INTEGER (§8.3): non-empty, minimal two's complement. */
export function decodeInteger(node: DERNode, what = 'INTEGER'): bigint {
  if (node.tag !== Tag.INTEGER) fail(`${what}: expected INTEGER, got ${tagName(node.tag)}`);
  const v = node.value;
  if (v.length === 0) fail(`${what}: empty INTEGER`);
  if (v.length > 1 && ((v[0] === 0x00 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    fail(`${what}: non-minimal INTEGER encoding`);
  }
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

export function decodeSmallInteger(node: DERNode, what = 'INTEGER', max = Number.MAX_SAFE_INTEGER): number {
  const n = decodeInteger(node, what);
  if (n < 0n || n > BigInt(max)) fail(`${what}: value ${n} outside 0..${max}`);
  return Number(n);
}

/** The contents of a non-negative INTEGER without its sign octet (e.g. a serial number or RSA modulus). */
export function integerMagnitude(node: DERNode, what = 'INTEGER'): Uint8Array {
  decodeInteger(node, what); // validates
  const v = node.value;
  return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
}

export interface BitString {
  /** Contents octets after the unused-bits octet. */
  bytes: Uint8Array;
  unusedBits: number;
}

/** BIT STRING (§8.6, §11.2): unused-bits octet 0..7, 0 when empty, unused bits zero. */
export function decodeBitString(node: DERNode, what = 'BIT STRING'): BitString {
  if (node.tag !== Tag.BIT_STRING) fail(`${what}: expected BIT STRING, got ${tagName(node.tag)}`);
  const v = node.value;
  if (v.length === 0) fail(`${what}: empty BIT STRING (missing unused-bits octet)`);
  const unusedBits = v[0]!;
  if (unusedBits > 7) fail(`${what}: unused-bits octet ${unusedBits} > 7`);
  if (v.length === 1 && unusedBits !== 0) fail(`${what}: empty BIT STRING with ${unusedBits} unused bits`);
  if (unusedBits && v[v.length - 1]! & ((1 << unusedBits) - 1)) fail(`${what}: unused bits are not zero`);
  return { bytes: v.subarray(1), unusedBits };
}

/** A BIT STRING that must hold whole octets (keys, signatures). */
export function bitStringOctets(node: DERNode, what = 'BIT STRING'): Uint8Array {
  const bs = decodeBitString(node, what);
  if (bs.unusedBits !== 0) fail(`${what}: expected whole octets, got ${bs.unusedBits} unused bits`);
  return bs.bytes;
}

export function decodeBoolean(node: DERNode, what = 'BOOLEAN'): boolean {
  if (node.tag !== Tag.BOOLEAN) fail(`${what}: expected BOOLEAN, got ${tagName(node.tag)}`);
  if (node.value.length !== 1) fail(`${what}: BOOLEAN must be one octet`);
  const b = node.value[0]!;
  if (b === 0x00) return false;
  if (b === 0xff) return true;
  fail(`${what}: BOOLEAN must be 0x00 or 0xff in DER, got 0x${b.toString(16)}`);
}

export function decodeNull(node: DERNode, what = 'NULL'): void {
  if (node.tag !== Tag.NULL) fail(`${what}: expected NULL, got ${tagName(node.tag)}`);
  if (node.value.length !== 0) fail(`${what}: NULL with contents`);
}

/** OBJECT IDENTIFIER (§8.19) to dotted decimal; minimal base-128 sub-identifiers. */
export function decodeOID(node: DERNode, what = 'OBJECT IDENTIFIER'): string {
  if (node.tag !== Tag.OID) fail(`${what}: expected OBJECT IDENTIFIER, got ${tagName(node.tag)}`);
  const v = node.value;
  if (v.length === 0) fail(`${what}: empty OBJECT IDENTIFIER`);
  if (v.length > 256) fail(`${what}: OBJECT IDENTIFIER too long (${v.length} octets)`);
  const arcs: bigint[] = [];
  let cur = 0n;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) fail(`${what}: non-minimal OID sub-identifier`);
    started = true;
    cur = (cur << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(cur);
      cur = 0n;
      started = false;
    }
  }
  if (started) fail(`${what}: truncated OID sub-identifier`);
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

const DIGITS = /^[0-9]+$/;

/**
 * UTCTime / GeneralizedTime as RFC 5280 §4.1.2.5 profiles them: UTCTime YYMMDDHHMMSSZ (YY < 50 → 20YY,
 * else 19YY), GeneralizedTime YYYYMMDDHHMMSSZ; seconds present, 'Z' required, no fractional seconds.
 */
export function decodeTime(node: DERNode, what = 'Time'): Date {
  let s: string;
  let year: number;
  if (node.tag === Tag.UTCTime) {
    s = latin1(node.value);
    if (s.length !== 13 || s[12] !== 'Z' || !DIGITS.test(s.slice(0, 12))) fail(`${what}: UTCTime must be YYMMDDHHMMSSZ, got ${JSON.stringify(s)}`);
    const yy = Number(s.slice(0, 2));
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    s = s.slice(2);
  } else if (node.tag === Tag.GeneralizedTime) {
    s = latin1(node.value);
    if (s.length !== 15 || s[14] !== 'Z' || !DIGITS.test(s.slice(0, 14))) fail(`${what}: GeneralizedTime must be YYYYMMDDHHMMSSZ, got ${JSON.stringify(s)}`);
    year = Number(s.slice(0, 4));
    s = s.slice(4);
  } else {
    fail(`${what}: expected UTCTime or GeneralizedTime, got ${tagName(node.tag)}`);
  }
  const month = Number(s.slice(0, 2));
  const day = Number(s.slice(2, 4));
  const hour = Number(s.slice(4, 6));
  const minute = Number(s.slice(6, 8));
  const second = Number(s.slice(8, 10));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    fail(`${what}: invalid date/time ${JSON.stringify(latin1(node.value))}`);
  }
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (year < 100) d.setUTCFullYear(year); // Date.UTC maps 0..99 to 1900..1999
  return d;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Character string types decoded to a JS string: UTF8String (invalid UTF-8 is an error),
 * PrintableString/IA5String/NumericString/VisibleString (7-bit; octets >= 0x80 are an error),
 * TeletexString (treated as Latin-1, as OpenSSL does), BMPString (UCS-2/UTF-16BE),
 * UniversalString (UCS-4/UTF-32BE).
 */
export function decodeString(node: DERNode, what = 'string'): string {
  const v = node.value;
  switch (node.tag) {
    case Tag.UTF8String:
      try {
        return utf8Decoder.decode(v);
      } catch {
        fail(`${what}: invalid UTF-8 in UTF8String`);
      }
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.NumericString:
    case Tag.VisibleString:
      for (const c of v) if (c >= 0x80) fail(`${what}: non-ASCII octet in ${tagName(node.tag)}`);
      return latin1(v);
    case Tag.TeletexString:
      return latin1(v);
    case Tag.BMPString: {
      if (v.length % 2) fail(`${what}: BMPString of odd length`);
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case Tag.UniversalString: {
      if (v.length % 4) fail(`${what}: UniversalString length not a multiple of 4`);
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) >>> 0) + ((v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail(`${what}: invalid code point in UniversalString`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      fail(`${what}: expected a character string, got ${tagName(node.tag)}`);
  }
}

export function isStringTag(tag: number): boolean {
  return (
    tag === Tag.UTF8String || tag === Tag.PrintableString || tag === Tag.IA5String || tag === Tag.NumericString ||
    tag === Tag.VisibleString || tag === Tag.TeletexString || tag === Tag.BMPString || tag === Tag.UniversalString
  );
}

// --- Writer ----------------------------------------------------------------------------------------

export function encodeLength(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`DER length ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** A TLV with the given identifier octet and the concatenation of `contents`. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const value = concat(...contents);
  return concat(Uint8Array.of(tag), encodeLength(value.length), value);
}

function encodeIntegerBigint(n: bigint): Uint8Array {
  // Minimal two's complement.
  const bytes: number[] = [];
  let x = n;
  for (;;) {
    const b = Number(x & 0xffn);
    bytes.unshift(b);
    x >>= 8n;
    if ((x === 0n && !(b & 0x80)) || (x === -1n && b & 0x80)) break;
  }
  return Uint8Array.from(bytes);
}

function encodeOIDContents(oid: string): Uint8Array {
  const parts = oid.split('.');
  if (parts.length < 2 || parts.some((p) => !DIGITS.test(p))) throw new TypeError(`bad OID ${oid}`);
  const arcs = parts.map((p) => BigInt(p));
  const [a, b] = [arcs[0]!, arcs[1]!];
  if (a > 2n || (a < 2n && b >= 40n)) throw new TypeError(`bad OID ${oid}`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let x = arc >> 7n; x > 0n; x >>= 7n) chunk.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function timeString(d: Date, generalized: boolean): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('invalid Date');
  const y = d.getUTCFullYear();
  const year = generalized ? String(y).padStart(4, '0') : two(y % 100);
  return `${year}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) throw new TypeError(`non-ASCII character in ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** DER encoders. Each returns a complete TLV. */
export const der = {
  sequence: (...items: Uint8Array[]): Uint8Array => tlv(Tag.SEQUENCE, ...items),
  /** SET OF: DER (§11.6) orders the encodings ascending. */
  setOf: (...items: Uint8Array[]): Uint8Array => tlv(Tag.SET, ...[...items].sort(compareBytes)),
  integer: (n: bigint | number): Uint8Array => tlv(Tag.INTEGER, encodeIntegerBigint(BigInt(n))),
  /** A non-negative INTEGER from big-endian magnitude bytes (adds a 0x00 when the high bit is set). */
  unsignedInteger: (magnitude: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    const m = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(i);
    return tlv(Tag.INTEGER, m[0]! & 0x80 ? concat(Uint8Array.of(0), m) : m);
  },
  boolean: (b: boolean): Uint8Array => tlv(Tag.BOOLEAN, Uint8Array.of(b ? 0xff : 0x00)),
  null: (): Uint8Array => Uint8Array.of(Tag.NULL, 0),
  oid: (oid: string): Uint8Array => tlv(Tag.OID, encodeOIDContents(oid)),
  octetString: (b: Uint8Array): Uint8Array => tlv(Tag.OCTET_STRING, b),
  bitString: (b: Uint8Array, unusedBits = 0): Uint8Array => tlv(Tag.BIT_STRING, Uint8Array.of(unusedBits), b),
  utf8String: (s: string): Uint8Array => tlv(Tag.UTF8String, new TextEncoder().encode(s)),
  printableString: (s: string): Uint8Array => {
    if (!PRINTABLE.test(s)) throw new TypeError(`not a PrintableString: ${JSON.stringify(s)}`);
    return tlv(Tag.PrintableString, ascii(s));
  },
  ia5String: (s: string): Uint8Array => tlv(Tag.IA5String, ascii(s)),
  utcTime: (d: Date): Uint8Array => tlv(Tag.UTCTime, ascii(timeString(d, false))),
  generalizedTime: (d: Date): Uint8Array => tlv(Tag.GeneralizedTime, ascii(timeString(d, true))),
  /** RFC 5280 §4.1.2.5: UTCTime for 1950..2049, GeneralizedTime otherwise. */
  time: (d: Date): Uint8Array => {
    const y = d.getUTCFullYear();
    return y >= 1950 && y < 2050 ? der.utcTime(d) : der.generalizedTime(d);
  },
  /** [n] EXPLICIT: a constructed context tag wrapping complete encodings. */
  explicit: (n: number, ...inner: Uint8Array[]): Uint8Array => tlv(contextTag(n, true), ...inner),
  /** [n] IMPLICIT primitive: the contents octets under a context tag. */
  implicit: (n: number, contents: Uint8Array): Uint8Array => tlv(contextTag(n, false), contents),
};
