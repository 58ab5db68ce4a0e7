// Resource cleanup for tests: register teardown functions as resources are created; they run (last
// first) after each test or after the suite, even when an assertion failed half-way.

export class Cleanup {
  private fns: Array<() => unknown> = [];

  /** Register a teardown; returns the value for chaining (`const s = cleanup.add(x, () => x.close())`). */
  add<T>(value: T, fn: () => unknown): T {
    this.fns.push(fn);
    return value;
  }

  defer(fn: () => unknown): void {
    this.fns.push(fn);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw new AggregateError(errors, `cleanup failed: ${errors.map(String).join('; ')}`);
  }
}

/** A Cleanup bound to mocha's afterEach (default) or after hook of the enclosing describe. */
export function useCleanup(scope: 'each' | 'all' = 'each'): Cleanup {
  const c = new Cleanup();
  if (scope === 'each') afterEach(() => c.run());
  else after(() => c.run());
  return c;
}
