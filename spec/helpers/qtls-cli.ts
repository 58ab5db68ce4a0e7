// The qtls CLI as a child process (`node --import tsx lib/cli/main.ts server|client ...`), the way a
// user runs it: a long-running `qtls server` whose per-connection summary lines on stderr tests wait
// for, and one-shot `qtls client` runs.
import { OutputWaiter } from './output-waiter.js';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(REPO_ROOT, 'lib/cli/main.ts');

function cliArgs(args: string[]): string[] {
  return ['--import', 'tsx', MAIN, ...args];
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSLKEYLOGFILE;
  delete env.NODE_OPTIONS;
  return env;
}

export class CliServer extends OutputWaiter {
  port = 0;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;

  constructor(
    private readonly proc: ChildProcess,
    readonly args: string[],
  ) {
    super();
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => ((this.stdout += d), this.changed()));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => ((this.stderr += d), this.changed()));
    proc.on('exit', (code) => {
      this.exitCode = code;
      this.markExited();
    });
  }


  /** Offset into stderr; pass to line() to wait for the next summary line after it. */
  mark(): number {
    return this.stderr.length;
  }

  /**
   * The next stderr line after `mark` matching `re` ("connection from ..." for a completed handshake,
   * "handshake failed ..." for a failed one). Rejects on timeout with the server's output.
   */
  async line(mark: number, re: RegExp = /^(connection from|handshake failed) .*$/m, timeoutMs = 8000): Promise<string> {
    const find = () => re.exec(this.stderr.slice(mark))?.[0];
    await this.waitFor(() => find() !== undefined, timeoutMs);
    const l = find();
    if (l === undefined) throw new Error(`qtls server: no line matching ${re} within ${timeoutMs} ms\n${this.diagnostics}`);
    return l;
  }

  get diagnostics(): string {
    return `qtls ${this.args.join(' ')}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  async stop(): Promise<void> {
    await this.terminate(this.proc, 3000);
  }
}

/** `qtls server --port 0 ...`; resolves once it printed ACCEPT with its port. */
export async function startCliServer(args: string[], cleanup?: Cleanup): Promise<CliServer> {
  const full = ['server', '--port', '0', '--host', '127.0.0.1', ...args];
  const proc = spawn(process.execPath, cliArgs(full), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  const server = new CliServer(proc, full);
  cleanup?.defer(() => server.stop());
  await server.waitFor(() => /^ACCEPT /m.test(server.stdout), 15_000);
  const m = /^ACCEPT [\d.]+:(\d+)$/m.exec(server.stdout);
  if (!m) {
    await server.stop();
    throw new Error(`qtls server did not start listening\n${server.diagnostics}`);
  }
  server.port = Number(m[1]);
  return server;
}

export interface CliClientResult {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  diagnostics: string;
}

/**
 * `qtls client ...`. `input` is written once the handshake summary appears on stderr; stdin then ends
 * (after `expect` appeared on stdout, when given: the client sends close_notify when stdin ends).
 */
export async function runCliClient(args: string[], o: { input?: string; expect?: string; timeoutMs?: number } = {}): Promise<CliClientResult> {
  const full = ['client', ...args];
  const proc = spawn(process.execPath, cliArgs(full), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  let sent = false;
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      proc.stdin.end();
    }
  };
  const progress = () => {
    if (!sent && /^connected to /m.test(stderr)) {
      sent = true;
      if (o.input !== undefined) proc.stdin.write(o.input);
      if (o.expect === undefined) end();
    }
    if (sent && o.expect !== undefined && stdout.includes(o.expect)) end();
  };
  proc.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), progress()));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), progress()));
  proc.stdin.on('error', () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, o.timeoutMs ?? 15_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  return {
    exitCode, timedOut, stdout, stderr,
    diagnostics: `qtls ${full.join(' ')}\nexit ${exitCode}${timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
  };
}
