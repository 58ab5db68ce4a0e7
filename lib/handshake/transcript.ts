// The handshake transcript (RFC 5246 §7.4.9 handshake_messages): kept as raw messages because TLS 1.2
// CertificateVerify signs the messages themselves with the signature's own hash, which may differ from
// the PRF hash; the PRF-hash digest is maintained incrementally once the suite is known.
import { createHash, type Hash } from '../crypto/hash.js';
import type { PrfHash } from '../crypto/prf.js';
import { concat } from '../wire/bytes.js';

export class Transcript {
  private messages: Uint8Array[] = [];
  private running: Hash | undefined;

  add(raw: Uint8Array): void {
    this.messages.push(raw);
    this.running?.update(raw);
  }

  /** Fix the PRF hash once the cipher suite is chosen. */
  setHash(name: PrfHash): void {
    this.running = createHash(name);
    for (const m of this.messages) this.running.update(m);
  }

  /** Hash of everything so far with the PRF hash (Finished, extended master secret). */
  hash(): Uint8Array {
    if (!this.running) throw new Error('transcript hash used before the cipher suite was chosen');
    return this.running.digest();
  }

  /** All messages so far (for CertificateVerify). */
  bytes(): Uint8Array {
    return concat(...this.messages);
  }

  /** Once the handshake is over nothing needs the raw messages any more. */
  release(): void {
    this.messages = [];
  }
}
