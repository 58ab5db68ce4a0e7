// RFC 6066 §8 codecs: the status_request extension a client sends and a server reads, and the
// CertificateStatus message (handshake type 22) a server sends and a client reads.
import { expect } from 'chai';
import { TLSError } from '../../lib/alert.js';
import { OCSP_STATUS_REQUEST, parseStatusRequest } from '../../lib/handshake/extensions.js';
import { HandshakeType, handshakeTypeName } from '../../lib/handshake/handshake-type.js';
import { encodeCertificateStatus, parseCertificateStatus } from '../../lib/handshake/messages/certificate-status.js';
import { HandshakeReassembler, frameHandshake } from '../../lib/handshake/reassembler.js';

const decodeError = (f: () => unknown, message: RegExp) =>
  expect(f).to.throw(TLSError, message).that.satisfies((e: TLSError) => e.alert === 'decode_error');

describe('handshake/certificate-status: RFC 6066 §8 codecs', () => {
  it('CertificateStatus is handshake type 22, and the reassembler knows it', () => {
    expect(HandshakeType.certificate_status).to.equal(22);
    expect(handshakeTypeName(22)).to.equal('certificate_status');
    const r = new HandshakeReassembler();
    r.push(frameHandshake(22, encodeCertificateStatus(Uint8Array.of(0x30, 0))));
    expect(r.next()?.type).to.equal(22);
  });

  it('encodes status_type ocsp(1) and a uint24-length response, and reads it back', () => {
    const response = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const body = encodeCertificateStatus(response);
    expect([...body.subarray(0, 4)]).to.deep.equal([1, 0, 0x01, 0x2c]);
    expect(parseCertificateStatus(body)).to.deep.equal(response);
  });

  it('refuses another status_type, an empty or truncated response and trailing bytes (decode_error)', () => {
    decodeError(() => parseCertificateStatus(Uint8Array.of(2, 0, 0, 1, 0x30)), /status_type 2, not ocsp\(1\)/);
    decodeError(() => parseCertificateStatus(Uint8Array.of(1, 0, 0, 0)), /OCSPResponse length 0 outside 1\.\.16777215/);
    decodeError(() => parseCertificateStatus(Uint8Array.of(1, 0, 0, 2, 0x30)), /truncated OCSPResponse/);
    decodeError(() => parseCertificateStatus(Uint8Array.of(1, 0, 0, 1, 0x30, 0)), /1 trailing byte/);
    decodeError(() => parseCertificateStatus(new Uint8Array(0)), /truncated status_type/);
  });

  it("the client's status_request: ocsp, no responder IDs, no request extensions (what node and OpenSSL send)", () => {
    expect([...OCSP_STATUS_REQUEST]).to.deep.equal([1, 0, 0, 0, 0]);
    expect(parseStatusRequest(OCSP_STATUS_REQUEST)).to.equal(true);
  });

  it('a server reads responder IDs and extensions, ignores other status types, refuses malformed OCSP requests', () => {
    expect(parseStatusRequest(Uint8Array.of(1, 0, 6, 0, 1, 0xa1, 0, 1, 0xa2, 0, 2, 0x30, 0))).to.equal(true);
    expect(parseStatusRequest(Uint8Array.of(2, 0xff))).to.equal(false);
    decodeError(() => parseStatusRequest(new Uint8Array(0)), /truncated status_type/);
    decodeError(() => parseStatusRequest(Uint8Array.of(1, 0, 2, 0, 0, 0, 0)), /ResponderID length 0/);
    decodeError(() => parseStatusRequest(Uint8Array.of(1, 0, 0)), /truncated request_extensions/);
    decodeError(() => parseStatusRequest(Uint8Array.of(1, 0, 0, 0, 0, 9)), /1 trailing byte/);
  });
});
