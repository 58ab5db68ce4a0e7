import { expect } from 'chai';
import { Reader } from '../../lib/wire/reader.js';
import { Writer } from '../../lib/wire/writer.js';
import { TLSError } from '../../lib/alert.js';

describe('wire Reader/Writer (RFC 5246 §4)', () => {
  it('round-trips integers and vectors', () => {
    const w = new Writer().u8(1).u16(0x0203).u24(0x040506).u32(0xfffffffe).vec8(new Uint8Array([7])).vec16(new Uint8Array([8, 9]));
    const r = new Reader(w.finish());
    expect([r.u8(), r.u16(), r.u24(), r.u32()]).to.deep.equal([1, 0x0203, 0x040506, 0xfffffffe]);
    expect([...r.vec8()]).to.deep.equal([7]);
    expect([...r.vec16()]).to.deep.equal([8, 9]);
    r.end();
  });

  it('rejects a truncated field with decode_error', () => {
    const r = new Reader(new Uint8Array([0x00]), 'test');
    expect(() => r.u16('len')).to.throw(TLSError).with.property('alert', 'decode_error');
  });

  it('rejects a vector whose length is outside its bounds', () => {
    const r = new Reader(new Uint8Array([0x00, 0x00]));
    expect(() => r.vector(2, 1, 10, 'v')).to.throw(TLSError, /outside 1..10/);
  });

  it('rejects a vector whose length runs past the buffer', () => {
    const r = new Reader(new Uint8Array([0x00, 0x05, 1, 2]));
    expect(() => r.vec16('v')).to.throw(TLSError, /truncated/);
  });

  it('rejects trailing bytes', () => {
    const r = new Reader(new Uint8Array([1, 2]));
    r.u8();
    expect(() => r.end()).to.throw(TLSError, /trailing/);
  });

  it('rejects an odd-length uint16 list', () => {
    const r = new Reader(new Uint8Array([0x00, 0x03, 0, 1, 2]));
    expect(() => r.u16List(2, 'list')).to.throw(TLSError, /odd length/);
  });

  it('refuses to write a vector larger than its length prefix', () => {
    expect(() => new Writer().vec8(new Uint8Array(256))).to.throw(RangeError);
  });
});
