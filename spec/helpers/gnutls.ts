// GnuTLS's CLI as a TLS peer: `gnutls-serv --echo` (long-running, many connections) and `gnutls-cli`
// (one connection per run), with the facts tests assert on parsed from their output.
//
// Two limits of the tools (3.7.9, Debian): gnutls-serv has no option to choose the listening address,
// so it listens on every interface (on a port we pick and only for the test's duration); and gnutls-cli
// crashes (SIGSEGV) after an ECDHE-PSK or DHE-PSK handshake, even against gnutls-serv — test those
// families with gnutls-serv as the server.
import { OutputWaiter } from './output-waiter.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Cleanup } from './cleanup.js';
import { LOCALHOST, freePort } from './ports.js';

/** TLS 1.2 only, with the PSK families enabled (NORMAL leaves them out). */
export const GNUTLS_TLS12 = 'NORMAL:-VERS-ALL:+VERS-TLS1.2:+PSK:+ECDHE-PSK:+DHE-PSK';

/** A TLS 1.2-only priority string offering exactly one key exchange (GnuTLS names: ECDHE-RSA, DHE-RSA, PSK...). */
export function gnutlsPriority(kx: string, cipher?: string): string {
  return `NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+${kx}${cipher ? `:-CIPHER-ALL:+${cipher}` : ''}`;
}

let problem: string | null | undefined;
function detect(): string | null {
  for (const tool of ['gnutls-cli', 'gnutls-serv']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch (e) {
      return `${tool} is not on PATH (${(e as Error).message.split('\n')[0]}); install gnutls-bin`;
    }
  }
  return null;
}

/**
 * Call from a `before` hook: without gnutls-cli/gnutls-serv the suite is skipped with a warning
 * locally, and FAILS when process.env.CI is set.
 */
export function requireGnutls(ctx: Mocha.Context): void {
  if (problem === undefined) problem = detect();
  if (!problem) return;
  if (process.env.CI) throw new Error(`GnuTLS interop tests cannot run: ${problem}. CI is set, so this is a failure, not a skip.`);
  console.warn(`\n    WARNING: skipping GnuTLS interop tests: ${problem} (with CI set this fails)\n`);
  ctx.skip();
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSLKEYLOGFILE;
  return env;
}

// ---------- gnutls-serv ----------

export interface GnutlsServerOptions {
  priority?: string;
  /** PSK users: identity → key (hex). Written to a --pskpasswd file. */
  psk?: Record<string, string>;
  pskHint?: string;
  /** Certificate (leaf + chain) and key files. */
  certFile?: string;
  keyFile?: string;
  args?: string[];
}

export interface GnutlsServerConnection {
  /** gnutls-serv's output for this connection. */
  log: string;
  established: boolean;
  /** "- Description: (TLS1.2-X.509)-(ECDHE-X25519)-(CHACHA20-POLY1305)". */
  description: string | undefined;
  /** "Connected as 'client1'". */
  pskIdentity: string | undefined;
  /** "Error in handshake: ..." */
  error: string | undefined;
  resumed: boolean;
}

export class GnutlsServer extends OutputWaiter {
  port = 0;
  private out = '';

  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly args: string[],
  ) {
    super();
    const on = (d: string) => {
      this.out += d;
      this.changed();
    };
    proc.stdout!.setEncoding('latin1').on('data', on);
    proc.stderr!.setEncoding('latin1').on('data', on);
    proc.on('exit', () => this.markExited());
  }


  /** Call before connecting; pass to connection() afterwards. */
  mark(): number {
    return this.out.length;
  }

  /** The (one) connection accepted since `mark`, once its handshake succeeded or failed. */
  async connection(mark: number, timeoutMs = 5000): Promise<GnutlsServerConnection> {
    const log = () => this.out.slice(mark);
    await this.waitFor(() => /^- Description: /m.test(log()) || /^Error in handshake/m.test(log()), timeoutMs);
    const l = log();
    return {
      log: l,
      established: /^- Description: /m.test(l),
      description: /^- Description: (.+)$/m.exec(l)?.[1],
      pskIdentity: /Connected as '([^']*)'/.exec(l)?.[1],
      error: /^Error in handshake: (.+)$/m.exec(l)?.[1],
      resumed: /^\*\*\* This is a resumed session/m.test(l),
    };
  }

  get output(): string {
    return this.out;
  }

  async stop(): Promise<void> {
    await this.terminate(this.proc, 2000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal */
  static async launch(opts: GnutlsServerOptions, cleanup: Cleanup | undefined): Promise<GnutlsServer> {
    // gnutls-serv can't report a kernel-chosen port: take a free one, retry if someone grabbed it.
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = mkdtempSync(path.join(tmpdir(), 'qtls-gnutls-serv-'));
      const port = await freePort();
      const args = ['-p', String(port), '--echo', '--priority', opts.priority ?? GNUTLS_TLS12];
      if (opts.psk) {
        const file = path.join(dir, 'psk.txt');
        writeFileSync(file, Object.entries(opts.psk).map(([id, key]) => `${id}:${key}\n`).join(''));
        args.push('--pskpasswd', file);
      }
      if (opts.pskHint !== undefined) args.push('--pskhint', opts.pskHint);
      if (opts.certFile) args.push('--x509certfile', opts.certFile, '--x509keyfile', opts.keyFile!);
      args.push(...(opts.args ?? []));
      const proc = spawn('gnutls-serv', args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
      const server = new GnutlsServer(proc, dir, args);
      const spawnError = new Promise<Error>((r) => proc.once('error', r));
      const ready = server.waitFor(() => /Echo Server listening on IPv4 .* port \d+\.\.\.done/.test(server.out), 10_000);
      const res = await Promise.race([ready, spawnError]);
      if (res === true) {
        server.port = port;
        cleanup?.defer(() => server.stop());
        return server;
      }
      lastError = `${res instanceof Error ? res.message : ''}\n${server.out}`;
      await server.stop();
      if (res instanceof Error) break;
    }
    throw new Error(`gnutls-serv did not start listening: ${lastError}`);
  }
}

export function startGnutlsServer(opts: GnutlsServerOptions, cleanup?: Cleanup): Promise<GnutlsServer> {
  return GnutlsServer.launch(opts, cleanup);
}

// ---------- gnutls-cli ----------

export interface GnutlsClientOptions {
  port: number;
  priority?: string;
  /** Verify the server against this CA file (with the host name); default: no verification. */
  caFile?: string;
  /** Name to verify (and SNI); default localhost. */
  servername?: string;
  psk?: { identity: string; key: string };
  /** Client certificate and key files. */
  certFile?: string;
  keyFile?: string;
  /**
   * Sent after the handshake. stdin stays open until `expect` appears on stdout (gnutls-cli closes the
   * connection as soon as stdin ends, possibly before the echo arrives).
   */
  input?: string;
  expect?: string;
  args?: string[];
  timeoutMs?: number;
}

export interface GnutlsClientResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  handshake: boolean;
  description: string | undefined;
  pskHint: string | undefined;
  /** "*** Fatal error: ..." / "*** Received alert [40]: Handshake failed" lines. */
  errors: string[];
  /** Text after the handshake report (application data echoed back). */
  data: string;
  /** --resume: the second connection reported "This is a resumed session". */
  resumed: boolean;
  diagnostics: string;
}

export async function runGnutlsClient(opts: GnutlsClientOptions): Promise<GnutlsClientResult> {
  const servername = opts.servername ?? 'localhost';
  const args = ['-p', String(opts.port), LOCALHOST, '--priority', opts.priority ?? GNUTLS_TLS12, '--sni-hostname', servername];
  if (opts.caFile) args.push('--x509cafile', opts.caFile, '--verify-hostname', servername);
  else args.push('--insecure');
  if (opts.psk) args.push('--pskusername', opts.psk.identity, '--pskkey', opts.psk.key);
  if (opts.certFile) args.push('--x509certfile', opts.certFile, '--x509keyfile', opts.keyFile!);
  args.push(...(opts.args ?? []));
  const proc = spawn('gnutls-cli', args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
  let output = '';
  let sent = false;
  const maybeSend = () => {
    if (!sent && /^- Handshake was completed/m.test(output)) {
      sent = true;
      if (opts.input !== undefined) proc.stdin.write(opts.input);
      if (opts.expect === undefined) proc.stdin.end();
    }
    if (sent && opts.expect !== undefined && output.slice(output.indexOf('- Handshake was completed')).includes(opts.expect)) proc.stdin.end();
  };
  const onData = (d: string) => {
    output += d;
    maybeSend();
  };
  proc.stdout.setEncoding('latin1').on('data', onData);
  proc.stderr.setEncoding('latin1').on('data', onData);
  proc.stdin.on('error', () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, opts.timeoutMs ?? 10_000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(timer);
  const hs = output.indexOf('- Handshake was completed');
  const afterHs = hs >= 0 ? output.slice(output.indexOf('\n', hs) + 1) : '';
  return {
    exitCode: code,
    signal,
    timedOut,
    output,
    handshake: hs >= 0,
    description: /^- Description: (.+)$/m.exec(output)?.[1],
    pskHint: /PSK hint '([^']*)'/.exec(output)?.[1],
    errors: output.split('\n').filter((l) => /^\*\*\* (Fatal error|Received alert|Handshake has failed)|^\|<\d>\| .*alert/i.test(l)),
    data: afterHs
      .split('\n')
      .filter((l) => !/^(- |\*\*\* |\|<)/.test(l))
      .join('\n'),
    resumed: /This is a resumed session/.test(output),
    diagnostics: `gnutls-cli ${args.join(' ')}\nexit ${code}${signal ? ` (${signal})` : ''}${timedOut ? ' (timed out)' : ''}\n--- output ---\n${output}`,
  };
}
