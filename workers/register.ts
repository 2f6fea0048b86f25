// `mocha --require bulkhead/register`: the same lazy connection and reset rule in plain serial mocha, for teams
// that move to bulkhead step by step. The connection is closed with a goodbye when the run ends.
import Mocha from 'mocha';
import { closeConnection, configureConnection, isConfigured } from './connection.js';
import { installResetHooks, settleFile, watchFailures } from './hooks.js';
import { loadConfigHooks } from './confighooks.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ENV_WORKER } from '../src/protocol/messages.js';
import { CONFIG_NAMES, targetFromEnv } from '../src/protocol/target.js';

// Every runner plain mocha creates gets the failure watch before it starts.
const proto = Mocha.Runner.prototype as Mocha.Runner & { run(this: Mocha.Runner, ...args: unknown[]): Mocha.Runner };
const originalRun = proto.run;
proto.run = function (this: Mocha.Runner, ...args: unknown[]): Mocha.Runner {
  watchFailures(this, null);
  installResetHooks(this.suite, null);
  return originalRun.apply(this, args);
};

export const mochaHooks = {
  async beforeAll(): Promise<void> {
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
