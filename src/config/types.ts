// The configuration as the rest of bulkhead sees it (Config, validated and frozen) and as users write it (UserConfig).
import type { ChaosSpec, WorkerMochaOptions } from '../protocol/messages.js';
import type { Shard } from '../plan/shard.js';
import type { GitHubTarget } from '../reporters/github.js';
import type { ProgressMode } from '../reporters/live.js';

export type Isolation = 'database' | 'schema' | 'shared';

export type Leaks = 'report' | 'fail' | 'ignore';

/** One reporter and where it writes: an absolute file, or null for stdout. */
export interface ReporterChoice {
  name: string;
  file: string | null;
}

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
  /** Seconds the embedded server waits after a run for the next one to reuse it (default 60; 0 with CI set; 0: off). */
  embeddedLinger?: number;
  /** Milliseconds a spec file may take to load (top-level code, imports) before its worker is terminated; 0: no limit. */
  loadTimeout?: number;
  /**
   * Database sessions a worker's code leaves open when the worker closes (after the root afterAll hooks): 'report'
   * lists them (default), 'fail' also fails the run, 'ignore' only ends them.
   */
  leaks?: Leaks;
  /** Milliseconds the running tests get after the first signal before they are stopped at once (default 3000). */
  shutdownGrace?: number;
  /**
   * A root hook plugin's beforeAll/afterAll: 'per-worker' (default) runs them once in each worker, before its first
   * file and as it closes, as serial mocha runs them once; 'per-file' runs them around every file, as mocha --parallel.
   */
  rootHooks?: 'per-worker' | 'per-file';
  /** The number of shards when the CI engine gives only an index (a Kubernetes Indexed Job's completions). */
  shards?: number;
  /** Seconds per spec file, to balance shards and order files; relative to this file. */
  timings?: string;
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
  command: 'run' | 'replay' | 'bisect' | 'list';
  /** The run record named after "replay" or "bisect". */
  recordArg: string | null;
  root: string;
  /** The mocha copy that runs the specs and reporters: the project's when it has one, else bulkhead's (its directory). */
  mochaPackage: string;
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
  /** --shard, BULKHEAD_SHARD or the CI engine's parallel-job variables; null runs the whole plan. */
  shard: Shard | null;
  /** --timings / `timings`: the durations file to read; null reads .bulkhead/timings.json if there is one. */
  timings: string | null;
  /** list --json */
  json: boolean;
  chaos: ChaosSpec | null;
  bisect: { test: string | null; pair: boolean };
  embedded: boolean;
  /** Milliseconds the embedded server lingers after a run that ended normally; 0 stops it with the run. */
  embeddedLinger: number;
  isolation: Isolation | null;
  transaction: boolean;
  setup: string | null;
  rootHooks: 'per-worker' | 'per-file';
  keepDatabases: boolean;
  allowAnyDatabase: boolean;
  spec: string[];
  extension: string[];
  ignore: string[];
  recursive: boolean;
  sort: boolean;
  /** --reporter, each `name[:file]`: every reporter of the run with its destination (null: stdout). */
  reporters: ReporterChoice[];
  /** --html / --trace: the HTML report and the Chrome trace of the run, written at its end (null: none). */
  html: string | null;
  trace: string | null;
  /** --progress: the progress on stderr (reporters/live.ts). */
  progress: ProgressMode;
  /** GITHUB_ACTIONS=true: annotations and the step summary (reporters/github.ts); null elsewhere. */
  github: GitHubTarget | null;
  reporterOptions: Record<string, unknown>;
  /** mocha's --inline-diffs and --no-diff, for the reporters on the main thread (Base.inlineDiffs, Base.hideDiff). */
  inlineDiffs: boolean;
  diff: boolean;
  forbidOnly: boolean;
  /** --fail-zero: a run in which no test was found fails (exit 1), as in mocha. */
  failZero: boolean;
  verbose: boolean;
  leaks: Leaks;
  /** --list-reporters / --list-interfaces: print mocha's list and run nothing. */
  list: 'reporters' | 'interfaces' | null;
  /** --node-option and Node flags given directly: applied to every worker thread (checked that a thread takes them). */
  nodeOptions: string[];
  /** -c/--color, -C/--no-colors, NO_COLOR: whether the reporters colour their output (null: mocha decides). */
  color: boolean | null;
  configFile: string | null;
  /** The load watchdog: ms a file may take to load (default 30 s, or the mocha timeout if larger); 0 turns it off. */
  loadTimeout: number;
  /** After the first signal, ms the running tests get before they are stopped as by a second one. */
  shutdownGrace: number;
  mocha: WorkerMochaOptions;
}
