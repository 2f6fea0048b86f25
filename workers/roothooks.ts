// A root hook plugin's beforeAll/afterAll (mochaHooks exported by a --require module). Serial mocha runs them once
// for the whole run; mocha --parallel once per file, so `afterAll(() => pool.end())` ends the app's pool after the
// first file of a worker. bulkhead runs them once per worker by default (rootHooks: 'per-worker'): beforeAll before
// the worker's first file, afterAll when the worker closes. beforeEach/afterEach apply to every test either way.
import type Mocha from 'mocha';

export type RootHooksMode = 'per-worker' | 'per-file';
type Hook = (this: unknown, done?: (err?: unknown) => void) => unknown;

function list(value: unknown): Hook[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as Hook[];
}

/** Runs a hook that returns a promise or takes mocha's done callback. */
export function call(fn: Hook, self: unknown): Promise<unknown> {
  if (fn.length === 0) return Promise.resolve(fn.call(self));
  return new Promise((resolve, reject) => {
    fn.call(self, (err?: unknown) => (err === undefined || err === null ? resolve(undefined) : reject(err as Error)));
  });
}

const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class RootHooks {
  private readonly beforeAll: Hook[];
  private readonly afterAll: Hook[];
  private started: Promise<void> | null = null;
  private failedIn: string | null = null;
  private readonly stopped: string[] = [];

  constructor(private readonly hooks: Mocha.RootHookObject | undefined, private readonly mode: RootHooksMode, private readonly slot: number) {
    this.beforeAll = list(hooks?.beforeAll);
    this.afterAll = list(hooks?.afterAll);
  }

  /** The root hooks for one file's Mocha. */
  forFile(file: string): Mocha.RootHookObject | undefined {
    if (this.hooks === undefined || this.mode === 'per-file') return this.hooks;
    const { beforeEach, afterEach } = this.hooks;
    const own: Mocha.RootHookObject = { ...(beforeEach !== undefined ? { beforeEach } : {}), ...(afterEach !== undefined ? { afterEach } : {}) };
    // Without a beforeAll the wrapper still marks that a file's tests ran here, which close() needs to run afterAll
    // (`afterAll(() => pool.end())` alone is common); it is skipped, as the plugin's would be, in a dry run.
    if (this.beforeAll.length === 0 && this.afterAll.length === 0) return own;
    const start = this.start.bind(this);
    // Named after the plugin's hook, so a failure reads `"before all" hook: beforeAll in "{root}"` as in mocha.
    const beforeAll = { async beforeAll(this: Mocha.Context): Promise<void> { await start(this, file); } }.beforeAll;
    return { ...own, beforeAll };
  }

  /** What the plugin's beforeAll set on `this`: serial mocha's tests all see it, so every file here gets it too. */
  private shared: [string, unknown][] = [];

  private async start(context: Mocha.Context, file: string): Promise<void> {
    const first = this.started === null;
    this.started ??= (async () => {
      const before = new Set(Object.keys(context));
      for (const fn of this.beforeAll) await call(fn, context);
      this.shared = Object.entries(context).filter(([key]) => !before.has(key));
    })();
    try {
      await this.started;
      if (!first) for (const [key, value] of this.shared) (context as unknown as Record<string, unknown>)[key] = value;
    } catch (err) {
      this.failedIn ??= file;
      this.stopped.push(file);
      const message = first
        ? `the root hook plugin's beforeAll failed on worker ${this.slot} (it runs once per worker, before its first file: rootHooks 'per-worker'), so no file of this worker runs: ${why(err)}`
        : `the root hook plugin's beforeAll failed on worker ${this.slot} in ${this.failedIn}, so this file is not run either; files it stopped so far: ${this.stopped.join(', ')}. The error: ${why(err)}`;
      throw new Error(message, { cause: err });
    }
  }

  /**
   * At worker close: the plugin's afterAll, once, when a file's root before-all ran here. Returns the failure, if
   * any, with the title serial mocha gives a failing root hook.
   */
  async close(timeoutMs: number): Promise<{ error: Error; title: string } | null> {
    if (this.mode === 'per-file' || this.started === null || this.afterAll.length === 0) return null;
    const context = { timeout: () => context, slow: () => context, retries: () => context };
    for (const fn of this.afterAll) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const limit = new Promise<never>((_, reject) => {
          if (timeoutMs > 0) timer = setTimeout(() => reject(new Error(`Timeout of ${timeoutMs}ms exceeded`)), timeoutMs);
        });
        await Promise.race([call(fn, context), limit]);
      } catch (err) {
        const error = new Error(`the root hook plugin's afterAll failed on worker ${this.slot} (it runs once per worker, as the worker closes: rootHooks 'per-worker'): ${why(err)}`, { cause: err });
        return { error, title: `"after all" hook${fn.name === '' ? '' : `: ${fn.name}`} in "{root}"` };
      } finally {
        clearTimeout(timer);
      }
    }
    return null;
  }
}
