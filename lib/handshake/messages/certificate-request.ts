// RFC 5246 §7.4.4 CertificateRequest.
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export const ClientCertificateType = { rsa_sign: 1, ecdsa_sign: 64 } as const;

export interface CertificateRequest {
  certificateTypes: number[];
  signatureSchemes: number[];
  /** DER-encoded DistinguishedNames of acceptable CAs. */
  authorities: Uint8Array[];
}

export function parseCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = new Reader(body, 'CertificateRequest');
  const certificateTypes = [...r.vec8('certificate_types', 1)];
  const signatureSchemes = r.u16List(2, 'supported_signature_algorithms', 1);
  const cas = r.sub(2, 'certificate_authorities');
  r.end();
  const authorities: Uint8Array[] = [];
  while (!cas.atEnd()) authorities.push(cas.vec16('DistinguishedName', 1));
  return { certificateTypes, signatureSchemes, authorities };
}

export function encodeCertificateRequest(m: CertificateRequest): Uint8Array {
  const w = new Writer().vec8(new Uint8Array(m.certificateTypes));
  w.block(2, (b) => m.signatureSchemes.forEach((s) => b.u16(s)));
  w.block(2, (b) => m.authorities.forEach((a) => b.vec16(a)));
  return w.finish();
}
