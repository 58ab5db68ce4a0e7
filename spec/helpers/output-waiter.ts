// Waiting on a child process's growing output: subclasses call changed() whenever output arrives (and
// markExited() when the process ends); waitFor(pred) resolves as soon as pred holds, or false once the
// timeout passes or the process has exited without it holding.
import type { ChildProcess } from 'node:child_process';

export class OutputWaiter {
  protected exited = false;
  private readonly waiters = new Set<() => void>();

  protected changed(): void {
    for (const w of [...this.waiters]) w();
  }

  protected markExited(): void {
    this.exited = true;
    this.changed();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  protected async terminate(proc: ChildProcess, graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Wait until pred() holds (true) or the timeout passes / the process exits (false). */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = () => {
        if (pred()) done(true);
        else if (this.exited) done(pred());
      };
      const timer = setTimeout(() => done(pred()), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
