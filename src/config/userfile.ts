// bulkhead.config.{ts,mts,js,mjs,cjs,json}: found in the project root (or named by --config-file), loaded, and
// checked key by key, so a misspelt key is refused rather than ignored in silence.
import { existsSync, readFileSync } from 'node:fs';
import { didYouMean } from './suggest.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../errors.js';
import { CONFIG_NAMES } from '../protocol/target.js';
import type { UserConfig } from './types.js';


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

type Kind = 'number' | 'string' | 'boolean' | 'function';

/**
 * Every key of UserConfig and the type of its value: a misspelt key would otherwise be ignored in silence, and a
 * value of the wrong type (transaction: 'yes') read as something the user did not mean. workers, loadTimeout and
 * shutdownGrace also take strings ('4', '30s'), which config/load.ts reads.
 */
const USER_KEYS: Record<keyof UserConfig, Kind | readonly Kind[]> = {
  workers: ['number', 'string'],
  isolation: 'string',
  transaction: 'boolean',
  setup: 'string',
  keepDatabases: 'boolean',
  allowAnyDatabase: 'boolean',
  embeddedLinger: ['number', 'string'],
  loadTimeout: ['number', 'string'],
  leaks: 'string',
  shutdownGrace: ['number', 'string'],
  rootHooks: 'string',
  shards: 'number',
  timings: 'string',
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
      user = jsonWithPosition(file, readFileSync(file, 'utf8'));
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
  for (const [key, value] of Object.entries(user)) checkKey(file, key, value);
  return user as UserConfig;
}

function checkKey(file: string, key: string, value: unknown): void {
  const kind = (USER_KEYS as Record<string, Kind | readonly Kind[] | undefined>)[key];
  if (kind === undefined) {
    const hint = didYouMean(key, Object.keys(USER_KEYS)).trim();
    throw errors.config(key, `there is no such key in ${path.basename(file)}`, `${hint === '' ? '' : `${hint} `}The keys are: ${Object.keys(USER_KEYS).join(', ')}.`);
  }
  const kinds: readonly Kind[] = typeof kind === 'string' ? [kind] : kind;
  if (value === undefined || kinds.includes(typeof value as Kind)) return;
  if (kinds.includes('function')) {
    throw errors.config(key, `it must be a function, not ${JSON.stringify(value)}`, `Define ${key} in a bulkhead.config.js or .ts file.`);
  }
  const example = kinds.includes('boolean') ? 'true or false, without quotes' : kinds.includes('number') ? 'a number, for example 4' : 'a string';
  throw errors.config(key, `${JSON.stringify(value)} is a ${typeof value}, not ${kinds.map((k) => `a ${k}`).join(' or ')}`, `Give ${key} ${example}.`);
}

/** JSON.parse's error names a character offset; a user fixing the file wants a line and a column. */
export function jsonWithPosition(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const where = jsonErrorPosition(err, text);
    if (where === null) throw err;
    throw new Error(`${path.basename(file)} is not valid JSON at ${where.at}: ${where.why}`, { cause: err });
  }
}

/** "line L, column C" of a JSON.parse error in `text` (comments count, as mocha strips them to spaces), if it names an offset. */
export function jsonErrorPosition(err: unknown, text: string): { at: string; why: string } | null {
  const message = err instanceof Error ? err.message : String(err);
  const offset = /at position (\d+)/.exec(message)?.[1];
  if (offset === undefined) return null;
  const before = text.slice(0, Number(offset)).split('\n');
  const column = (before[before.length - 1]?.length ?? 0) + 1;
  return { at: `line ${before.length}, column ${column}`, why: message.replace(/^.*SyntaxError: /, '').replace(/ in JSON at position \d+.*$/, '') };
}
