// What both threads need to know about where the database is: the environment variables that name it, and the
// hand-off through which the public db() reaches the worker's connection.
import os from 'node:os';
import type pg from 'pg';
import type { ConnectionTarget } from './messages.js';

/** The libpq variables that name a server; any of them set means the user chose one. */
export const PG_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSERVICE'] as const;

/** DATABASE_URL or a PG* variable is set. */
export function hasExternalTarget(env: NodeJS.ProcessEnv): boolean {
  return ['DATABASE_URL', ...PG_VARIABLES].some((k) => env[k] !== undefined && env[k] !== '');
}

/**
 * The user name libpq would send: PGUSER, else the operating-system user. node-postgres reads USER instead, which
 * containers and CI jobs often leave unset; then it sends none and the server refuses. Undefined only when the
 * process has no user name at all (a uid without a passwd entry).
 */
export function resolveUser(env: NodeJS.ProcessEnv): string | undefined {
  const own = env['PGUSER'];
  if (own !== undefined && own !== '') return own;
  try {
    return os.userInfo().username;
  } catch {
    return env['USER'] !== undefined && env['USER'] !== '' ? env['USER'] : undefined;
  }
}

/** DATABASE_URL as a target; null means "pg reads the PG* variables (and its defaults) itself". */
export function targetFromEnv(env: NodeJS.ProcessEnv): ConnectionTarget | null {
  const url = env['DATABASE_URL'];
  return url !== undefined && url !== '' ? { connectionString: url } : null;
}

/*
 * The package's entry point (main-thread code) must not import workers/, and a spec that a loader compiles to
 * CommonJS (a .ts or .cts file under tsx) gets its own copy of every module it requires: so the configured
 * connection publishes its db() on a global symbol, and every other caller hands its calls to it.
 */
const SHARED = Symbol.for('bulkhead.db');
type DbFunction = () => Promise<pg.Client>;
type Shared = Record<symbol, DbFunction | undefined>;

export function publishDb(fn: DbFunction): void {
  (globalThis as unknown as Shared)[SHARED] = fn;
}

export function publishedDb(): DbFunction | undefined {
  return (globalThis as unknown as Shared)[SHARED];
}

export const NOT_IN_WORKER = 'bulkhead: db() is only available inside a bulkhead worker or with --require bulkhead/register';

/** bulkhead.config.* names, in the order they are looked for in the project root. */
export const CONFIG_NAMES = ['bulkhead.config.ts', 'bulkhead.config.mts', 'bulkhead.config.js', 'bulkhead.config.mjs', 'bulkhead.config.cjs', 'bulkhead.config.json'];
