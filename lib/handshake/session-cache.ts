// Server-side session cache (RFC 5246 §7.3): bounded LRU, entries expire after their lifetime.
import { toHex } from '../wire/bytes.js';
import { decodeSessionState, isExpired, type SessionState } from './session-state.js';

export interface SessionStore {
  lookup(id: Uint8Array): Promise<SessionState | undefined>;
  store(id: Uint8Array, state: SessionState, encoded: Uint8Array): Promise<void>;
}

export class SessionCache implements SessionStore {
  private readonly map = new Map<string, Uint8Array>();
  constructor(private readonly maxEntries = 10_000) {}

  async lookup(id: Uint8Array): Promise<SessionState | undefined> {
    const k = toHex(id);
    const enc = this.map.get(k);
    if (!enc) return undefined;
    const s = decodeSessionState(enc);
    if (isExpired(s)) {
      this.map.delete(k);
      return undefined;
    }
    // Refresh LRU position.
    this.map.delete(k);
    this.map.set(k, enc);
    return s;
  }

  async store(id: Uint8Array, _state: SessionState, encoded: Uint8Array): Promise<void> {
    const k = toHex(id);
    this.map.delete(k);
    this.map.set(k, encoded);
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}
