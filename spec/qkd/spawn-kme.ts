// Spawning `qtls kme` (lib/qkd/kme/command-main.ts) as a child process for the CLI and crash specs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'lib/qkd/kme/command-main.ts';

export interface ReadyLine {
  ready: true;
  mode: 'network' | 'site';
  dataDir: string;
  kmes: { site: 'A' | 'B'; kmeId: string; api014: string; api004: string; port: number; port004: number; db: string; saes: string[] }[];
  peer?: string;
  pki: { dir: string; ca: string; kmes: Record<string, { cert: string; key: string }>; saes: Record<string, { cert: string; key: string }> };
}

export interface KmeProcess {
  child: ChildProcess;
  ready: ReadyLine;
  /** stdout lines after the ready line */
  extra: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the KME command with --json and resolves once its ready line is printed. */
export function spawnKme(args: string[], timeoutMs = 30_000): Promise<KmeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--json', ...(args.includes('--link') ? [] : ['--link', 'csprng']), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const stderr: string[] = [];
  const extra: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  return new Promise((resolve, reject) => {
    let buf = '';
    let ready: ReadyLine | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`KME not ready in ${timeoutMs} ms: ${stderr.join('')}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (ready) {
          extra.push(line);
          continue;
        }
        try {
          ready = JSON.parse(line) as ReadyLine;
        } catch {
          extra.push(line);
          continue;
        }
        clearTimeout(timer);
        resolve({ child, ready, extra, stderr, exited });
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`KME exited (${e.code ?? e.signal}) before ready: ${stderr.join('')}`));
    });
  });
}

/** Free TCP ports on 127.0.0.1 (bound then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
