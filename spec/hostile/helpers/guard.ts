// Process-level guards for hostile-input tests: any unhandled rejection or uncaught exception while a
// test runs fails that test, and every awaited event has a deadline so a hang is a failure, not a
// stuck suite.

/** Fail the current test if the process saw an unhandled rejection or uncaught exception. */
export function useProcessGuard(): void {
  let seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  const onException = (err: unknown) => seen.push(err);
  before(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtExceptionMonitor', onException);
  });
  after(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtExceptionMonitor', onException);
  });
  beforeEach(() => {
    seen = [];
  });
  afterEach(async () => {
    // Rejections are reported after a macrotask; give them one before checking.
    await new Promise((r) => setImmediate(r));
    if (seen.length) {
      const list = seen.map((e) => (e instanceof Error ? e.stack ?? e.message : String(e))).join('\n---\n');
      seen = [];
      throw new Error(`unhandled rejection / uncaught exception during the test:\n${list}`);
    }
  });
}

/** Resolve with p, or reject after ms with a message naming what was awaited. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
