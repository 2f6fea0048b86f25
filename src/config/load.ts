// Precedence: CLI > environment > config files (.mocharc.* through mocha's own loader, bulkhead.config.*) >
// defaults. The result is validated once and frozen; every error names the key and the fix.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { errors } from '../errors.js';
import { takeBulkheadFlags } from '../cli/flags.js';
import { normalizeMochaArgs } from '../cli/mochaargs.js';
import type { BulkheadFlags } from '../cli/flags.js';
import { checkMochaOptions, mochaExtras } from './mochaopts.js';
import { checkDatabaseUrl } from './dburl.js';
import { newSeed } from '../protocol/random.js';
import { chooseMocha, unsupportedMochaMessage, useMocha } from '../protocol/mochacopy.js';
import type { Config, Isolation, Leaks, UserConfig } from './types.js';
import { findConfigFile, jsonErrorPosition, loadUserConfig } from './userfile.js';
import { readFileSync } from 'node:fs';
import { count, deepFreeze, duration, globs, integer, isCI, list, positiveCount, positiveInt, reporterOptions, seconds } from './values.js';
import { resolveRequire } from './requires.js';
import { parseChaos } from './chaos.js';
import { detectShard } from '../plan/shard.js';
import { reporterChoices } from './reporters.js';
import { githubTarget } from '../reporters/github.js';
import type { ProgressMode } from '../reporters/live.js';

const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): Record<string, unknown> };

/**
 * The specs and reporters run on the project's mocha when it has one (a spec importing `describe` from 'mocha' gets
 * the running copy), on bulkhead's own when it has none; a project copy outside the supported range is refused.
 */
function projectMochaPackage(root: string): string {
  const choice = chooseMocha(root);
  if (!choice.ok) throw errors.mochaUnsupported(unsupportedMochaMessage(choice.found, choice.own, "The project's mocha"));
  useMocha(choice.copy.dir);
  return choice.copy.dir;
}

/** Loading can be slow (TypeScript, heavy imports), but not endless. */
const DEFAULT_LOAD_TIMEOUT = 30_000;
/** Well inside the 10 s between SIGTERM and SIGKILL of Docker, Kubernetes and GitLab, with the cleanup after it. */
const DEFAULT_SHUTDOWN_GRACE = 3_000;

/** mocha's options as its own loader reads them (argv, .mocharc.*, package.json). */
type MochaArgs = Record<string, unknown>;

function mochaOptions(argv: string[]): MochaArgs {
  try {
    return loadOptions(argv);
  } catch (err) {
    throw malformedRc(err) ?? errors.usage(err instanceof Error ? err.message : String(err), err);
  }
}

/** mocha's loader says "Unable to read/parse <file>: ... at position N"; the user needs the line and column. */
function malformedRc(err: unknown): Error | null {
  const message = err instanceof Error ? err.message : String(err);
  const file = /Unable to read\/parse (.+?\.jsonc?): /.exec(message)?.[1];
  if (file === undefined) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const where = jsonErrorPosition(message, text);
  if (where === null) return null;
  return errors.config(path.basename(file), `${file} is not valid JSON at ${where.at} (${where.why})`, 'Fix the file there: JSON needs double-quoted keys and no comma after the last item.', err);
}

export async function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, root = process.cwd()): Promise<{ config: Config; flags: BulkheadFlags }> {
  // 1. bulkhead's own flags out of argv; the rest through mocha's loader, which also reads .mocharc.*.
  const { flags, rest } = takeBulkheadFlags(argv);
  const mochaPackage = projectMochaPackage(root);
  const normalized = normalizeMochaArgs(rest);
  const m = mochaOptions(normalized);
  checkMochaOptions(m, flags);
  // 2. bulkhead.config.*, then every value with its precedence, checked where it is read.
  if (!flags.embedded) checkDatabaseUrl(env);
  const configFile = flags.noConfigFile ? null : findConfigFile(root, flags.configFile);
  const user = await loadUserConfig(configFile);
  const slots = workers(flags, env, user, m['jobs']);
  const mocha = mochaConfig(m, root);
  const seed = flags.shuffle === undefined ? null : flags.shuffle === null ? newSeed() : integer('--shuffle', flags.shuffle);
  const config: Config = {
    command: runCommand(flags.command),
    recordArg: flags.recordArg ?? null,
    root,
    mochaPackage,
    ...slots,
    ...flaky(flags, root, seed),
    ...shards(flags, env, user, root, configFile),
    ...databases(flags, env, user, root, configFile),
    ...files(m),
    ...reporting(m, normalized, root),
    github: githubTarget(env),
    progress: progressMode(flags.progress),
    html: flags.html === undefined ? null : path.resolve(root, flags.html),
    trace: flags.trace === undefined ? null : path.resolve(root, flags.trace),
    verbose: flags.verbose,
    leaks: leaks(user),
    ...mochaExtras(m, env),
    configFile,
    loadTimeout:
      flags.loadTimeout !== undefined ? duration('--load-timeout', flags.loadTimeout)
      : user.loadTimeout !== undefined ? duration('loadTimeout', user.loadTimeout)
      : Math.max(DEFAULT_LOAD_TIMEOUT, mocha.timeout),
    shutdownGrace:
      flags.shutdownGrace !== undefined ? duration('--shutdown-grace', flags.shutdownGrace)
      : user.shutdownGrace !== undefined ? duration('shutdownGrace', user.shutdownGrace)
      : DEFAULT_SHUTDOWN_GRACE,
    mocha,
  };
  return { config: deepFreeze(config), flags };
}

function progressMode(value: string | undefined): ProgressMode {
  if (value === undefined) return 'auto';
  if (['auto', 'live', 'plain', 'off'].includes(value)) return value as ProgressMode;
  throw errors.usage(`--progress ${value} is not a mode; use auto (drawn in place on a terminal, plain lines elsewhere), live, plain or off.`);
}

function leaks(user: UserConfig): Leaks {
  const value = user.leaks ?? 'report';
  if (!['report', 'fail', 'ignore'].includes(value)) throw errors.config('leaks', `"${value}" is not a leak policy`, "Use 'report' (the default), 'fail' or 'ignore'.");
  return value;
}

/** `merge` reads records, not a suite: the CLI hands it to its own command before any configuration is loaded. */
function runCommand(command: BulkheadFlags['command']): Config['command'] {
  if (command === 'merge' || command === 'report') throw errors.usage('"bulkhead merge" takes run records only, for example: bulkhead merge shard-1.json shard-2.json.');
  return command;
}

/** .mocharc's `jobs` (mocha --parallel's worker count) counts as a default below bulkhead's own settings. */
function workers(flags: BulkheadFlags, env: NodeJS.ProcessEnv, user: UserConfig, jobs: unknown): Pick<Config, 'workers' | 'workersGiven'> {
  const fromEnv = env['BULKHEAD_WORKERS'];
  return {
    workers:
      flags.workers !== undefined ? positiveInt('--workers', flags.workers)
      : fromEnv !== undefined ? positiveInt('BULKHEAD_WORKERS', fromEnv)
      : user.workers !== undefined ? positiveInt('workers', user.workers)
      : jobs !== undefined ? positiveInt('jobs', jobs)
      : availableParallelism(),
    workersGiven: flags.workers !== undefined || fromEnv !== undefined || user.workers !== undefined || jobs !== undefined,
  };
}

type FlakyKeys = 'seed' | 'reseed' | 'repeat' | 'untilFail' | 'failOnFlaky' | 'record' | 'lastFailed' | 'chaos' | 'bisect';

function flaky(flags: BulkheadFlags, root: string, seed: number | null): Pick<Config, FlakyKeys> {
  return {
    seed,
    reseed: flags.shuffle === null,
    repeat: flags.repeat === undefined ? 1 : positiveCount('--repeat', flags.repeat),
    untilFail: flags.untilFail === undefined ? null : flags.untilFail === null ? 100 : positiveCount('--until-fail', flags.untilFail),
    failOnFlaky: flags.failOnFlaky,
    record: flags.record === undefined ? null : path.resolve(root, flags.record),
    lastFailed: flags.lastFailed,
    chaos: flags.chaos === undefined ? null : parseChaos(flags.chaos, seed),
    bisect: { test: flags.test ?? null, pair: flags.pair },
  };
}

function shards(flags: BulkheadFlags, env: NodeJS.ProcessEnv, user: UserConfig, root: string, configFile: string | null): Pick<Config, 'shard' | 'timings' | 'json'> {
  if (user.shards !== undefined) positiveInt('shards', user.shards);
  // Replay and bisect run a recorded schedule: a CI engine's shard variables must not cut it.
  const shard = flags.command === 'run' || flags.command === 'list' ? detectShard(flags.shard, env, user.shards) : null;
  if (user.timings !== undefined && typeof user.timings !== 'string') throw errors.config('timings', `it must be a file path, not ${JSON.stringify(user.timings)}`, 'Give the path of a JSON file of { "<spec path>": seconds }.');
  const timings =
    flags.timings !== undefined ? path.resolve(root, flags.timings)
    : typeof user.timings === 'string' ? path.resolve(configFile === null ? root : path.dirname(configFile), user.timings)
    : null;
  return { shard, timings, json: flags.json };
}

type DatabaseKeys = 'embedded' | 'embeddedLinger' | 'isolation' | 'transaction' | 'setup' | 'keepDatabases' | 'allowAnyDatabase' | 'rootHooks';

function databases(flags: BulkheadFlags, env: NodeJS.ProcessEnv, user: UserConfig, root: string, configFile: string | null): Pick<Config, DatabaseKeys> {
  const isolation = flags.isolation ?? env['BULKHEAD_ISOLATION'] ?? user.isolation ?? null;
  if (isolation !== null && !['database', 'schema', 'shared'].includes(isolation)) {
    throw errors.config('isolation', `"${isolation}" is not an isolation mode`, 'Use database, schema or shared.');
  }
  // A setup path in a config file is relative to that file; on the command line, to the project root.
  const setup =
    flags.setup !== undefined ? path.resolve(root, flags.setup)
    : typeof user.setup === 'string' ? path.resolve(configFile === null ? root : path.dirname(configFile), user.setup)
    : null;
  return {
    embedded: flags.embedded,
    embeddedLinger: lingerMs(flags, env, user),
    isolation: isolation as Isolation | null,
    transaction: flags.transaction || user.transaction === true,
    setup,
    keepDatabases: flags.keepDatabases || user.keepDatabases === true,
    allowAnyDatabase: flags.allowAnyDatabase || user.allowAnyDatabase === true,
    rootHooks: rootHooks(user.rootHooks),
  };
}

/** Seconds, as a flag, BULKHEAD_EMBEDDED_LINGER or embeddedLinger says; by default 60, and 0 (off) on CI. */
function lingerMs(flags: BulkheadFlags, env: NodeJS.ProcessEnv, user: UserConfig): number {
  const [key, value]: [string, unknown] =
    flags.embeddedLinger !== undefined ? ['--embedded-linger', flags.embeddedLinger]
    : env['BULKHEAD_EMBEDDED_LINGER'] !== undefined ? ['BULKHEAD_EMBEDDED_LINGER', env['BULKHEAD_EMBEDDED_LINGER']]
    : user.embeddedLinger !== undefined ? ['embeddedLinger', user.embeddedLinger]
    : ['', isCI(env) ? 0 : 60];
  return seconds(key, value) * 1000;
}

function rootHooks(value: unknown): Config['rootHooks'] {
  if (value === undefined) return 'per-worker';
  if (value === 'per-worker' || value === 'per-file') return value;
  throw errors.config('rootHooks', `${JSON.stringify(value)} is not a choice`, "Use 'per-worker' (a root hook plugin's beforeAll/afterAll once per worker, the default) or 'per-file' (once per file, as mocha --parallel).");
}

function files(m: MochaArgs): Pick<Config, 'spec' | 'extension' | 'ignore' | 'recursive' | 'sort'> {
  const spec = globs(m['_']);
  return { spec: spec.length > 0 ? spec : ['./test'], extension: list(m['extension']), ignore: globs(m['ignore']), recursive: m['recursive'] === true, sort: m['sort'] === true };
}

function reporting(m: MochaArgs, argv: readonly string[], root: string): Pick<Config, 'reporters' | 'reporterOptions' | 'inlineDiffs' | 'diff' | 'forbidOnly' | 'failZero'> {
  return {
    reporters: reporterChoices(argv, m['reporter'], root),
    reporterOptions: reporterOptions(m['reporter-option'] ?? m['reporter-options']),
    inlineDiffs: m['inline-diffs'] === true,
    diff: m['diff'] !== false,
    forbidOnly: m['forbid-only'] === true,
    failZero: m['fail-zero'] === true,
  };
}

/** What each worker's Mocha is given; --require/--import modules are resolved (or refused) here, before any run. */
function mochaConfig(m: MochaArgs, root: string): Config['mocha'] {
  if (m['grep'] !== undefined && m['fgrep'] !== undefined) throw errors.usage('--grep and --fgrep cannot be used together; keep one.');
  if (m['invert'] === true && m['grep'] === undefined && m['fgrep'] === undefined) throw errors.usage('--invert needs --grep or --fgrep.');
  const requires = [...list(m['require']).map((r) => resolveRequire(root, r, '--require')), ...list(m['import']).map((r) => resolveRequire(root, r, '--import'))];
  const ui = String(m['ui'] ?? 'bdd');
  if (!['bdd', 'tdd', 'qunit', 'exports'].includes(ui)) throw errors.config('ui', `"${ui}" is not a mocha interface`, 'Use bdd or tdd.');
  return {
    ui,
    timeout: duration('timeout', m['timeout'] ?? 2000),
    slow: duration('slow', m['slow'] ?? 75),
    retries: count('retries', m['retries'] ?? 0),
    ...(m['grep'] !== undefined ? { grep: String(m['grep']) } : {}),
    ...(m['fgrep'] !== undefined ? { fgrep: String(m['fgrep']) } : {}),
    invert: m['invert'] === true,
    bail: m['bail'] === true,
    forbidPending: m['forbid-pending'] === true,
    forbidOnly: m['forbid-only'] === true,
    exit: m['exit'] === true,
    asyncOnly: m['async-only'] === true,
    checkLeaks: m['check-leaks'] === true,
    fullTrace: m['full-trace'] === true,
    dryRun: m['dry-run'] === true,
    globals: list(m['global'] ?? m['globals']),
    requires,
    files: list(m['file']).map((f) => path.resolve(root, f)),
  };
}
