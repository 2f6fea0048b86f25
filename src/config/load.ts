// Precedence: CLI > environment > config files (.mocharc.* through mocha's own loader, bulkhead.config.*) >
// defaults. The result is validated once and frozen; every error names the key and the fix.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../errors.js';
import { takeBulkheadFlags } from '../cli/flags.js';
import { normalizeMochaArgs } from '../cli/mochaargs.js';
import type { BulkheadFlags } from '../cli/flags.js';
import type { ChaosSpec, WorkerMochaOptions } from '../protocol/messages.js';
import { newSeed } from '../protocol/random.js';

const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): Record<string, unknown> };

export type Isolation = 'database' | 'schema' | 'shared';

/** What users may put in bulkhead.config.{ts,mts,js,mjs,cjs,json}. */
export interface UserConfig {
  /** Worker threads (slots); default: the machine's available parallelism. */
  workers?: number;
  /** How workers are kept apart: a database per slot (default with 2+ workers), a schema per slot, or shared. */
  isolation?: Isolation;
  /** Run every test inside BEGIN ... ROLLBACK; the application's own transactions become savepoints. */
  transaction?: boolean;
  /** Builds the template database: a .sql file, a directory of migrations, or a module exporting setup(client). */
  setup?: string;
  /** Keep the per-worker databases after the run, for inspection. */
  keepDatabases?: boolean;
  /** Allow setup and isolation on a database whose name does not contain "test". */
  allowAnyDatabase?: boolean;
  /** Milliseconds a spec file may take to load (top-level code, imports) before its worker is terminated; 0: no limit. */
  loadTimeout?: number;
  /** Runs on every new worker connection, for SET search_path, statement_timeout and the like. */
  onConnect?: (client: import('pg').Client) => unknown;
  /** Runs once in each worker before its first spec file, with its slot and database name. */
  onWorkerStart?: (info: { slot: number; db: string | null }) => unknown;
  /** Runs in each worker when it is shut down, before its connection is closed. */
  onWorkerStop?: (info: { slot: number }) => unknown;
  /** Runs in the worker after its connection was discarded, with the reason. */
  onReset?: (info: { slot: number; cause: string }) => unknown;
}

export interface Config {
  command: 'run' | 'replay' | 'bisect';
  /** The run record named after "replay" or "bisect". */
  recordArg: string | null;
  root: string;
  workers: number;
  /** Whether --workers (or its env/config) was given, rather than the default. */
  workersGiven: boolean;
  /** --shuffle: the seed of this run, or null for the plain sorted order. */
  seed: number | null;
  /** --shuffle without a value: every --until-fail round draws a new seed (each is printed and recorded). */
  reseed: boolean;
  repeat: number;
  /** --until-fail: the maximum number of rounds, or null when off. */
  untilFail: number | null;
  failOnFlaky: boolean;
  /** --record: a second place to write the run record (.bulkhead/last-run.json is always written). */
  record: string | null;
  lastFailed: boolean;
  chaos: ChaosSpec | null;
  bisect: { test: string | null; pair: boolean };
  embedded: boolean;
  isolation: Isolation | null;
  transaction: boolean;
  setup: string | null;
  keepDatabases: boolean;
  allowAnyDatabase: boolean;
  spec: string[];
  extension: string[];
  ignore: string[];
  recursive: boolean;
  sort: boolean;
  reporter: string;
  reporterOptions: Record<string, unknown>;
  /** mocha's --inline-diffs and --no-diff, for the reporters on the main thread (Base.inlineDiffs, Base.hideDiff). */
  inlineDiffs: boolean;
  diff: boolean;
  forbidOnly: boolean;
  /** --fail-zero: a run in which no test was found fails (exit 1), as in mocha. */
  failZero: boolean;
  verbose: boolean;
  configFile: string | null;
  /** The load watchdog: ms a file may take to load (default 30 s, or the mocha timeout if larger); 0 turns it off. */
  loadTimeout: number;
  mocha: WorkerMochaOptions;
}

/** Loading can be slow (TypeScript, heavy imports), but not endless. */
const DEFAULT_LOAD_TIMEOUT = 30_000;

/** --load-timeout / loadTimeout: milliseconds or a duration ('45s'); 0 turns the load watchdog off. */

const CONFIG_NAMES = ['bulkhead.config.ts', 'bulkhead.config.mts', 'bulkhead.config.js', 'bulkhead.config.mjs', 'bulkhead.config.cjs', 'bulkhead.config.json'];

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

async function loadUserConfig(file: string | null): Promise<UserConfig> {
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

function list(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function reporterOptions(value: unknown): Record<string, unknown> {
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

function positiveInt(key: string, value: unknown): number {
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
};

/** Milliseconds, or a duration mocha's own parser reads ('2s', '1m'). */
function duration(key: string, value: unknown): number {
  if (key === 'timeout' && value === false) return 0;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? (parseMs(value.trim()) ?? NaN) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    const forms = DURATION_FORMS[key] ?? "30000 or '30s' (0: no limit)";
    throw errors.config(key, `${JSON.stringify(value)} is not a duration`, `Give ${key} in milliseconds or as a duration, for example ${forms}.`);
  }
  return n;
}

function count(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw errors.config(key, `${JSON.stringify(value)} is not a whole number of 0 or more`, `Give ${key} a count, for example 2.`);
  return n;
}

function mochaOptions(argv: string[]): Record<string, unknown> {
  try {
    return loadOptions(argv);
  } catch (err) {
    throw errors.usage(err instanceof Error ? err.message : String(err), err);
  }
}

export async function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, root = process.cwd()): Promise<{ config: Config; flags: BulkheadFlags }> {
  const { flags, rest } = takeBulkheadFlags(argv);
  const m = mochaOptions(normalizeMochaArgs(rest));
  const unsupported = {
    watch: 'Run bulkhead again after a change (or use a file watcher such as nodemon around it).',
    // mocha's --delay waits for the specs to call run(); here every file has a Mocha of its own, so there is no
    // one root suite to delay, and waiting would hang.
    delay: 'Remove it (and the run() call in the spec files); do the asynchronous setup in a before() hook or in a --require root hook plugin (mochaHooks.beforeAll), or export mochaGlobalSetup from a --require module.',
  } as const;
  for (const [flag, fix] of Object.entries(unsupported)) {
    if (m[flag] !== undefined && m[flag] !== false) {
      throw errors.usage(`--${flag} (or "${flag}" in the mocha config) is not supported by bulkhead, which runs each spec file in its own Mocha on a worker. ${fix}`);
    }
  }
  if (m['dry-run'] === true && flags.command !== 'run') {
    throw errors.usage(`--dry-run cannot be combined with "bulkhead ${flags.command}", which compares real outcomes; drop --dry-run.`);
  }
  const configFile = flags.noConfigFile ? null : findConfigFile(root, flags.configFile);
  const user = await loadUserConfig(configFile);
  const workers =
    flags.workers !== undefined ? positiveInt('--workers', flags.workers)
    : env['BULKHEAD_WORKERS'] !== undefined ? positiveInt('BULKHEAD_WORKERS', env['BULKHEAD_WORKERS'])
    : user.workers !== undefined ? positiveInt('workers', user.workers)
    : availableParallelism();
  if (m['grep'] !== undefined && m['fgrep'] !== undefined) throw errors.usage('--grep and --fgrep cannot be used together; keep one.');
  if (m['invert'] === true && m['grep'] === undefined && m['fgrep'] === undefined) throw errors.usage('--invert needs --grep or --fgrep.');
  const requires = [...list(m['require']).map((r) => resolveRequire(root, r, '--require')), ...list(m['import']).map((r) => resolveRequire(root, r, '--import'))];
  const spec = list(m['_']);
  const ui = String(m['ui'] ?? 'bdd');
  if (!['bdd', 'tdd', 'qunit', 'exports'].includes(ui)) throw errors.config('ui', `"${ui}" is not a mocha interface`, 'Use bdd or tdd.');
  const seed = flags.shuffle === undefined ? null : flags.shuffle === null ? newSeed() : integer('--shuffle', flags.shuffle);
  const isolation = flags.isolation ?? env['BULKHEAD_ISOLATION'] ?? user.isolation ?? null;
  if (isolation !== null && !['database', 'schema', 'shared'].includes(isolation)) {
    throw errors.config('isolation', `"${isolation}" is not an isolation mode`, 'Use database, schema or shared.');
  }
  const timeout = duration('timeout', m['timeout'] ?? 2000);
  const loadTimeout =
    flags.loadTimeout !== undefined ? duration('--load-timeout', flags.loadTimeout)
    : user.loadTimeout !== undefined ? duration('loadTimeout', user.loadTimeout)
    : Math.max(DEFAULT_LOAD_TIMEOUT, timeout);
  const config: Config = {
    command: flags.command,
    recordArg: flags.recordArg ?? null,
    root,
    workers,
    workersGiven: flags.workers !== undefined || env['BULKHEAD_WORKERS'] !== undefined || user.workers !== undefined,
    seed,
    reseed: flags.shuffle === null,
    repeat: flags.repeat === undefined ? 1 : positiveCount('--repeat', flags.repeat),
    untilFail: flags.untilFail === undefined ? null : flags.untilFail === null ? 100 : positiveCount('--until-fail', flags.untilFail),
    failOnFlaky: flags.failOnFlaky,
    record: flags.record === undefined ? null : path.resolve(root, flags.record),
    lastFailed: flags.lastFailed,
    chaos: flags.chaos === undefined ? null : parseChaos(flags.chaos, seed),
    bisect: { test: flags.test ?? null, pair: flags.pair },
    embedded: flags.embedded,
    isolation: isolation as Isolation | null,
    transaction: flags.transaction || user.transaction === true,
    setup: flags.setup !== undefined ? path.resolve(root, flags.setup) : typeof user.setup === 'string' ? path.resolve(configFile === null ? root : path.dirname(configFile), user.setup) : null,
    keepDatabases: flags.keepDatabases || user.keepDatabases === true,
    allowAnyDatabase: flags.allowAnyDatabase || user.allowAnyDatabase === true,
    spec: spec.length > 0 ? spec : ['./test'],
    extension: list(m['extension']),
    ignore: list(m['ignore']),
    recursive: m['recursive'] === true,
    sort: m['sort'] === true,
    reporter: String(m['reporter'] ?? 'spec'),
    reporterOptions: reporterOptions(m['reporter-option'] ?? m['reporter-options']),
    inlineDiffs: m['inline-diffs'] === true,
    diff: m['diff'] !== false,
    forbidOnly: m['forbid-only'] === true,
    failZero: m['fail-zero'] === true,
    verbose: flags.verbose,
    configFile,
    loadTimeout,
    mocha: {
      ui,
      timeout,
      slow: duration('slow', m['slow'] ?? 75),
      retries: count('retries', m['retries'] ?? 0),
      ...(m['grep'] !== undefined ? { grep: String(m['grep']) } : {}),
      ...(m['fgrep'] !== undefined ? { fgrep: String(m['fgrep']) } : {}),
      invert: m['invert'] === true,
      bail: m['bail'] === true,
      forbidPending: m['forbid-pending'] === true,
      exit: m['exit'] === true,
      asyncOnly: m['async-only'] === true,
      checkLeaks: m['check-leaks'] === true,
      fullTrace: m['full-trace'] === true,
      dryRun: m['dry-run'] === true,
      globals: list(m['global'] ?? m['globals']),
      requires,
      files: list(m['file']).map((f) => path.resolve(root, f)),
    },
  };
  return { config: deepFreeze(config), flags };
}

/**
 * A --require/--import module: a path (resolved from the project root, as mocha resolves it from the working
 * directory, also with ".js" added) or a package. One that cannot be found is a usage error now, before any
 * server is started or any test is loaded, rather than a crash of the first thread that loads it.
 */
function resolveRequire(root: string, spec: string, flag: '--require' | '--import'): string {
  const file = path.resolve(root, spec);
  if (existsSync(file)) return file;
  if (existsSync(`${file}.js`)) return `${file}.js`;
  if (!/^\.{1,2}([\\/]|$)/.test(spec) && !path.isAbsolute(spec)) {
    // From the project, and from mocha's own location, which is where mocha's loader resolves it from.
    let notFound: unknown = null;
    for (const from of [path.join(root, 'package.json'), require.resolve('mocha')]) {
      try {
        createRequire(from).resolve(spec);
        return spec;
      } catch (err) {
        // A package that exists but exports only for import() is still loadable; only "not found" is an error.
        if ((err as { code?: unknown }).code !== 'MODULE_NOT_FOUND') return spec;
        notFound = err;
      }
    }
    throw errors.requireMissing(spec, flag, root, notFound);
  }
  throw errors.requireMissing(spec, flag, root);
}

function integer(key: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw errors.config(key, `"${value}" is not a whole number`, `Give ${key}=<whole number>, for example ${key}=42.`);
  return n;
}

function positiveCount(key: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw errors.config(key, `"${value}" is not a whole number of 1 or more`, `Give ${key} a count, for example ${key} 10.`);
  return n;
}

/** --chaos terminate=0.05,drop=0.02,delay=0.1,delay-ms=20,seed=7 */
export function parseChaos(text: string, runSeed: number | null): ChaosSpec {
  const spec: ChaosSpec = { seed: runSeed ?? newSeed(), terminate: 0, drop: 0, delay: 0, delayMs: 20 };
  const fix = 'Write it as --chaos terminate=0.05,drop=0.02,delay=0.1,delay-ms=20,seed=7 (probabilities per query, from 0 to 1).';
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [key, value] = part.split('=');
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw errors.config('chaos', `"${part}" is not key=number`, fix);
    if (key === 'terminate' || key === 'drop' || key === 'delay') {
      if (n > 1) throw errors.config('chaos', `${key}=${value} is not a probability`, fix);
      spec[key] = n;
    } else if (key === 'delay-ms') spec.delayMs = n;
    else if (key === 'seed') spec.seed = Math.trunc(n);
    else throw errors.config('chaos', `"${key}" is not a fault`, fix);
  }
  if (spec.terminate + spec.drop + spec.delay > 1) throw errors.config('chaos', 'the probabilities add up to more than 1', fix);
  return spec;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
