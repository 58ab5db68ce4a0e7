// RFC 5246 §7.4.1.3 ServerHello.
import { TLSError } from '../../alert.js';
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { parseExtensions, writeExtensions, type Extensions } from '../extensions.js';

export interface ServerHello {
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extensions;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const version = r.u16('server_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vec8('session_id', 0, 32);
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('compression_method');
  const extensions = parseExtensions(r, 'ServerHello');
  if (compressionMethod !== 0) throw new TLSError('illegal_parameter', `server chose compression method ${compressionMethod}, which was not offered`);
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeServerHello(m: Omit<ServerHello, 'extensions' | 'compressionMethod'> & { extensions: Array<[number, Uint8Array]> }): Uint8Array {
  const w = new Writer().u16(m.version).bytes(m.random).vec8(m.sessionId).u16(m.cipherSuite).u8(0);
  writeExtensions(w, m.extensions);
  return w.finish();
}
