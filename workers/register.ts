// `mocha --require bulkhead/register`: the same lazy connection and reset rule in plain serial mocha, for teams
// that move to bulkhead step by step. The connection is closed with a goodbye when the run ends.
import type Mocha from 'mocha';
import { closeConnection, configureConnection, isConfigured } from './connection.js';
import { installResetHooks, settleFile, watchFailures } from './hooks.js';
import { loadConfigHooks } from './confighooks.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ENV_WORKER } from '../src/protocol/messages.js';
import { CONFIG_NAMES, targetFromEnv } from '../src/protocol/target.js';
import { mochaInUse, mochaOf, ownMocha, projectMocha, supportedMocha, unsupportedMochaMessage, useMocha } from '../src/protocol/mochacopy.js';
import type { MochaCopy } from '../src/protocol/mochacopy.js';

/*
 * The copy to patch is the one running: mocha's bin (or its CLI file, when mocha re-spawned itself with Node flags)
 * is argv[1]. Patching bulkhead's own copy instead would leave a project's mocha 11 without the reset rule, silently.
 */
const cli = mochaOf(process.argv[1] ?? '');
const running: MochaCopy = cli ?? projectMocha(process.cwd()) ?? ownMocha();
if (!supportedMocha(running)) {
  const message = unsupportedMochaMessage(running, ownMocha(), 'The mocha running bulkhead/register');
  if (cli === null) throw new Error(message);
  // Inside mocha's CLI a module that throws while loading is a stack trace and exit 1; a bad setup is one paragraph
  // and exit 2, as bulkhead's own command line says it. This process is mocha's, not a caller of run().
  process.stderr.write(`bulkhead/register: ${message}\n`);
  process.exit(2);
}
useMocha(running.dir);

let patchedRuns = 0;
// Every runner that copy creates gets the failure watch before it starts.
const proto = mochaInUse().Mocha.Runner.prototype as Mocha.Runner & { run(this: Mocha.Runner, ...args: unknown[]): Mocha.Runner };
const originalRun = proto.run;
proto.run = function (this: Mocha.Runner, ...args: unknown[]): Mocha.Runner {
  patchedRuns += 1;
  watchFailures(this, null);
  installResetHooks(this.suite, null);
  return originalRun.apply(this, args);
};

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    if (patchedRuns === 0) {
      // Another copy of mocha runs these tests (a programmatic new Mocha() of a second copy): no reset rule would act.
      throw new Error(`bulkhead/register patched mocha ${running.version} (${running.dir}), but the tests are run by another copy of mocha, ` +
        'so the reset rule would not act. Run the tests with that mocha (npx mocha --require bulkhead/register), or install one mocha only (npm ls mocha).');
    }
    if (isConfigured()) return;
    process.env[ENV_WORKER] ??= '1';
    const hooks = await loadConfigHooks(configFile(process.cwd()));
    configureConnection({
      slot: Number(process.env[ENV_WORKER]),
      target: targetFromEnv(process.env),
      ...(hooks.onConnect !== undefined ? { onConnect: hooks.onConnect } : {}),
      onEvent: () => undefined,
    });
  },
  async afterAll(): Promise<void> {
    await settleFile();
    await closeConnection();
  },
};

function configFile(root: string): string | null {
  return CONFIG_NAMES.map((name) => path.join(root, name)).find((file) => existsSync(file)) ?? null;
}
