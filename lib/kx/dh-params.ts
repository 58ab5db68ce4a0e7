// PKCS#3 DH parameters ("-----BEGIN DH PARAMETERS-----", as `openssl dhparam` writes them):
// DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER, privateValueLength INTEGER OPTIONAL }.
import { DERReader, Tag, decodeInteger, parseDER } from '../pki/der.js';
import { looksLikePem, pemDecode, pemText } from '../pki/pem.js';

export interface DhParams {
  p: bigint;
  g: bigint;
}

export function parseDhParams(input: string | Uint8Array): DhParams {
  const der = looksLikePem(input) ? pemDecode(pemText(input), 'DH PARAMETERS')[0] : (input as Uint8Array);
  if (!der) throw new Error('no "DH PARAMETERS" block in the dhparam input');
  const seq = parseDER(der, 'DHParameter');
  if (seq.tag !== Tag.SEQUENCE) throw new Error('DHParameter is not a SEQUENCE');
  const r = new DERReader(seq.value, 'DHParameter');
  const p = decodeInteger(r.expect(Tag.INTEGER, 'prime'), 'prime');
  const g = decodeInteger(r.expect(Tag.INTEGER, 'base'), 'base');
  if (p < 3n || p % 2n === 0n) throw new Error('dhparam prime must be odd');
  if (g <= 1n || g >= p - 1n) throw new Error('dhparam generator out of range');
  return { p, g };
}
