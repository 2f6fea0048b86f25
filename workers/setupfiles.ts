// --file setup files load before every spec file (load.ts), so their root-level hooks run around each spec file of a
// worker, not once per run as in serial mocha. A setup file written for one run (an `after` that ends the
// application's pool) then fails the worker's next file with an error about the pool that says nothing of why
// ("Cannot use a pool after calling end on the pool"). A root hook of a setup file that fails on a later load on the
// worker gets a note naming the setup file, why its earlier run matters and where such hooks belong.
import path from 'node:path';
import type Mocha from 'mocha';
import type { SerializedError } from '../src/protocol/messages.js';

const KINDS = ['_beforeAll', '_beforeEach', '_afterEach', '_afterAll'] as const;
const origins = new WeakMap<Mocha.Hook, { file: string; load: number }>();
/** Loads of each setup file for a file that runs (not those of the .only probe, which runs no hook). */
const runs = new Map<string, number>();

/** The root suite's hooks as they stand (before a setup file loads). */
export function rootHooks(suite: Mocha.Suite): Set<Mocha.Hook> {
  const hooks = suite as unknown as Record<(typeof KINDS)[number], Mocha.Hook[] | undefined>;
  return new Set(KINDS.flatMap((k) => hooks[k] ?? []));
}

/** The root hooks that appeared since `before` are the setup file's; `running`: loaded for a file that runs. */
export function markSetupHooks(suite: Mocha.Suite, before: Set<Mocha.Hook>, file: string, running: boolean): void {
  if (!running) return;
  const load = (runs.get(file) ?? 0) + 1;
  runs.set(file, load);
  for (const hook of rootHooks(suite)) if (!before.has(hook)) origins.set(hook, { file, load });
}

/** The failure of a setup file's hook after the worker already ran that file for an earlier spec file, noted. */
export function noteSetupHook(hook: Mocha.Hook, error: SerializedError): SerializedError {
  const origin = origins.get(hook);
  if (origin === undefined || origin.load < 2) return error;
  const rel = path.relative(process.cwd(), origin.file) || origin.file;
  const earlier = origin.load - 1;
  const note =
    ` (bulkhead: this hook is in the --file setup file ${rel}, which runs around every spec file, not once per run as in` +
    ` serial mocha; this worker ran it for ${earlier} earlier spec file${earlier === 1 ? '' : 's'}, so what its after hooks` +
    ' ended or closed there (a pool, a server) is gone here. Hooks meant to run once per worker belong in a root hook' +
    ' plugin: a --require module exporting mochaHooks = { beforeAll, afterAll }.)';
  const head = `${error.name}: ${error.message}`;
  const stack = error.stack?.startsWith(head) === true ? `${head}${note}${error.stack.slice(head.length)}` : error.stack;
  return { ...error, message: `${error.message}${note}`, ...(stack !== undefined ? { stack } : {}) };
}
