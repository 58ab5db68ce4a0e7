import { expect } from 'chai';
import {
  DERError,
  DERReader,
  Tag,
  decodeBitString,
  decodeBoolean,
  decodeInteger,
  decodeOID,
  decodeString,
  decodeTime,
  der,
  parseDER,
  readTLV,
} from '../../lib/pki/der.js';
import { TLSError } from '../../lib/alert.js';

const b = (...x: number[]): Uint8Array => Uint8Array.from(x);
const node = (tag: number, ...value: number[]) => parseDER(Uint8Array.of(tag, value.length, ...value));
const ascii = (tag: number, s: string) => parseDER(Uint8Array.of(tag, s.length, ...Buffer.from(s, 'latin1')));

describe('pki/der (X.690 DER)', () => {
  describe('tag and length', () => {
    it('reads short- and long-form definite lengths', () => {
      expect(parseDER(b(0x04, 0x02, 0xaa, 0xbb)).value).to.deep.equal(b(0xaa, 0xbb));
      const long = new Uint8Array(3 + 200);
      long.set([0x04, 0x81, 200]);
      expect(parseDER(long).value.length).to.equal(200);
      const longer = new Uint8Array(4 + 300);
      longer.set([0x04, 0x82, 0x01, 0x2c]);
      expect(parseDER(longer).value.length).to.equal(300);
    });

    it('rejects a long-form length that would fit the short form (non-minimal)', () => {
      expect(() => parseDER(b(0x04, 0x81, 0x05, 1, 2, 3, 4, 5))).to.throw(DERError, /non-minimal length/);
    });

    it('rejects a long-form length with a leading zero octet (non-minimal)', () => {
      const buf = new Uint8Array(4 + 200);
      buf.set([0x04, 0x82, 0x00, 200]);
      expect(() => parseDER(buf)).to.throw(DERError, /non-minimal length/);
    });

    it('rejects the indefinite length form', () => {
      expect(() => parseDER(b(0x30, 0x80, 0x05, 0x00, 0x00, 0x00))).to.throw(DERError, /indefinite length/);
    });

    it('rejects truncated input: missing length, short length field, short value', () => {
      expect(() => parseDER(b(0x30))).to.throw(DERError, /truncated/);
      expect(() => parseDER(b(0x30, 0x82, 0x01))).to.throw(DERError, /truncated length/);
      expect(() => parseDER(b(0x30, 0x05, 0x05, 0x00))).to.throw(DERError, /truncated/);
      expect(() => parseDER(new Uint8Array(0))).to.throw(DERError, /truncated/);
    });

    it('rejects absurd length fields and the reserved 0xff length octet', () => {
      expect(() => parseDER(b(0x04, 0x85, 1, 0, 0, 0, 0))).to.throw(DERError, /too large/);
      expect(() => parseDER(b(0x04, 0xff))).to.throw(DERError, /reserved/);
    });

    it('rejects trailing bytes after the top-level element', () => {
      expect(() => parseDER(b(0x05, 0x00, 0x00))).to.throw(DERError, /trailing/);
    });

    it('is a TLSError with decode_error', () => {
      try {
        parseDER(b(0x30, 0x80));
        expect.fail('no error');
      } catch (err) {
        expect(err).to.be.instanceOf(TLSError);
        expect((err as TLSError).alert).to.equal('decode_error');
      }
    });

    it('reads high-tag-number identifiers and rejects non-minimal ones', () => {
      const { node: n } = readTLV(b(0x9f, 0x21, 0x01, 0x07), 0);
      expect(n.tagNumber).to.equal(33);
      expect(() => readTLV(b(0x9f, 0x80, 0x21, 0x00), 0)).to.throw(DERError, /non-minimal high tag/);
      expect(() => readTLV(b(0x9f, 0x05, 0x00), 0)).to.throw(DERError, /high-tag-number form used/);
    });
  });

  describe('DERReader', () => {
    it('walks a SEQUENCE, with optional context tags, and insists on consuming everything', () => {
      const enc = der.sequence(der.explicit(0, der.integer(2)), der.integer(7), der.oid('1.2.3'));
      const r = DERReader.of(parseDER(enc), 'test');
      const v = r.optional(0xa0, 'version');
      expect(v).to.not.equal(undefined);
      expect(r.optional(0xa1, 'nothing')).to.equal(undefined);
      expect(r.integer('n')).to.equal(7n);
      expect(() => r.end()).to.throw(DERError, /trailing OID/);
      expect(r.oid('oid')).to.equal('1.2.3');
      r.end();
    });

    it('names the expected and the actual tag on mismatch', () => {
      const r = new DERReader(der.integer(1), 'X');
      expect(() => r.octetString('field')).to.throw(DERError, /expected field \(OCTET_STRING\), got INTEGER/);
    });
  });

  describe('INTEGER', () => {
    it('decodes positive, zero, negative and big values', () => {
      expect(decodeInteger(node(0x02, 0x00))).to.equal(0n);
      expect(decodeInteger(node(0x02, 0x7f))).to.equal(127n);
      expect(decodeInteger(node(0x02, 0x00, 0x80))).to.equal(128n);
      expect(decodeInteger(node(0x02, 0x80))).to.equal(-128n);
      expect(decodeInteger(node(0x02, 0xff, 0x7f))).to.equal(-129n);
      expect(decodeInteger(parseDER(der.integer(2n ** 200n + 5n)))).to.equal(2n ** 200n + 5n);
    });

    it('rejects empty and non-minimal encodings', () => {
      expect(() => decodeInteger(node(0x02))).to.throw(DERError, /empty/);
      expect(() => decodeInteger(node(0x02, 0x00, 0x01))).to.throw(DERError, /non-minimal/);
      expect(() => decodeInteger(node(0x02, 0xff, 0x80))).to.throw(DERError, /non-minimal/);
    });

    it('round-trips through the writer', () => {
      for (const n of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, 65535n, 2n ** 64n]) {
        expect(decodeInteger(parseDER(der.integer(n)))).to.equal(n);
      }
      expect([...der.integer(128)]).to.deep.equal([0x02, 0x02, 0x00, 0x80]);
      expect([...der.unsignedInteger(b(0x00, 0x00, 0x90))]).to.deep.equal([0x02, 0x02, 0x00, 0x90]);
    });
  });

  describe('BOOLEAN, NULL, BIT STRING', () => {
    it('accepts only 0x00 and 0xff as BOOLEAN', () => {
      expect(decodeBoolean(node(0x01, 0xff))).to.equal(true);
      expect(decodeBoolean(node(0x01, 0x00))).to.equal(false);
      expect(() => decodeBoolean(node(0x01, 0x01))).to.throw(DERError, /0x00 or 0xff/);
      expect(() => decodeBoolean(node(0x01, 0xff, 0xff))).to.throw(DERError, /one octet/);
    });

    it('checks the unused-bits octet of a BIT STRING', () => {
      expect(decodeBitString(node(0x03, 0x05, 0xa0))).to.deep.equal({ bytes: b(0xa0), unusedBits: 5 });
      expect(() => decodeBitString(node(0x03))).to.throw(DERError, /missing unused-bits/);
      expect(() => decodeBitString(node(0x03, 0x08, 0x00))).to.throw(DERError, /> 7/);
      expect(() => decodeBitString(node(0x03, 0x01))).to.throw(DERError, /empty BIT STRING with 1 unused/);
      expect(() => decodeBitString(node(0x03, 0x05, 0xa1))).to.throw(DERError, /unused bits are not zero/);
    });

    it('rejects a constructed OCTET STRING (forbidden in DER) where a primitive one is expected', () => {
      const r = new DERReader(b(0x24, 0x03, 0x04, 0x01, 0x00), 'x');
      expect(() => r.octetString('s')).to.throw(DERError, /expected s/);
    });
  });

  describe('OBJECT IDENTIFIER', () => {
    it('decodes and encodes dotted OIDs, including large arcs and the 2.x first arc', () => {
      for (const oid of ['1.2.840.113549.1.1.11', '2.5.29.17', '1.3.6.1.4.1.311.60.2.1.3', '2.999.1', '1.2.18446744073709551617']) {
        expect(decodeOID(parseDER(der.oid(oid)))).to.equal(oid);
      }
      expect([...der.oid('1.2.840.10045.2.1')]).to.deep.equal([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
    });

    it('rejects empty, truncated and non-minimal sub-identifiers', () => {
      expect(() => decodeOID(node(0x06))).to.throw(DERError, /empty/);
      expect(() => decodeOID(node(0x06, 0x2a, 0x86))).to.throw(DERError, /truncated/);
      expect(() => decodeOID(node(0x06, 0x2a, 0x80, 0x01))).to.throw(DERError, /non-minimal/);
    });
  });

  describe('Time (RFC 5280 §4.1.2.5)', () => {
    it('maps UTCTime YY < 50 to 20YY and YY >= 50 to 19YY', () => {
      expect(decodeTime(ascii(Tag.UTCTime, '491231235959Z')).toISOString()).to.equal('2049-12-31T23:59:59.000Z');
      expect(decodeTime(ascii(Tag.UTCTime, '500101000000Z')).toISOString()).to.equal('1950-01-01T00:00:00.000Z');
    });

    it('reads GeneralizedTime with four-digit years', () => {
      expect(decodeTime(ascii(Tag.GeneralizedTime, '20500101000000Z')).toISOString()).to.equal('2050-01-01T00:00:00.000Z');
      expect(decodeTime(ascii(Tag.GeneralizedTime, '99991231235959Z')).getUTCFullYear()).to.equal(9999);
    });

    it('rejects missing seconds, fractions, offsets and impossible dates', () => {
      expect(() => decodeTime(ascii(Tag.UTCTime, '2501010000Z'))).to.throw(DERError, /YYMMDDHHMMSSZ/);
      expect(() => decodeTime(ascii(Tag.UTCTime, '250101000000+0100'))).to.throw(DERError);
      expect(() => decodeTime(ascii(Tag.GeneralizedTime, '20250101000000.5Z'))).to.throw(DERError);
      expect(() => decodeTime(ascii(Tag.GeneralizedTime, '20250101000000'))).to.throw(DERError);
      expect(() => decodeTime(ascii(Tag.UTCTime, '250230000000Z'))).to.throw(DERError, /invalid date/);
      expect(() => decodeTime(ascii(Tag.UTCTime, '251301000000Z'))).to.throw(DERError, /invalid date/);
      expect(() => decodeTime(ascii(Tag.UTCTime, '250101240000Z'))).to.throw(DERError, /invalid date/);
      expect(() => decodeTime(ascii(Tag.UTCTime, '25010100000aZ'))).to.throw(DERError);
      expect(() => decodeTime(node(Tag.INTEGER, 1))).to.throw(DERError, /expected UTCTime or GeneralizedTime/);
    });

    it('writes UTCTime through 2049 and GeneralizedTime from 2050', () => {
      expect(der.time(new Date('2049-06-01T00:00:00Z'))[0]).to.equal(Tag.UTCTime);
      expect(der.time(new Date('2050-06-01T00:00:00Z'))[0]).to.equal(Tag.GeneralizedTime);
      for (const iso of ['2049-06-01T12:34:56.000Z', '2050-06-01T00:00:00.000Z', '1999-12-31T23:59:59.000Z']) {
        expect(decodeTime(parseDER(der.time(new Date(iso)))).toISOString()).to.equal(iso);
      }
    });
  });

  describe('character strings', () => {
    it('decodes UTF8String, PrintableString, IA5String, TeletexString, BMPString and UniversalString', () => {
      expect(decodeString(parseDER(der.utf8String('Grüße ✓')))).to.equal('Grüße ✓');
      expect(decodeString(ascii(Tag.PrintableString, 'Example Inc.'))).to.equal('Example Inc.');
      expect(decodeString(ascii(Tag.IA5String, 'a@b.example'))).to.equal('a@b.example');
      expect(decodeString(node(Tag.TeletexString, 0x47, 0xfc))).to.equal('Gü');
      expect(decodeString(node(Tag.BMPString, 0x00, 0x41, 0x04, 0x16))).to.equal('AЖ');
      expect(decodeString(node(Tag.UniversalString, 0, 0, 0, 0x41, 0, 1, 0xf6, 0x00))).to.equal('A😀');
    });

    it('rejects invalid UTF-8, 8-bit PrintableString and misaligned BMP/Universal strings', () => {
      expect(() => decodeString(node(Tag.UTF8String, 0xc3))).to.throw(DERError, /invalid UTF-8/);
      expect(() => decodeString(node(Tag.PrintableString, 0x41, 0xe9))).to.throw(DERError, /non-ASCII/);
      expect(() => decodeString(node(Tag.BMPString, 0x00))).to.throw(DERError, /odd length/);
      expect(() => decodeString(node(Tag.UniversalString, 0, 0, 0x41))).to.throw(DERError, /multiple of 4/);
      expect(() => decodeString(node(Tag.UniversalString, 0, 0x11, 0, 0))).to.throw(DERError, /invalid code point/);
    });
  });

  describe('writer', () => {
    it('sorts SET OF encodings (X.690 §11.6)', () => {
      const s = der.setOf(der.integer(3), der.integer(1), der.integer(2));
      expect([...s]).to.deep.equal([0x31, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03]);
    });

    it('uses minimal long-form lengths', () => {
      expect([...der.octetString(new Uint8Array(127)).subarray(0, 2)]).to.deep.equal([0x04, 0x7f]);
      expect([...der.octetString(new Uint8Array(128)).subarray(0, 3)]).to.deep.equal([0x04, 0x81, 0x80]);
      expect([...der.octetString(new Uint8Array(256)).subarray(0, 4)]).to.deep.equal([0x04, 0x82, 0x01, 0x00]);
      expect(() => parseDER(der.octetString(new Uint8Array(70000)))).to.not.throw();
    });

    it('refuses characters a PrintableString cannot hold', () => {
      expect(() => der.printableString('a@b')).to.throw(TypeError);
      expect(() => der.ia5String('é')).to.throw(TypeError);
    });
  });
});
