// The openssl CLI as a TLS peer: `openssl s_server` (long-running, many connections) and
// `openssl s_client` (one connection per run), with their output parsed into facts tests can assert on.
// Both run with -trace, so openssl's own view of each record (the suite in ServerHello, the group in
// ServerKeyExchange, every alert received and sent, decrypted) is available per connection.
import { OutputWaiter } from './output-waiter.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CA_FILE, INTERMEDIATE_PATH, SUITES, type CertFixture } from './fixtures.js';
import { LOCALHOST } from './ports.js';
import type { Cleanup } from './cleanup.js';

// ---------- availability ----------

interface Tools {
  version: string | undefined;
  stdbuf: boolean;
  problem: string | undefined;
}
let tools: Tools | undefined;

function detectTools(): Tools {
  let version: string | undefined;
  let problem: string | undefined;
  try {
    version = execFileSync('openssl', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const m = /^OpenSSL (\d+)\.(\d+)\.(\d+)/.exec(version);
    if (!m) problem = `unrecognised "openssl version" output: ${version} (LibreSSL/BoringSSL are not supported by these tests)`;
    else if (Number(m[1]) < 3) problem = `${version} is too old: the interop tests need OpenSSL 3 (Ed25519 in TLS 1.2, -trace output format)`;
  } catch (e) {
    problem = `the openssl binary is not on PATH (${(e as Error).message.split('\n')[0]})`;
  }
  let stdbuf = false;
  try {
    execFileSync('stdbuf', ['--version'], { stdio: 'ignore' });
    stdbuf = true;
  } catch {
    // s_server writes its -trace to stdout through stdio; without line buffering the trace of a
    // connection may sit in a 4 KiB buffer until the process exits.
    problem ??= 'stdbuf (GNU coreutils) is not on PATH; it is needed to line-buffer openssl s_server output';
  }
  return { version, stdbuf, problem };
}

export function opensslVersion(): string | undefined {
  return (tools ??= detectTools()).version;
}

/** CI is set (to anything but an explicit "false"/"0"). */
export function isCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && !/^(false|0)$/i.test(v);
}

/**
 * Call from a `before` hook: without a usable openssl CLI the suite is skipped with a warning locally,
 * and FAILS when process.env.CI is set (CI must never pass by silently not running the interop tests).
 */
export function requireOpenssl(ctx: Mocha.Context): void {
  const t = (tools ??= detectTools());
  if (!t.problem) return;
  if (isCI()) throw new Error(`openssl interop tests cannot run: ${t.problem}. CI is set, so this is a failure, not a skip.`);
  console.warn(`\n    WARNING: skipping openssl interop tests: ${t.problem} (with CI set this fails)\n`);
  ctx.skip();
}

/** Environment for openssl children: no SSLKEYLOGFILE inherited (OpenSSL >= 3.5 honours it). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSLKEYLOGFILE;
  return env;
}

// ---------- -trace output ----------

export interface TraceRecord {
  /** 'in': received by this openssl process; 'out': sent by it. */
  dir: 'in' | 'out';
  contentType: string;
  alert?: { level: string; description: string };
}

export interface OpensslTraceFacts {
  records: TraceRecord[];
  /** cipher_suite from the ServerHello, e.g. 0xcca8. */
  cipherSuite: number | undefined;
  /** named_curve from the ServerKeyExchange, e.g. 29 for x25519. */
  namedCurve: number | undefined;
  /** ClientHello random, lower-case hex (to find the connection's line in a key log). */
  clientRandom: string | undefined;
  /** Alert descriptions as openssl prints them ("close notify", "unknown CA"...). */
  alertsIn: string[];
  alertsOut: string[];
}

export function parseOpensslTrace(trace: string): OpensslTraceFacts {
  const records: TraceRecord[] = [];
  for (const block of trace.split(/^(?=(?:Received|Sent) Record$)/m)) {
    const head = /^(Received|Sent) Record$/m.exec(block);
    if (!head) continue;
    const ct = /Content Type = (\w+) \(\d+\)/.exec(block);
    const rec: TraceRecord = { dir: head[1] === 'Received' ? 'in' : 'out', contentType: ct?.[1] ?? '?' };
    const al = /Level=(\w+)\(\d+\), description=([^(\n]+)\(\d+\)/.exec(block);
    if (rec.contentType === 'Alert' && al) rec.alert = { level: al[1]!, description: al[2]!.trim() };
    records.push(rec);
  }
  const cs = /^\s*cipher_suite \{0x([0-9A-F]{2}), 0x([0-9A-F]{2})\}/m.exec(trace);
  const nc = /^\s*named_curve: .*\((\d+)\)\s*$/m.exec(trace);
  const ch = /ClientHello, Length=\d+[\s\S]*?gmt_unix_time=0x([0-9A-F]{8})\s+random_bytes \(len=28\): ([0-9A-F]{56})/.exec(trace);
  return {
    records,
    cipherSuite: cs ? parseInt(cs[1]! + cs[2]!, 16) : undefined,
    namedCurve: nc ? Number(nc[1]) : undefined,
    clientRandom: ch ? (ch[1]! + ch[2]!).toLowerCase() : undefined,
    alertsIn: records.filter((r) => r.dir === 'in' && r.alert).map((r) => r.alert!.description),
    alertsOut: records.filter((r) => r.dir === 'out' && r.alert).map((r) => r.alert!.description),
  };
}

/** Read an NSS key log and return the master secret (lower-case hex) logged for a client random. */
export function keylogMasterSecret(keylog: string, clientRandomHex: string): string | undefined {
  const re = new RegExp(`^CLIENT_RANDOM ${clientRandomHex} ([0-9a-fA-F]{96})$`, 'mi');
  return re.exec(keylog)?.[1]?.toLowerCase();
}

// ---------- s_server ----------

export interface OpensslServerOptions {
  /** One certificate, or two (the second goes to -dcert, e.g. RSA + ECDSA on one server). */
  certs: CertFixture[];
  /** OpenSSL cipher list; default: the six ECDHE suites. */
  ciphers?: string;
  /** Default X25519:P-256:P-384. openssl picks by the client's preference order. */
  groups?: string;
  alpn?: string[];
  args?: string[];
}

export interface OpensslServerConnection {
  /** s_server's stderr for this connection (CONNECTION ESTABLISHED ... CONNECTION CLOSED|FAILURE). */
  log: string;
  /** s_server's -trace output for this connection. */
  trace: string;
  facts: OpensslTraceFacts;
  established: boolean;
  /** "CONNECTION CLOSED": s_server read a close_notify (an EOF without one is reported as an error). */
  closed: boolean;
  failure: boolean;
  /** "Ciphersuite:" line. */
  cipher: string | undefined;
  protocol: string | undefined;
  /** Master secret s_server logged for this connection (-keylogfile). */
  masterSecret: string | undefined;
  /** For assertion messages. */
  diagnostics: string;
}

export interface ServerMark {
  out: number;
  err: number;
}

/**
 * A running `openssl s_server -rev` (each line it reads is sent back reversed; a close_notify from the
 * client makes it print CONNECTION CLOSED and answer with its own close_notify). It serves connections
 * one after another until stopped, so one process serves a whole matrix.
 */
export class OpensslServer extends OutputWaiter {
  port = 0;
  private out = '';
  private err = '';

  constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly args: string[],
  ) {
    super();
    proc.stdout!.setEncoding('latin1').on('data', (d: string) => {
      this.out += d;
      this.changed();
    });
    proc.stderr!.setEncoding('latin1').on('data', (d: string) => {
      this.err += d;
      this.changed();
    });
    proc.on('exit', () => this.markExited());
  }

  get keylogPath(): string {
    return path.join(this.dir, 'keylog.txt');
  }



  /** Call before connecting; pass to connection() afterwards. */
  mark(): ServerMark {
    return { out: this.out.length, err: this.err.length };
  }

  /** The output of the (one) connection made since `mark`, once s_server has finished with it. */
  async connection(mark: ServerMark, timeoutMs = 5000): Promise<OpensslServerConnection> {
    const log = () => this.err.slice(mark.err);
    const trace = () => this.out.slice(mark.out);
    await this.waitFor(() => {
      const l = log();
      if (/^CONNECTION FAILURE$/m.test(l) || /:error:/.test(l)) return true;
      // After CONNECTION CLOSED s_server sends its close_notify; wait for the trace of that too.
      return /^CONNECTION CLOSED$/m.test(l) && parseOpensslTrace(trace()).alertsOut.length > 0;
    }, timeoutMs);
    const l = log();
    const t = trace();
    const facts = parseOpensslTrace(t);
    let keylog = '';
    try {
      keylog = readFileSync(this.keylogPath, 'latin1');
    } catch {
      /* no key logged: the handshake did not get that far */
    }
    return {
      log: l,
      trace: t,
      facts,
      established: /^CONNECTION ESTABLISHED$/m.test(l),
      closed: /^CONNECTION CLOSED$/m.test(l),
      failure: /^CONNECTION FAILURE$/m.test(l) || /:error:/.test(l),
      cipher: /^Ciphersuite: (\S+)$/m.exec(l)?.[1],
      protocol: /^Protocol version: (\S+)$/m.exec(l)?.[1],
      masterSecret: facts.clientRandom ? keylogMasterSecret(keylog, facts.clientRandom) : undefined,
      diagnostics: `openssl ${this.args.join(' ')}\n--- s_server stderr (this connection) ---\n${l}\n--- alerts in: ${facts.alertsIn.join(', ') || '-'}; out: ${facts.alertsOut.join(', ') || '-'}`,
    };
  }

  /** Everything s_server wrote (for diagnostics). */
  get output(): { stdout: string; stderr: string } {
    return { stdout: this.out, stderr: this.err };
  }

  async stop(): Promise<void> {
    await this.terminate(this.proc, 2000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal */
  static async launch(opts: OpensslServerOptions, cleanup: Cleanup | undefined): Promise<OpensslServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'qtls-s_server-'));
    const [first, second] = opts.certs;
    if (!first) throw new Error('startOpensslServer: no certificate');
    const args = [
      's_server', '-accept', `${LOCALHOST}:0`, '-tls1_2', '-rev', '-trace',
      '-cert', first.certPath, '-key', first.keyPath, '-cert_chain', INTERMEDIATE_PATH,
      ...(second ? ['-dcert', second.certPath, '-dkey', second.keyPath, '-dcert_chain', INTERMEDIATE_PATH] : []),
      '-cipher', opts.ciphers ?? SUITES.map((s) => s.openssl).join(':'),
      '-groups', opts.groups ?? 'X25519:P-256:P-384',
      '-keylogfile', path.join(dir, 'keylog.txt'),
      ...(opts.alpn ? ['-alpn', opts.alpn.join(',')] : []),
      ...(opts.args ?? []),
    ];
    const proc = spawn('stdbuf', ['-oL', 'openssl', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
    const server = new OpensslServer(proc, dir, args);
    cleanup?.defer(() => server.stop());
    const spawnError = new Promise<Error>((r) => proc.once('error', r));
    const ready = server.waitFor(() => /^ACCEPT /m.test(server.out), 10_000);
    const res = await Promise.race([ready, spawnError]);
    const m = /^ACCEPT [\d.]+:(\d+)$/m.exec(server.out);
    if (res !== true || !m) {
      await server.stop();
      throw new Error(`openssl s_server did not start listening: ${res instanceof Error ? res.message : ''}\nopenssl ${args.join(' ')}\n${server.out}\n${server.err}`);
    }
    server.port = Number(m[1]);
    return server;
  }
}

export function startOpensslServer(opts: OpensslServerOptions, cleanup?: Cleanup): Promise<OpensslServer> {
  return OpensslServer.launch(opts, cleanup);
}

// ---------- s_client ----------

export interface OpensslClientOptions {
  port: number;
  /** OpenSSL cipher list (-cipher). */
  cipher?: string;
  /** -groups list, in preference order. */
  groups?: string;
  /** SNI and the name to verify; default localhost; null: -noservername (and no host name check). */
  servername?: string | null;
  /** Verify the server against fixtures/pki/ca.pem, failing the handshake on error (default true). */
  verify?: boolean;
  alpn?: string[];
  /** Protocol version flags (default ['-tls1_2']). */
  versionArgs?: string[];
  /** Sent after the handshake; stdin then closes (-ign_eof: s_client keeps reading until the server closes). */
  input: Buffer | string;
  args?: string[];
  timeoutMs?: number;
}

export interface OpensslClientResult {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  trace: string;
  facts: OpensslTraceFacts;
  /** "New, TLSv1.2, Cipher is X" (or "Reused, ..."): protocol and suite. */
  protocol: string | undefined;
  /** "Reused, ...": the session was resumed. */
  reused: boolean;
  cipher: string | undefined;
  /** "Server Temp Key: X25519, 253 bits" → "X25519, 253 bits". */
  tempKey: string | undefined;
  /** SSL-Session Master-Key, lower-case hex. */
  masterKey: string | undefined;
  verifyReturn: string | undefined;
  alpn: string | undefined;
  /** Application data printed after the session summary. */
  data: string;
  /** s_client printed "closed": SSL_read reported a close_notify (SSL_ERROR_ZERO_RETURN). */
  closed: boolean;
  diagnostics: string;
}

export async function runOpensslClient(opts: OpensslClientOptions): Promise<OpensslClientResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'qtls-s_client-'));
  const traceFile = path.join(dir, 'trace.txt');
  const servername = opts.servername === undefined ? 'localhost' : opts.servername;
  const args = [
    's_client', '-connect', `${LOCALHOST}:${opts.port}`, ...(opts.versionArgs ?? ['-tls1_2']), '-ign_eof', '-nocommands',
    '-trace', '-msgfile', traceFile, ...(servername === null ? ['-noservername'] : ['-servername', servername]),
    ...(opts.verify !== false ? ['-CAfile', CA_FILE, '-verify_return_error', ...(servername === null ? [] : ['-verify_hostname', servername])] : []),
    ...(opts.cipher ? ['-cipher', opts.cipher] : []),
    ...(opts.groups ? ['-groups', opts.groups] : []),
    ...(opts.alpn ? ['-alpn', opts.alpn.join(',')] : []),
    ...(opts.args ?? []),
  ];
  try {
    const proc = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('latin1').on('data', (d: string) => (stderr += d));
    proc.stdin.on('error', () => {}); // EPIPE if s_client exits before reading its input
    proc.stdin.end(opts.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, opts.timeoutMs ?? 10_000);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', (code) => resolve(code));
    });
    clearTimeout(timer);
    let trace = '';
    try {
      trace = readFileSync(traceFile, 'latin1');
    } catch {
      /* s_client failed before writing a trace */
    }
    const facts = parseOpensslTrace(trace);
    const sess = stdout.indexOf('SSL-Session:');
    const end = sess >= 0 ? stdout.indexOf('\n---\n', sess) : -1;
    let data = end >= 0 ? stdout.slice(end + 5) : '';
    const closed = /(^|\n)closed\n$/.test(data);
    if (closed) data = data.replace(/closed\n$/, '');
    const newLine = /^(New|Reused), (\S+), Cipher is (\S+)$/m.exec(stdout);
    return {
      exitCode, timedOut, stdout, stderr, trace, facts, data, closed,
      protocol: newLine?.[2],
      cipher: newLine?.[3],
      reused: newLine?.[1] === 'Reused',
      tempKey: /^Server Temp Key: (.+)$/m.exec(stdout)?.[1],
      masterKey: /^\s*Master-Key: ([0-9A-F]+)$/m.exec(stdout)?.[1]?.toLowerCase(),
      verifyReturn: /^\s*Verify return code: (.+)$/m.exec(stdout)?.[1],
      alpn: /^ALPN protocol: (.+)$/m.exec(stdout)?.[1],
      diagnostics: `openssl ${args.join(' ')}\nexit ${exitCode}${timedOut ? ' (timed out)' : ''}\n--- stderr ---\n${stderr}\n--- alerts in: ${facts.alertsIn.join(', ') || '-'}; out: ${facts.alertsOut.join(', ') || '-'}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
