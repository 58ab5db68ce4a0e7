// Hello extensions (RFC 5246 §7.4.1.4) and the codecs of the ones qtls understands.
import { TLSError, decodeError } from '../alert.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const ExtensionType = {
  server_name: 0, // RFC 6066 §3
  status_request: 5, // RFC 6066 §8 (OCSP stapling)
  supported_groups: 10, // RFC 8422 §5.1.1 (née elliptic_curves), RFC 7919
  ec_point_formats: 11, // RFC 8422 §5.1.2
  signature_algorithms: 13, // RFC 5246 §7.4.1.4.1
  application_layer_protocol_negotiation: 16, // RFC 7301
  encrypt_then_mac: 22, // RFC 7366 (meaningless with AEAD suites; ignored)
  extended_master_secret: 23, // RFC 7627
  supported_versions: 43, // RFC 8446 §4.2.1 (read only: a client without TLS 1.2 in it gets protocol_version)
  session_ticket: 35, // RFC 5077
  renegotiation_info: 0xff01, // RFC 5746
  /** qtls private-use extension: the client's QKD SAE identity and delivery interfaces. */
  qkd_sae: 0xff5a,
} as const;

export type Extensions = Map<number, Uint8Array>;

/** Parse the extensions block (the part after compression_methods / compression_method). */
export function parseExtensions(r: Reader, what: string): Extensions {
  const out: Extensions = new Map();
  if (r.atEnd()) return out; // §7.4.1.2: the block may be absent entirely
  const block = r.sub(2, `${what}.extensions`);
  while (!block.atEnd()) {
    const type = block.u16('extension type');
    const data = block.vec16('extension data');
    // §7.4.1.4: "There MUST NOT be more than one extension of the same type."
    if (out.has(type)) throw new TLSError('illegal_parameter', `${what}: duplicate extension ${type}`);
    out.set(type, data);
  }
  r.end();
  return out;
}

export function writeExtensions(w: Writer, exts: Array<[number, Uint8Array]>): void {
  if (exts.length === 0) return;
  w.block(2, (b) => {
    for (const [type, data] of exts) b.u16(type).vec16(data);
  });
}

// --- individual extension codecs ---

/** RFC 6066 §3: ServerNameList; we return the host_name (type 0), if any. */
export function parseServerName(data: Uint8Array): string | undefined {
  const r = new Reader(data, 'server_name');
  if (r.atEnd()) return undefined; // a server's echo is empty
  const list = r.sub(2, 'server_name_list', 1);
  r.end();
  let host: string | undefined;
  while (!list.atEnd()) {
    const type = list.u8('name_type');
    const name = list.vec16('HostName', 1);
    if (type === 0) {
      // RFC 6066: "MUST NOT contain more than one name of the same name_type".
      if (host !== undefined) throw new TLSError('illegal_parameter', 'server_name: two host names');
      const s = Buffer.from(name).toString('latin1');
      if (!/^[\x21-\x7e]+$/.test(s)) throw new TLSError('decode_error', 'server_name: host name has non-printable bytes');
      host = s.replace(/\.$/, '');
    }
  }
  return host;
}
export function encodeServerName(host: string): Uint8Array {
  return new Writer().block(2, (w) => w.u8(0).vec16(Buffer.from(host, 'ascii'))).finish();
}

export function parseU16List(data: Uint8Array, what: string, minItems = 1): number[] {
  const r = new Reader(data, what);
  const list = r.u16List(2, what, minItems);
  r.end();
  return list;
}
export function encodeU16List(values: number[]): Uint8Array {
  return new Writer().block(2, (w) => values.forEach((v) => w.u16(v))).finish();
}

/** RFC 8422 §5.1.2: ECPointFormatList; the list MUST contain uncompressed (0). */
export function parseEcPointFormats(data: Uint8Array): number[] {
  const r = new Reader(data, 'ec_point_formats');
  const list = [...r.vec8('ec_point_format_list', 1)];
  r.end();
  return list;
}
export const EC_POINT_FORMATS_UNCOMPRESSED = new Uint8Array([1, 0]);

/** RFC 7301 §3.1: ProtocolNameList. */
export function parseAlpn(data: Uint8Array): string[] {
  const r = new Reader(data, 'application_layer_protocol_negotiation');
  const list = r.sub(2, 'protocol_name_list', 2);
  r.end();
  const out: string[] = [];
  while (!list.atEnd()) out.push(Buffer.from(list.vec8('ProtocolName', 1)).toString('latin1'));
  return out;
}
export function encodeAlpn(protocols: string[]): Uint8Array {
  return new Writer().block(2, (w) => protocols.forEach((p) => w.vec8(Buffer.from(p, 'latin1')))).finish();
}

/** RFC 5746 §3.2: renegotiated_connection<0..255>. */
export function parseRenegotiationInfo(data: Uint8Array): Uint8Array {
  const r = new Reader(data, 'renegotiation_info');
  const v = r.vec8('renegotiated_connection');
  r.end();
  return v;
}
export const EMPTY_RENEGOTIATION_INFO = new Uint8Array([0]);

/** RFC 6066 §8 CertificateStatusType. */
export const CertificateStatusType = { ocsp: 1 } as const;

/**
 * RFC 6066 §8 CertificateStatusRequest for OCSP with no responder_id_list and no request_extensions:
 * "the responders are implicitly known to the server", and we add no OCSP extensions (no nonce).
 */
export const OCSP_STATUS_REQUEST = new Uint8Array([CertificateStatusType.ocsp, 0, 0, 0, 0]);

/**
 * A client's CertificateStatusRequest: true when it asks for OCSP. Other status types are ignored, as
 * OpenSSL does (their body is opaque to us); a malformed OCSP request is a decode_error.
 */
export function parseStatusRequest(data: Uint8Array): boolean {
  const r = new Reader(data, 'status_request');
  if (r.u8('status_type') !== CertificateStatusType.ocsp) return false;
  // OCSPStatusRequest: ResponderID responder_id_list<0..2^16-1>, each opaque<1..2^16-1>; Extensions request_extensions.
  const ids = r.sub(2, 'responder_id_list');
  while (!ids.atEnd()) ids.vec16('ResponderID', 1);
  r.vec16('request_extensions');
  r.end();
  return true;
}

/** Extensions whose body must be empty (extended_master_secret, RFC 7627 §5.1). */
export function requireEmpty(data: Uint8Array, what: string): void {
  if (data.length !== 0) decodeError(`${what} extension must be empty`);
}
