// The public API for spec files and config files.
import type pg from 'pg';
import { ENV_WORKER } from './protocol/messages.js';
import { NOT_IN_WORKER, publishedDb } from './protocol/target.js';
import type { UserConfig } from './config/types.js';
import type { RunOptions, RunResult } from './cli/api.js';

export type { UserConfig } from './config/types.js';
export type { RunOptions, RunResult } from './cli/api.js';

/**
 * The calling worker's PostgreSQL connection. Created on the first call and reused by later tests and files on
 * the same worker; after a test breaks it (a database error, an open or aborted transaction, a dropped socket)
 * it is discarded, and the next call connects afresh.
 */
export function db(): Promise<pg.Client> {
  const published = publishedDb();
  return published !== undefined ? published() : Promise.reject(new Error(NOT_IN_WORKER));
}

/** The worker slot (1..N) running the calling code, or undefined outside a bulkhead worker. */
export function workerSlot(): number | undefined {
  const raw = process.env[ENV_WORKER];
  return raw === undefined ? undefined : Number(raw);
}

/** Typed helper for bulkhead.config.ts: `export default defineConfig({ ... })`. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}

/**
 * Runs the suite as the `bulkhead` command would, from code: `await run({ root, spec: ['test'], workers: 2 })`.
 * Resolves with the exit code the CLI would use; bad options reject with the same error the CLI prints (its
 * `exitCode` is 2). It changes nothing process-wide (no chdir, no signal handlers), so it can be called again in
 * the same process. The pipeline is imported here, on the first call, so that spec files importing this module
 * for db() do not load it.
 */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  const api = await import('./cli/api.js');
  return api.run(options);
}
