// A --file setup file's root `before` and `after` hooks, once per worker (rootHooks 'per-worker', the default).
// Serial mocha loads the setup file once and runs its root `before` before the first test of the run and its root
// `after` after the last: the Express-style test/setup.js that creates tables in `before` and ends the app's pool in
// `after` relies on it. Here every spec file gets a fresh Mocha and the setup file loads into each (its beforeEach
// and afterEach must apply to every test), so its `before` would run again per file and its `after` would end the
// pool under the worker's next file. Instead the `before` hooks run with the first file that runs tests, what they
// set on `this` reaches every later file, a failure fails every later file of the worker the same way, and the
// `after` hooks of that same load run once, as the worker closes. rootHooks 'per-file' keeps them per file.
import path from 'node:path';
import type Mocha from 'mocha';
import { call } from './roothooks.js';

type Hooks = Mocha.Hook[];
interface RootLists {
  _beforeAll: Hooks;
  _afterAll: Hooks;
}

interface SetupState {
  /** The before hooks ran (with the load whose after hooks are kept), and what they set on `this`. */
  ran: boolean;
  shared: [string, unknown][];
  failure: { error: unknown; file: string } | null;
  /** The after hooks of the load whose before hooks ran (or of the latest load, until one did), and its `this`. */
  after: { hooks: Hooks; context: Mocha.Context } | null;
}

const states = new Map<string, SetupState>();

/**
 * Called once the setup file `setup` has loaded into `suite` for the spec file `file` (which runs tests): `added`
 * are the root hooks that load declared.
 */
export function oncePerWorker(suite: Mocha.Suite, added: ReadonlySet<Mocha.Hook>, setup: string, file: string): void {
  const lists = suite as unknown as RootLists;
  const befores = lists._beforeAll.filter((h) => added.has(h));
  const afters = lists._afterAll.filter((h) => added.has(h));
  if (befores.length === 0 && afters.length === 0) return;
  const state = states.get(setup) ?? { ran: false, shared: [], failure: null, after: null };
  file = path.relative(process.cwd(), file) || file;
  states.set(setup, state);
  lists._afterAll = lists._afterAll.filter((h) => !added.has(h));
  if (!state.ran) {
    state.after = { hooks: afters, context: suite.ctx };
    wrapFirst(befores, suite, state, file);
    // An after-only setup file: its after hooks are kept from the first load that ran, and run at the close.
    if (befores.length === 0) state.ran = true;
    return;
  }
  lists._beforeAll = lists._beforeAll.filter((h) => !added.has(h));
  const failure = state.failure;
  if (failure !== null) {
    // The first file's `before` failed: in serial mocha no later test runs either. Each later file fails alike.
    const first = befores[0] as Mocha.Hook;
    const name = (first as unknown as { fn?: { name?: string } }).fn?.name ?? '';
    const why = failure.error instanceof Error ? failure.error.message : String(failure.error);
    const fail = {
      [name]: (): never => {
        throw new Error(`the --file setup file's before hook failed on this worker in ${failure.file}, so this file is not run either (it runs once per worker): ${why}`, { cause: failure.error });
      },
    }[name] as () => never;
    suite.beforeAll(fail);
    const lists2 = suite as unknown as RootLists;
    // Before the spec's own root hooks, as the setup file's were.
    lists2._beforeAll.unshift(lists2._beforeAll.pop() as Mocha.Hook);
    return;
  }
  for (const [key, value] of state.shared) (suite.ctx as unknown as Record<string, unknown>)[key] = value;
}

function wrapFirst(befores: Hooks, suite: Mocha.Suite, state: SetupState, file: string): void {
  for (const hook of befores) {
    const h = hook as unknown as { fn: (this: Mocha.Context, done?: (err?: unknown) => void) => unknown };
    const fn = h.fn;
    // Same arity, so mocha still hands a `done` to a hook that takes one.
    const run = function (this: Mocha.Context, done?: (err?: unknown) => void): unknown {
      state.ran = true;
      const keys = new Set(Object.keys(suite.ctx));
      const settle = (err?: unknown): void => {
        if (err !== undefined && err !== null) state.failure ??= { error: err, file };
        for (const key of Object.keys(suite.ctx)) if (!keys.has(key)) state.shared.push([key, (suite.ctx as unknown as Record<string, unknown>)[key]]);
      };
      if (fn.length > 0 && done !== undefined) {
        return fn.call(this, (err?: unknown) => {
          settle(err);
          done(err);
        });
      }
      try {
        const out = fn.call(this);
        if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
          return (out as Promise<unknown>).then(() => settle(), (err: unknown) => {
            settle(err);
            throw err;
          });
        }
        settle();
        return out;
      } catch (err) {
        settle(err);
        throw err;
      }
    };
    Object.defineProperty(run, 'length', { value: fn.length });
    Object.defineProperty(run, 'name', { value: fn.name });
    h.fn = run;
  }
}

/**
 * At worker close: the kept after hooks, once, when their load's before hooks ran; the failure, if any, with the
 * title serial mocha gives a failing root hook.
 */
export async function closeSetupFiles(timeoutMs: number): Promise<{ error: Error; title: string } | null> {
  for (const state of states.values()) {
    const after = state.after;
    state.after = null;
    if (after === null || !state.ran) continue;
    for (const hook of after.hooks) {
      const fn = (hook as unknown as { fn: (this: unknown, done?: (err?: unknown) => void) => unknown }).fn;
      let timer: NodeJS.Timeout | undefined;
      try {
        const limit = new Promise<never>((_, reject) => {
          if (timeoutMs > 0) timer = setTimeout(() => reject(new Error(`Timeout of ${timeoutMs}ms exceeded`)), timeoutMs);
        });
        await Promise.race([call(fn, after.context), limit]);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        return { error, title: `${hook.title} in "{root}"` };
      } finally {
        clearTimeout(timer);
      }
    }
  }
  return null;
}
