// RFC 6066 §8 CertificateStatus: status_type ocsp(1), then OCSPResponse as opaque<1..2^24-1>.
// The response is carried, not interpreted: checking it is the application's job (as with node:tls).
import { TLSError } from '../../alert.js';
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { CertificateStatusType } from '../extensions.js';

/** The DER OCSPResponse; any other status_type, an empty response or trailing bytes is a decode_error. */
export function parseCertificateStatus(body: Uint8Array): Uint8Array {
  const r = new Reader(body, 'CertificateStatus');
  const type = r.u8('status_type');
  // We only ever ask for ocsp(1); OpenSSL also answers anything else with decode_error.
  if (type !== CertificateStatusType.ocsp) throw new TLSError('decode_error', `CertificateStatus: status_type ${type}, not ocsp(1)`);
  const response = r.vec24('OCSPResponse', 1);
  r.end();
  return response;
}

export function encodeCertificateStatus(ocspResponse: Uint8Array): Uint8Array {
  return new Writer().u8(CertificateStatusType.ocsp).vec24(ocspResponse).finish();
}
