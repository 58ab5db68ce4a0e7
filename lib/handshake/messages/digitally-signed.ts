// RFC 5246 §4.7 digitally-signed struct as used in TLS 1.2: SignatureAndHashAlgorithm + opaque<0..2^16-1>.
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export interface DigitallySigned {
  scheme: number;
  signature: Uint8Array;
}

export function readDigitallySigned(r: Reader): DigitallySigned {
  const scheme = r.u16('signature algorithm');
  const signature = r.vec16('signature', 1);
  return { scheme, signature };
}

export function writeDigitallySigned(w: Writer, d: DigitallySigned): Writer {
  return w.u16(d.scheme).vec16(d.signature);
}
