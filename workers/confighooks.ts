// Hooks from bulkhead.config.* that must run where the connection lives: inside the worker (or, with
// bulkhead/register, in plain mocha's process). Functions cannot cross the thread boundary, so each side imports
// the config file itself.
import { pathToFileURL } from 'node:url';

export interface ConfigHooks {
  onConnect?: (client: unknown) => unknown;
}

export async function loadConfigHooks(file: string | null): Promise<ConfigHooks> {
  if (file === null || file.endsWith('.json')) return {};
  const mod = (await import(pathToFileURL(file).href)) as { default?: Record<string, unknown> };
  const config = mod.default ?? {};
  const onConnect = config['onConnect'];
  return typeof onConnect === 'function' ? { onConnect: onConnect as (client: unknown) => unknown } : {};
}
