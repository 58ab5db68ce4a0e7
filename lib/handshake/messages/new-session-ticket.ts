// RFC 5077 §3.3 NewSessionTicket: uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>.
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export interface NewSessionTicket {
  lifetimeHint: number;
  ticket: Uint8Array;
}

export function parseNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = new Reader(body, 'NewSessionTicket');
  const lifetimeHint = r.u32('ticket_lifetime_hint');
  const ticket = r.vec16('ticket');
  r.end();
  return { lifetimeHint, ticket };
}

export function encodeNewSessionTicket(m: NewSessionTicket): Uint8Array {
  return new Writer().u32(m.lifetimeHint).vec16(m.ticket).finish();
}
