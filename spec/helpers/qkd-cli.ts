// The `qtls` command (lib/cli/main.ts through tsx) as a child process for the QKD CLI specs: any
// subcommand (kme, demo...), output collected, lines awaited with a deadline, exit awaited, stop().
// (spec/helpers/qtls-cli.ts has the server/client runners used with it.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = 'lib/cli/main.ts';

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `re` in stdout (or stderr), or rejects after `ms`/on exit. */
  waitFor(re: RegExp, stream?: 'stdout' | 'stderr', ms?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 3 s; resolves on exit. */
  stop(): Promise<void>;
}

export function spawnQtls(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: childEnv(env),
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), poke()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), poke()));
  child.stdin.on('error', () => {});
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      // Let the last output through before waiters give up.
      setImmediate(() => {
        poke();
        resolve({ code, signal });
      });
    }),
  );
  const p: CliProcess = {
    child,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
    exited,
    waitFor(re, stream = 'stdout', ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(stream === 'stdout' ? out : err);
          if (m) return finish(() => resolve(m));
          if (done) finish(() => reject(new Error(`qtls ${args[0]} exited before printing ${re}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${ms} ms waiting for ${re} from qtls ${args[0]}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`))), ms);
        const finish = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (done) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  return p;
}

/** Resolve with the exit code, or kill the process and reject after `ms`. */
export async function exitCode(p: CliProcess, ms = 20_000): Promise<number | null> {
  let t: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      p.exited,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => {
          p.child.kill('SIGKILL');
          reject(new Error(`qtls did not exit within ${ms} ms\n--- stdout ---\n${p.stdout}\n--- stderr ---\n${p.stderr}`));
        }, ms);
      }),
    ]);
    return r.code;
  } finally {
    clearTimeout(t);
  }
}

function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.SSLKEYLOGFILE;
  delete env.NODE_OPTIONS;
  return env;
}
