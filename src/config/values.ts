// Value readers for config keys and flags: each accepts what mocha would, and refuses anything else with the key
// and the fix.
import { createRequire } from 'node:module';
import { errors } from '../errors.js';

const require = createRequire(import.meta.url);

export function list(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * `spec` and `ignore`: globs are kept whole, never split at commas, since a brace pattern such as
 * `*.spec.{js,ts}` holds one (mocha's parser treats these two options the same way).
 */
export function globs(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  const items = Array.isArray(value) ? value : [value];
  return [...new Set(items.map((v) => String(v).trim()).filter((v) => v !== ''))];
}

export function reporterOptions(value: unknown): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { ...(value as Record<string, unknown>) };
  const out: Record<string, unknown> = {};
  for (const pair of list(value)) {
    const [key, val, extra] = pair.split('=');
    if (key === undefined || key === '' || extra !== undefined) {
      throw errors.config('reporter-option', `"${pair}" is not in key=value form`, 'Write it as --reporter-option key=value.');
    }
    out[key] = val ?? true;
  }
  return out;
}

export function positiveInt(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw errors.config(key, `${JSON.stringify(value)} is not a whole number from 1 to 256`, `Set ${key} to the number of worker threads, for example 4.`);
  }
  return n;
}

// mocha reads durations with the `ms` package ("2s", "1500ms", "1m", or plain milliseconds); the same parser here
// means an rc file means the same to bulkhead. Resolved from mocha's own location, as it is mocha's dependency.
const parseMs = createRequire(require.resolve('mocha'))('ms') as (text: string) => number | undefined;

/** --timeout / --slow: a number, a duration string, or (timeout only) false for "no timeouts", as in mocha. */
const DURATION_FORMS: Record<string, string> = {
  timeout: "2000, '2s', or 0 / false (or --no-timeouts) to disable timeouts",
  slow: "75 or '1s'",
  '--shutdown-grace': "3000 or '3s' (0: stop the running tests at once)",
  shutdownGrace: "3000 or '3s' (0: stop the running tests at once)",
};

/** Milliseconds, or a duration mocha's own parser reads ('2s', '1m'). */
export function duration(key: string, value: unknown): number {
  if (key === 'timeout' && value === false) return 0;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? (parseMs(value.trim()) ?? NaN) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    const forms = DURATION_FORMS[key] ?? "30000 or '30s' (0: no limit)";
    throw errors.config(key, `${JSON.stringify(value)} is not a duration`, `Give ${key} in milliseconds or as a duration, for example ${forms}.`);
  }
  return n;
}

export function count(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw errors.config(key, `${JSON.stringify(value)} is not a whole number of 0 or more`, `Give ${key} a count, for example 2.`);
  return n;
}

export function integer(key: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw errors.config(key, `"${value}" is not a whole number`, `Give ${key}=<whole number>, for example ${key}=42.`);
  return n;
}

export function positiveCount(key: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw errors.config(key, `"${value}" is not a whole number of 1 or more`, `Give ${key} a count, for example ${key} 10.`);
  return n;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** CI engines set CI (to "true", "1" or their name); "false" and "0" are how people unset it by hand. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = (env['CI'] ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

const MAX_LINGER_SECONDS = 24 * 60 * 60;

/** --embedded-linger and its env and config forms: seconds from 0 (off) to a day, fractions allowed. */
export function seconds(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > MAX_LINGER_SECONDS) {
    throw errors.config(
      key,
      `${JSON.stringify(value)} is not a number of seconds from 0 to ${MAX_LINGER_SECONDS}`,
      `Give ${key} how long the embedded PostgreSQL waits after a run for the next one to reuse it, for example 60, or 0 to stop it with every run (the default when CI is set).`,
    );
  }
  return n;
}
