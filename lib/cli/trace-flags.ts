// --trace (one line per handshake message, alert and record on stderr) and --secrets (also the NSS
// key-log line, i.e. the master secret: only when the user asks for it).
import type { EventEmitter } from 'node:events';
import { traceWriter } from '../debug/trace.js';
import type { TraceEvent } from '../handshake/engine.js';

export const TRACE_FLAGS = {
  trace: { type: 'boolean', default: false },
  secrets: { type: 'boolean', default: false },
} as const;

export const TRACE_USAGE = '[--trace [--secrets]]';

export function traceOption(v: { trace?: boolean; secrets?: boolean }, out: { write(s: string): unknown }): { trace?: (e: TraceEvent) => void } {
  return v.trace || v.secrets ? { trace: traceWriter((l) => out.write(l), 'trace ') } : {};
}

/** With --secrets, write key-log lines into the trace (socket: 'keylog'(line); server: 'keylog'(line, socket)). */
export function traceSecrets(v: { secrets?: boolean }, emitter: EventEmitter, out: { write(s: string): unknown }): void {
  if (v.secrets) emitter.on('keylog', (line: Buffer) => out.write(`trace secret ${line.toString('latin1')}`));
}
