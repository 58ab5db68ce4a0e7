// The trace names CertificateStatus (RFC 6066 §8) and the status_request extension, and says what the
// message carries without ever throwing on a malformed one.
import { expect } from 'chai';
import { formatTraceEvent, type TraceEvent } from '../../lib/index.js';
import { ExtensionType, OCSP_STATUS_REQUEST } from '../../lib/handshake/extensions.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { encodeCertificateStatus } from '../../lib/handshake/messages/certificate-status.js';
import { encodeClientHello } from '../../lib/handshake/messages/client-hello.js';
import { frameHandshake } from '../../lib/handshake/reassembler.js';

const event = (type: number, name: string, body: Uint8Array): TraceEvent => ({
  direction: 'in', kind: 'handshake', type, name, length: body.length, raw: frameHandshake(type, body),
});

describe('debug traces: CertificateStatus', () => {
  it('names the message and the size of the OCSP response it carries', () => {
    const body = encodeCertificateStatus(new Uint8Array(866));
    expect(formatTraceEvent(event(HandshakeType.certificate_status, 'certificate_status', body))).to.equal('<- CertificateStatus (870 bytes) ocsp, 866-byte OCSPResponse');
  });

  it('describes a malformed one instead of throwing', () => {
    const line = formatTraceEvent(event(HandshakeType.certificate_status, 'certificate_status', Uint8Array.of(2, 0, 0, 1, 0)));
    expect(line).to.equal('<- CertificateStatus (5 bytes) malformed: decode_error: CertificateStatus: status_type 2, not ocsp(1)');
  });

  it('lists status_request among the ClientHello extensions', () => {
    const body = encodeClientHello({
      version: 0x0303, random: new Uint8Array(32), sessionId: new Uint8Array(0), cipherSuites: [0xc02b], compressionMethods: [0],
      extensions: [[ExtensionType.status_request, OCSP_STATUS_REQUEST]],
    });
    expect(formatTraceEvent(event(HandshakeType.client_hello, 'client_hello', body))).to.match(/extensions: status_request$/);
  });
});
