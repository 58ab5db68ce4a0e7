// RFC 5077 session tickets, sealed with AES-256-GCM. The recommended construction of RFC 5077 §4
// (key_name, IV, encrypted state, MAC) with an AEAD in place of AES-CBC + HMAC:
//   ticket = key_name[16] || nonce[12] || AES-256-GCM(key, nonce, state, aad = key_name)
// Keys are node's 48-byte ticketKeys format: 16 bytes key name + 32 bytes of secret (node splits it
// into HMAC and AES keys; we use all 32 as the AEAD key). Several keys may be given (48·N bytes): the
// first seals new tickets, all are accepted, so keys can rotate without dropping sessions.
import { createAead } from '../crypto/aead.js';
import { randomBytes } from '../crypto/random.js';
import { equalBytes } from '../wire/bytes.js';
import { decodeSessionState, encodeSessionState, isExpired, type SessionState } from './session-state.js';

export const TICKET_KEY_LENGTH = 48;

interface TicketKey {
  name: Uint8Array;
  secret: Uint8Array;
}

export class TicketKeys {
  private keys: TicketKey[];

  constructor(material?: Uint8Array) {
    this.keys = TicketKeys.split(material ?? randomBytes(TICKET_KEY_LENGTH));
  }

  static split(material: Uint8Array): TicketKey[] {
    if (material.length === 0 || material.length % TICKET_KEY_LENGTH !== 0)
      throw new TypeError(`ticketKeys must be a multiple of ${TICKET_KEY_LENGTH} bytes, got ${material.length}`);
    const out: TicketKey[] = [];
    for (let o = 0; o < material.length; o += TICKET_KEY_LENGTH)
      out.push({ name: material.slice(o, o + 16), secret: material.slice(o + 16, o + TICKET_KEY_LENGTH) });
    return out;
  }

  /** Replace the keys (node: server.setTicketKeys). */
  set(material: Uint8Array): void {
    this.keys = TicketKeys.split(material);
  }

  /** The current keys (node: server.getTicketKeys). */
  get(): Buffer {
    return Buffer.concat(this.keys.map((k) => Buffer.concat([k.name, k.secret])));
  }

  seal(state: SessionState): Uint8Array {
    const k = this.keys[0]!;
    const nonce = randomBytes(12);
    const sealed = createAead('AES-256-GCM', k.secret, { lowMemory: true }).seal(nonce, encodeSessionState({ ...state, ticket: new Uint8Array(0), sessionId: new Uint8Array(0) }), k.name);
    const out = new Uint8Array(16 + 12 + sealed.length);
    out.set(k.name, 0);
    out.set(nonce, 16);
    out.set(sealed, 28);
    return out;
  }

  /**
   * The session in a ticket, or undefined when the ticket is not ours, was tampered with, or expired —
   * all of which mean "do a full handshake" (RFC 5077 §3.4), never a failure.
   */
  open(ticket: Uint8Array): { state: SessionState; renew: boolean } | undefined {
    if (ticket.length < 16 + 12 + 16) return undefined;
    const name = ticket.subarray(0, 16);
    const idx = this.keys.findIndex((k) => equalBytes(k.name, name));
    if (idx < 0) return undefined;
    const pt = createAead('AES-256-GCM', this.keys[idx]!.secret, { lowMemory: true }).open(ticket.subarray(16, 28), ticket.subarray(28), name);
    if (!pt) return undefined;
    let state: SessionState;
    try {
      state = decodeSessionState(pt);
    } catch {
      return undefined;
    }
    if (isExpired(state)) return undefined;
    return { state, renew: idx !== 0 };
  }
}
