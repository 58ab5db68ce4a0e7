// RFC 5246 §7.4.1.2 ClientHello.
import { TLSError } from '../../alert.js';
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { parseExtensions, writeExtensions, type Extensions } from '../extensions.js';

export interface ClientHello {
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuites: number[];
  compressionMethods: number[];
  extensions: Extensions;
}

export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new Reader(body, 'ClientHello');
  const version = r.u16('client_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vec8('session_id', 0, 32);
  const cipherSuites = r.u16List(2, 'cipher_suites', 1);
  const compressionMethods = [...r.vec8('compression_methods', 1)];
  const extensions = parseExtensions(r, 'ClientHello');
  // §7.4.1.2: the null method MUST be offered; we implement no other.
  if (!compressionMethods.includes(0)) throw new TLSError('illegal_parameter', 'ClientHello does not offer null compression');
  return { version, random, sessionId, cipherSuites, compressionMethods, extensions };
}

export function encodeClientHello(m: Omit<ClientHello, 'extensions'> & { extensions: Array<[number, Uint8Array]> }): Uint8Array {
  const w = new Writer().u16(m.version).bytes(m.random).vec8(m.sessionId);
  w.block(2, (b) => m.cipherSuites.forEach((s) => b.u16(s)));
  w.vec8(new Uint8Array(m.compressionMethods));
  writeExtensions(w, m.extensions);
  return w.finish();
}
