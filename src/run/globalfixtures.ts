// mocha's global fixtures: `mochaGlobalSetup` / `mochaGlobalTeardown` exported by a --require module run once for
// the whole run, on the main thread (as in mocha's parallel mode), around every worker's files.
import type { Config } from '../config/types.js';
import { BulkheadError, EXIT } from '../errors.js';
import { mochaInUse } from '../protocol/mochacopy.js';

interface RunHelpers {
  handleRequires(requires: string[]): Promise<{ globalSetup?: Fixture[]; globalTeardown?: Fixture[] }>;
}
// Loaded only when there are --require modules: it pulls in mocha's watch mode, which costs start-up.
const runHelpers = (): RunHelpers => mochaInUse().load<RunHelpers>('lib/cli/run-helpers');

type Fixture = (this: Record<string, unknown>) => unknown;

export interface GlobalFixtures {
  teardown(): Promise<void>;
}

function fixtureError(phase: string, err: unknown): BulkheadError {
  const why = err instanceof Error ? err.message : String(err);
  return new BulkheadError('ERR_BULKHEAD_CONFIG', `The ${phase} of a --require module failed: ${why}. Fix the fixture; no test was run.`, { cause: err, exitCode: EXIT.failed });
}

export interface LoadedFixtures {
  /** Runs every mochaGlobalSetup (with the target's environment applied by then); the teardown runs the rest. */
  setup(): Promise<GlobalFixtures>;
}

/**
 * Loads the --require modules, first of all, as serial mocha does: one that sets DATABASE_URL or PG* as it loads
 * (dotenv's `--require dotenv/config`) decides the target, which is chosen after this. Their mochaGlobalSetup runs
 * later, through setup(), once the target is open and its environment applied.
 */
export async function loadGlobalFixtures(config: Config): Promise<LoadedFixtures> {
  const requires = config.mocha.requires;
  if (requires.length === 0) return { setup: () => Promise.resolve({ teardown: async () => undefined }) };
  if (requires.some((r) => /\.(c|m)?tsx?$/.test(r))) {
    const { register } = (await import('tsx/esm/api')) as { register(): unknown };
    register();
  }
  // One module at a time, so a module that throws while loading is named in the error.
  const plugins: { globalSetup: Fixture[]; globalTeardown: Fixture[] } = { globalSetup: [], globalTeardown: [] };
  for (const mod of requires) {
    let loaded: Awaited<ReturnType<RunHelpers['handleRequires']>>;
    try {
      loaded = await runHelpers().handleRequires([mod]);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new BulkheadError('ERR_BULKHEAD_CONFIG', `The --require/--import module ${mod} failed to load: ${why}. Fix the module; no test was run.`, { cause: err, exitCode: EXIT.failed });
    }
    plugins.globalSetup.push(...(loaded.globalSetup ?? []));
    plugins.globalTeardown.push(...(loaded.globalTeardown ?? []));
  }
  return { setup: () => runSetup(plugins) };
}

async function runSetup(plugins: { globalSetup: Fixture[]; globalTeardown: Fixture[] }): Promise<GlobalFixtures> {
  // One context object, as mocha gives setup and teardown the same `this`.
  const context: Record<string, unknown> = {};
  for (const fn of plugins.globalSetup) {
    try {
      await fn.call(context);
    } catch (err) {
      throw fixtureError('mochaGlobalSetup', err);
    }
  }
  return {
    teardown: async () => {
      for (const fn of plugins.globalTeardown) {
        try {
          await fn.call(context);
        } catch (err) {
          throw fixtureError('mochaGlobalTeardown', err);
        }
      }
    },
  };
}
