// RFC 5246 §7.4.9 Finished: verify_data[12].
import { Reader } from '../../wire/reader.js';

export const VERIFY_DATA_LENGTH = 12;

export function parseFinished(body: Uint8Array): Uint8Array {
  const r = new Reader(body, 'Finished');
  const v = r.bytes(VERIFY_DATA_LENGTH, 'verify_data');
  r.end();
  return v;
}
