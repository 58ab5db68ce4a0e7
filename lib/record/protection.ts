// Record protection (RFC 5246 §6.2.3.3) for the two AEAD constructions TLS 1.2 uses:
//  - AES-GCM, RFC 5288 §3: nonce = 4-byte salt (from the key block) || 8-byte explicit nonce that is
//    sent in the record. We use the sequence number as the explicit part, which is unique per key.
//  - ChaCha20-Poly1305, RFC 7905 §2: nonce = 12-byte IV XOR left-padded 64-bit sequence number, with no
//    explicit part on the wire.
// additional_data = seq_num || type || version || length (of the plaintext), §6.2.3.3.
import { TLSError } from '../alert.js';
import { createAead, type Aead, type AeadName, AEAD_TAG_LENGTH } from '../crypto/aead.js';
import { MAX_PLAINTEXT } from './content-type.js';

export interface RecordProtection {
  /** Bytes added to every record (explicit nonce + tag). */
  readonly overhead: number;
  seal(type: number, version: number, seq: bigint, plaintext: Uint8Array): Uint8Array;
  /** Throws TLSError(bad_record_mac) on any authentication failure. */
  open(type: number, version: number, seq: bigint, fragment: Uint8Array): Uint8Array;
}

export const NULL_PROTECTION: RecordProtection = {
  overhead: 0,
  seal: (_t, _v, _s, p) => p,
  open: (_t, _v, _s, f) => f,
};

function additionalData(seq: bigint, type: number, version: number, length: number): Uint8Array {
  const ad = new Uint8Array(13);
  new DataView(ad.buffer).setBigUint64(0, seq);
  ad[8] = type;
  ad[9] = version >> 8;
  ad[10] = version & 0xff;
  ad[11] = length >> 8;
  ad[12] = length & 0xff;
  return ad;
}

/** Length of the fixed IV taken from the key block (RFC 5288 §3: 4; RFC 7905 §2: 12). */
export function fixedIvLength(aead: AeadName): number {
  return aead === 'CHACHA20-POLY1305' ? 12 : 4;
}

export function createProtection(aeadName: AeadName, key: Uint8Array, fixedIv: Uint8Array): RecordProtection {
  // lowMemory: ~30 KiB instead of ~260 KiB of GHASH tables per AES-GCM key (two keys per connection),
  // for about 7% of bulk speed — a server must not hand a connection flood half a megabyte each.
  const aead = createAead(aeadName, key, { lowMemory: true });
  return aeadName === 'CHACHA20-POLY1305' ? new XorNonceProtection(aead, fixedIv) : new ExplicitNonceProtection(aead, fixedIv);
}

const badMac = () => new TLSError('bad_record_mac', 'record authentication failed (bad_record_mac)');

class ExplicitNonceProtection implements RecordProtection {
  readonly overhead = 8 + AEAD_TAG_LENGTH;
  constructor(private readonly aead: Aead, private readonly salt: Uint8Array) {}

  seal(type: number, version: number, seq: bigint, plaintext: Uint8Array): Uint8Array {
    const nonce = new Uint8Array(12);
    nonce.set(this.salt, 0);
    new DataView(nonce.buffer).setBigUint64(4, seq);
    const sealed = this.aead.seal(nonce, plaintext, additionalData(seq, type, version, plaintext.length));
    const out = new Uint8Array(8 + sealed.length);
    out.set(nonce.subarray(4), 0);
    out.set(sealed, 8);
    return out;
  }

  open(type: number, version: number, seq: bigint, fragment: Uint8Array): Uint8Array {
    if (fragment.length < this.overhead) throw badMac();
    const nonce = new Uint8Array(12);
    nonce.set(this.salt, 0);
    nonce.set(fragment.subarray(0, 8), 4);
    const plainLen = fragment.length - this.overhead;
    if (plainLen > MAX_PLAINTEXT) throw new TLSError('record_overflow', `decrypted record of ${plainLen} bytes exceeds 2^14`);
    const pt = this.aead.open(nonce, fragment.subarray(8), additionalData(seq, type, version, plainLen));
    if (!pt) throw badMac();
    return pt;
  }
}

class XorNonceProtection implements RecordProtection {
  readonly overhead = AEAD_TAG_LENGTH;
  constructor(private readonly aead: Aead, private readonly iv: Uint8Array) {}

  private nonce(seq: bigint): Uint8Array {
    const n = this.iv.slice();
    const s = new Uint8Array(8);
    new DataView(s.buffer).setBigUint64(0, seq);
    for (let i = 0; i < 8; i++) n[4 + i]! ^= s[i]!;
    return n;
  }

  seal(type: number, version: number, seq: bigint, plaintext: Uint8Array): Uint8Array {
    return this.aead.seal(this.nonce(seq), plaintext, additionalData(seq, type, version, plaintext.length));
  }

  open(type: number, version: number, seq: bigint, fragment: Uint8Array): Uint8Array {
    if (fragment.length < this.overhead) throw badMac();
    const plainLen = fragment.length - this.overhead;
    if (plainLen > MAX_PLAINTEXT) throw new TLSError('record_overflow', `decrypted record of ${plainLen} bytes exceeds 2^14`);
    const pt = this.aead.open(this.nonce(seq), fragment, additionalData(seq, type, version, plainLen));
    if (!pt) throw badMac();
    return pt;
  }
}
