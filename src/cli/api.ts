// The public run() (src/index.ts loads this lazily): typed options become the command line the CLI would get, so
// the API and the CLI share one parser, one precedence and one set of checks. Nothing here touches the process:
// no working directory change, no signal handler, no process.exit, and the root is passed down explicitly.
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { errors } from '../errors.js';
import { run as runPipeline } from '../run/pipeline.js';
import { Interrupts } from '../run/interrupts.js';
import { BULKHEAD_OPTIONS } from './options.js';
import type { Command } from './options.js';

export interface RunOptions {
  /** The project root: .mocharc.*, bulkhead.config.* and relative paths are read from here. Default: the cwd. */
  root?: string;
  /** 'replay' and 'bisect' read `recordFile`. Default: 'run'. */
  command?: Command;
  recordFile?: string;
  /** Spec files, directories or globs, relative to the root. Default: mocha's `spec`, else ./test. */
  spec?: readonly string[];
  workers?: number;
  isolation?: 'database' | 'schema' | 'shared';
  embedded?: boolean;
  /** Seconds the embedded server lingers after this run for the next one (--embedded-linger). */
  embeddedLinger?: number | string;
  transaction?: boolean;
  setup?: string;
  keepDatabases?: boolean;
  allowAnyDatabase?: boolean;
  loadTimeout?: number | string;
  shutdownGrace?: number | string;
  /** true: a fresh seed; a number: that seed. */
  shuffle?: boolean | number;
  repeat?: number;
  /** true: at most 100 rounds; a number: at most that many. */
  untilFail?: boolean | number;
  failOnFlaky?: boolean;
  record?: string;
  lastFailed?: boolean;
  chaos?: string;
  /** bisect: the full title of the failing test, and whether to look for a single culprit. */
  test?: string;
  pair?: boolean;
  /** A bulkhead config file, or false to read none. */
  configFile?: string | false;
  verbose?: boolean;
  /** One reporter or several, each `name` or `name:file`. */
  reporter?: string | readonly string[];
  reporterOptions?: Readonly<Record<string, string | number | boolean>>;
  grep?: string;
  fgrep?: string;
  invert?: boolean;
  timeout?: number | string;
  slow?: number | string;
  retries?: number;
  bail?: boolean;
  require?: readonly string[];
  ui?: 'bdd' | 'tdd';
  forbidOnly?: boolean;
  dryRun?: boolean;
  failZero?: boolean;
  /** Any other command-line arguments, as `bulkhead` takes them (mocha's options, for one). */
  args?: readonly string[];
}

export interface RunResult {
  /** What the CLI would exit with: 0 all passed, 1 a test failed (see the README's exit codes). */
  exitCode: number;
}

/** Typed options that are mocha's, by their flag. */
const MOCHA_FLAGS = {
  reporter: '--reporter',
  grep: '--grep',
  fgrep: '--fgrep',
  invert: '--invert',
  timeout: '--timeout',
  slow: '--slow',
  retries: '--retries',
  bail: '--bail',
  ui: '--ui',
  forbidOnly: '--forbid-only',
  dryRun: '--dry-run',
  failZero: '--fail-zero',
} as const satisfies Partial<Record<keyof RunOptions, string>>;

function flag(name: string, value: unknown): string[] {
  if (value === undefined || value === false) return [];
  return value === true ? [name] : [`${name}=${String(value)}`];
}

/** The command line the options stand for. */
function toArgv(options: RunOptions): string[] {
  const argv: string[] = [];
  const command = options.command ?? 'run';
  if (command !== 'run') {
    if (options.recordFile === undefined) throw errors.usage(`run({ command: '${command}' }) needs recordFile, the run record to read, for example '.bulkhead/last-run.json'.`);
    argv.push(command, options.recordFile);
  }
  const given = options as Record<string, unknown>;
  for (const o of BULKHEAD_OPTIONS) {
    const long = o.names.find((n) => n.startsWith('--')) as string;
    if (o.key === 'help' || o.key === 'version' || o.key === 'noConfigFile' || o.key === 'configFile') continue;
    argv.push(...flag(long, given[o.key]));
  }
  if (options.configFile === false) argv.push('--no-config-file');
  else argv.push(...flag('--config-file', options.configFile));
  for (const [key, name] of Object.entries(MOCHA_FLAGS)) {
    const value = given[key];
    for (const v of Array.isArray(value) ? value : [value]) argv.push(...flag(name, v));
  }
  for (const [k, v] of Object.entries(options.reporterOptions ?? {})) argv.push(`--reporter-option=${k}=${String(v)}`);
  for (const r of options.require ?? []) argv.push(`--require=${r}`);
  argv.push(...(options.args ?? []));
  // Spec arguments go last, after a value-less flag could have taken one.
  argv.push(...(options.spec ?? []));
  return argv;
}

export async function run(options: RunOptions = {}): Promise<RunResult> {
  const root = path.resolve(options.root ?? process.cwd());
  const { config, flags } = await loadConfig(toArgv(options), process.env, root);
  if (flags.help || flags.version) throw errors.usage('--help and --version are for the command line; run() runs the suite.');
  // No signal handlers here (they are process-wide): this run's interrupt state never receives a signal.
  const exitCode = await runPipeline(config, { out: process.stdout, err: process.stderr, interrupts: new Interrupts() });
  return { exitCode };
}
