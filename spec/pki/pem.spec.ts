import { expect } from 'chai';
import { pemDecode, pemDecodeAll, pemDecodeFirst, pemEncode } from '../../lib/pki/pem.js';
import { TLSError } from '../../lib/alert.js';
import { fixture } from './helpers.js';

describe('pki/pem (RFC 7468)', () => {
  it('decodes every block of a label, in order, ignoring text around and between blocks', () => {
    const a = pemEncode('CERTIFICATE', Uint8Array.of(1, 2, 3));
    const b = pemEncode('CERTIFICATE', Uint8Array.of(4, 5));
    const k = pemEncode('PRIVATE KEY', Uint8Array.of(9));
    const text = `Subject: foo\n${a}some comment\n${k}\n\n${b}trailer`;
    expect(pemDecode(text, 'CERTIFICATE').map((d) => [...d])).to.deep.equal([[1, 2, 3], [4, 5]]);
    expect(pemDecode(text, 'PRIVATE KEY').map((d) => [...d])).to.deep.equal([[9]]);
    expect(pemDecodeAll(text).map((b) => b.label)).to.deep.equal(['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE']);
  });

  it('accepts CRLF line ends and whitespace-indented base64', () => {
    const der = new Uint8Array(100).map((_, i) => i);
    const crlf = pemEncode('CERTIFICATE', der).replace(/\n/g, '\r\n').replace(/\r\n(?!-----)/g, '\r\n   ');
    expect([...pemDecode(crlf, 'CERTIFICATE')[0]!]).to.deep.equal([...der]);
  });

  it('decodes the fixture chain files into leaf + intermediate', () => {
    expect(pemDecode(fixture('ecdsa-p256-chain.pem'), 'CERTIFICATE')).to.have.length(2);
    expect(pemDecode(fixture('ca.pem'), 'CERTIFICATE')).to.have.length(2);
  });

  it('encodes 64-character lines that Node can read back', () => {
    const der = new Uint8Array(200).fill(0xab);
    const pem = pemEncode('TEST', der);
    const lines = pem.trim().split('\n');
    expect(lines[0]).to.equal('-----BEGIN TEST-----');
    expect(lines.at(-1)).to.equal('-----END TEST-----');
    for (const l of lines.slice(1, -2)) expect(l).to.have.length(64);
    expect(Buffer.from(pemDecodeFirst(pem, 'TEST').der).equals(Buffer.from(der))).to.equal(true);
  });

  it('rejects a BEGIN without its END', () => {
    expect(() => pemDecodeAll('-----BEGIN CERTIFICATE-----\nAAAA\n')).to.throw(TLSError, /without matching/);
  });

  it('rejects characters outside the base64 alphabet', () => {
    expect(() => pemDecodeAll('-----BEGIN X-----\nAA*A\n-----END X-----\n')).to.throw(TLSError, /invalid base64/);
    expect(() => pemDecodeAll('-----BEGIN X-----\nA=AA\n-----END X-----\n')).to.throw(TLSError, /invalid base64/);
  });

  it('reports a missing label clearly', () => {
    expect(() => pemDecodeFirst('nothing here', 'CERTIFICATE')).to.throw(/no "CERTIFICATE" block/);
  });
});
