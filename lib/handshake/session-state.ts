// The state a resumable session keeps (RFC 5246 §7.3 "session state", RFC 5077 §4 ticket contents),
// and its one binary encoding, used for the server cache, inside tickets, and for the client's
// `session` Buffer. The encoding is ours; treat it as opaque (and secret: it holds the master secret).
import { TLSError } from '../alert.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export interface SessionState {
  suiteId: number;
  extendedMasterSecret: boolean;
  masterSecret: Uint8Array;
  /** Seconds since the epoch when the full handshake happened. */
  created: number;
  /** Seconds the session may be resumed for. */
  lifetime: number;
  /** The peer's certificate chain as received (DER, leaf first). */
  peerCertificates: Uint8Array[];
  servername: string;
  alpn: string;
  /** PSK suites: the identity the session was made with (re-checked on resumption; never the key). */
  pskIdentity: string;
  /**
   * Server only: how the client certificate (peerCertificates) was judged in the full handshake, which
   * a resumed session reports again as node does (OpenSSL keeps the verify result in the session).
   * undefined: not recorded (a session of format 2, or one without a client certificate).
   */
  clientVerdict?: { authorized: boolean; code: string; message: string };
  // Client only:
  sessionId: Uint8Array;
  ticket: Uint8Array;
}

/** Format 3 added clientVerdict; format 2 (without it) is still read. */
const FORMAT = 3;
const FORMAT_WITHOUT_VERDICT = 2;

export function encodeSessionState(s: SessionState): Uint8Array {
  const w = new Writer().u8(FORMAT).u16(s.suiteId).u8(s.extendedMasterSecret ? 1 : 0).u32(s.created).u32(s.lifetime);
  w.vec8(s.masterSecret).vec8(s.sessionId).vec16(s.ticket);
  w.vec8(Buffer.from(s.servername, 'utf8')).vec8(Buffer.from(s.alpn, 'latin1')).vec16(Buffer.from(s.pskIdentity, 'utf8'));
  w.block(3, (b) => s.peerCertificates.forEach((c) => b.vec24(c)));
  // 0: no verdict; 1: authorized; 2: not authorized, with the error's code and message.
  const v = s.clientVerdict;
  w.u8(v === undefined ? 0 : v.authorized ? 1 : 2);
  w.vec8(Buffer.from(v?.code ?? '', 'utf8').subarray(0, 255)).vec16(Buffer.from(v?.message ?? '', 'utf8').subarray(0, 4096));
  return w.finish();
}

export function decodeSessionState(b: Uint8Array): SessionState {
  const r = new Reader(b, 'session state');
  const format = r.u8('format');
  if (format !== FORMAT && format !== FORMAT_WITHOUT_VERDICT) throw new TLSError('decode_error', 'unknown session state format');
  const suiteId = r.u16();
  const ems = r.u8() === 1;
  const created = r.u32();
  const lifetime = r.u32();
  const masterSecret = r.vec8('master_secret', 48, 48).slice();
  const sessionId = r.vec8('session_id', 0, 32).slice();
  const ticket = r.vec16('ticket').slice();
  const servername = Buffer.from(r.vec8()).toString('utf8');
  const alpn = Buffer.from(r.vec8()).toString('latin1');
  const pskIdentity = Buffer.from(r.vec16()).toString('utf8');
  const certs = r.sub(3, 'certificates');
  const peerCertificates: Uint8Array[] = [];
  while (!certs.atEnd()) peerCertificates.push(certs.vec24('certificate', 1).slice());
  let clientVerdict: SessionState['clientVerdict'];
  if (format === FORMAT) {
    const kind = r.u8('verdict');
    const code = Buffer.from(r.vec8()).toString('utf8');
    const message = Buffer.from(r.vec16()).toString('utf8');
    if (kind > 2) throw new TLSError('decode_error', 'unknown client verdict in session state');
    if (kind !== 0) clientVerdict = { authorized: kind === 1, code, message };
  }
  r.end();
  return { suiteId, extendedMasterSecret: ems, masterSecret, created, lifetime, peerCertificates, servername, alpn, pskIdentity, sessionId, ticket, ...(clientVerdict ? { clientVerdict } : {}) };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function isExpired(s: SessionState, now = nowSeconds()): boolean {
  return now < s.created || now >= s.created + s.lifetime;
}
