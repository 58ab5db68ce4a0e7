// PEM (RFC 7468) decode and encode.
//
// Decoding is tolerant of text around the blocks, CRLF line ends, whitespace inside the base64 and
// RFC 1421 header lines ("Proc-Type: ..."), but strict about the base64 alphabet and about a BEGIN
// without its matching END.

import { TLSError } from '../alert.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
  /** RFC 1421 headers (e.g. Proc-Type/DEK-Info of legacy encrypted keys), when present. */
  headers?: Record<string, string>;
}

function fail(message: string): never {
  throw new TLSError('decode_error', `PEM: ${message}`);
}

const BEGIN = /-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every PEM block in `text`, in order. */
export function pemDecodeAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  let from = 0;
  for (;;) {
    BEGIN.lastIndex = from;
    m = BEGIN.exec(text);
    if (!m) break;
    const label = m[1] ?? '';
    const start = m.index + m[0].length;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, start);
    if (end < 0) fail(`"BEGIN ${label}" without matching "END ${label}"`);
    const body = text.slice(start, end);
    let headers: Record<string, string> | undefined;
    const lines = body.split(/\r?\n|\r/);
    const b64: string[] = [];
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      const h = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (h && b64.length === 0) {
        (headers ??= {})[h[1]!] = h[2]!;
        continue;
      }
      b64.push(line.replace(/[ \t]/g, ''));
    }
    const joined = b64.join('');
    if (!BASE64.test(joined) || joined.length % 4 === 1) fail(`invalid base64 in "${label}" block`);
    const der = new Uint8Array(Buffer.from(joined, 'base64'));
    out.push(headers ? { label, der, headers } : { label, der });
    from = end + endMarker.length;
  }
  return out;
}

/** The DER of every block labelled `label` (e.g. 'CERTIFICATE'), in order; other blocks are skipped. */
export function pemDecode(text: string, label: string): Uint8Array[] {
  return pemDecodeAll(text)
    .filter((b) => b.label === label)
    .map((b) => b.der);
}

/** The first block whose label is one of `labels`; throws when there is none. */
export function pemDecodeFirst(text: string, labels: string | readonly string[]): PemBlock {
  const want = typeof labels === 'string' ? [labels] : labels;
  const block = pemDecodeAll(text).find((b) => want.includes(b.label));
  if (!block) fail(`no ${want.map((l) => `"${l}"`).join(' or ')} block found`);
  return block;
}

/** Encode DER as a PEM block: 64-character base64 lines, LF line ends, trailing newline. */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}

/** True when the bytes look like PEM text rather than DER (DER of anything we read starts with 0x30). */
export function looksLikePem(input: string | Uint8Array): boolean {
  if (typeof input === 'string') return input.includes('-----BEGIN ');
  return input.length > 0 && input[0] !== 0x30 && Buffer.from(input.buffer, input.byteOffset, input.byteLength).includes('-----BEGIN ');
}

/** Bytes (e.g. a Buffer read from a file) to text for PEM decoding. */
export function pemText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
}
