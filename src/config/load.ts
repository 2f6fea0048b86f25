// Precedence: CLI > environment > config files (.mocharc.* through mocha's own loader, bulkhead.config.*) >
// defaults. The result is validated once and frozen; every error names the key and the fix.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { errors } from '../errors.js';
import { takeBulkheadFlags } from '../cli/flags.js';
import { normalizeMochaArgs } from '../cli/mochaargs.js';
import type { BulkheadFlags } from '../cli/flags.js';
import { newSeed } from '../protocol/random.js';
import type { Config, Isolation } from './types.js';
import { findConfigFile, loadUserConfig } from './userfile.js';
import { count, deepFreeze, duration, integer, list, positiveCount, positiveInt, reporterOptions } from './values.js';
import { resolveRequire } from './requires.js';
import { parseChaos } from './chaos.js';



const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): Record<string, unknown> };

/** Loading can be slow (TypeScript, heavy imports), but not endless. */
const DEFAULT_LOAD_TIMEOUT = 30_000;

/** --load-timeout / loadTimeout: milliseconds or a duration ('45s'); 0 turns the load watchdog off. */

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

