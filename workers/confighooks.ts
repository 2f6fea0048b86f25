// Hooks from bulkhead.config.* that must run where the connection lives: inside the worker (or, with
// bulkhead/register, in plain mocha's process). Functions cannot cross the thread boundary, so each side imports
// the config file itself.
import { pathToFileURL } from 'node:url';

type Hook<T> = (arg: T) => unknown;

export interface ConfigHooks {
  onConnect?: Hook<unknown>;
  onWorkerStart?: Hook<{ slot: number; db: string | null }>;
  onWorkerStop?: Hook<{ slot: number }>;
  onReset?: Hook<{ slot: number; cause: string }>;
}

const NAMES = ['onConnect', 'onWorkerStart', 'onWorkerStop', 'onReset'] as const;

export async function loadConfigHooks(file: string | null): Promise<ConfigHooks> {
  if (file === null || file.endsWith('.json')) return {};
  const mod = (await import(pathToFileURL(file).href)) as { default?: Record<string, unknown> };
  const config = mod.default ?? {};
  const hooks: Record<string, unknown> = {};
  for (const name of NAMES) if (typeof config[name] === 'function') hooks[name] = config[name];
  return hooks as ConfigHooks;
}
