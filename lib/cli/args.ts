// Small helpers shared by the CLI commands.
import { readFileSync } from 'node:fs';

export interface IO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const processIO: IO = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export function readFileOption(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(e as Error).message}`);
  }
}

/** "a,b,c" or "a:b:c" → ['a','b','c']. */
export function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(/[,:]/).map((s) => s.trim()).filter(Boolean);
}

export function parsePort(value: string | undefined, what = 'port'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`invalid ${what} "${value}"`);
  return n;
}

/** "host:port", "[v6]:port" or ":port". */
export function parseHostPort(value: string | undefined): { host: string; port: number } {
  if (!value) throw new UsageError('missing HOST:PORT');
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`expected HOST:PORT, got "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: parsePort(m[3])! };
}

/** One line describing a TLS error for humans: the alert name first. */
export function describeError(err: unknown): string {
  const e = err as { alert?: string; origin?: string; message?: string; code?: string };
  if (e && e.alert) {
    // TLSError messages already start with the alert ("bad_record_mac: …", "peer sent alert …: …").
    const detail = (e.message ?? '').replace(new RegExp(`^(peer sent alert )?${e.alert}: `), '');
    return `${e.origin === 'remote' ? 'received' : 'sent'} alert ${e.alert}: ${detail}`;
  }
  return `${e?.code ? e.code + ': ' : ''}${e?.message ?? String(err)}`;
}
