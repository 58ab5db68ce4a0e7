// RFC 5246 §7.4.2 / §7.4.6 Certificate: ASN.1Cert certificate_list<0..2^24-1>, each opaque<1..2^24-1>.
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export function parseCertificateMessage(body: Uint8Array): Uint8Array[] {
  const r = new Reader(body, 'Certificate');
  const list = r.sub(3, 'certificate_list');
  r.end();
  const certs: Uint8Array[] = [];
  while (!list.atEnd()) certs.push(list.vec24('ASN.1Cert', 1));
  return certs;
}

export function encodeCertificateMessage(certs: Uint8Array[]): Uint8Array {
  return new Writer().block(3, (w) => certs.forEach((c) => w.vec24(c))).finish();
}
