// bulkhead.config.{ts,mts,js,mjs,cjs,json}: found in the project root (or named by --config-file), loaded, and
// checked key by key, so a misspelt key is refused rather than ignored in silence.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../errors.js';
import { CONFIG_NAMES } from '../protocol/target.js';
import type { UserConfig } from './types.js';

const require = createRequire(import.meta.url);

export function findConfigFile(root: string, explicit: string | undefined): string | null {
  if (explicit !== undefined) {
    const file = path.resolve(root, explicit);
    if (!existsSync(file)) throw errors.usage(`The config file ${explicit} given with --config-file does not exist.`);
    return file;
  }
  for (const name of CONFIG_NAMES) {
    const file = path.join(root, name);
    if (existsSync(file)) return file;
  }
  return null;
}

/** Every key of UserConfig, and which must be functions: a misspelt key would otherwise be ignored in silence. */
const USER_KEYS: Record<keyof UserConfig, 'value' | 'function'> = {
  workers: 'value',
  isolation: 'value',
  transaction: 'value',
  setup: 'value',
  keepDatabases: 'value',
  allowAnyDatabase: 'value',
  loadTimeout: 'value',
  onConnect: 'function',
  onWorkerStart: 'function',
  onWorkerStop: 'function',
  onReset: 'function',
};

export async function loadUserConfig(file: string | null): Promise<UserConfig> {
  if (file === null) return {};
  let user: unknown;
  try {
    if (file.endsWith('.json')) {
      user = require(file) as unknown;
    } else {
      if (/\.(c|m)?ts$/.test(file)) {
        const { register } = (await import('tsx/esm/api')) as { register(): unknown };
        register();
      }
      user = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default ?? {};
    }
  } catch (err) {
    throw errors.configFile(file, err);
  }
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw errors.configFile(file, new Error('it must export (or, as JSON, hold) an object of settings'));
  }
  for (const [key, value] of Object.entries(user)) {
    const kind = (USER_KEYS as Record<string, 'value' | 'function' | undefined>)[key];
    if (kind === undefined) {
      throw errors.config(key, `there is no such key in ${path.basename(file)}`, `The keys are: ${Object.keys(USER_KEYS).join(', ')}.`);
    }
    if (kind === 'function' && value !== undefined && typeof value !== 'function') {
      throw errors.config(key, `it must be a function, not ${JSON.stringify(value)}`, `Define ${key} in a bulkhead.config.js or .ts file.`);
    }
  }
  return user as UserConfig;
}
