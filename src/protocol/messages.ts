// Everything that crosses the thread boundary. Workers import this file and nothing else from src/.
// Every message is plain structured-clone data: no functions, no class instances.

/** An error flattened for postMessage; reporters get an Error rebuilt from it. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** SQLSTATE for server errors, or a Node/system code such as ECONNRESET. */
  code?: string;
  /** Diff material for assertion errors, already stringified the way mocha's reporters expect. */
  actual?: string;
  expected?: string;
  showDiff?: boolean;
  operator?: string;
  /** Mocha marks errors it caught from process 'uncaughtException' (a throw in a timer or setImmediate). */
  uncaught?: boolean;
  cause?: SerializedError;
  /** Further errors of one test (mocha's err.multiple: a test that failed more than once). */
  multiple?: SerializedError[];
  /** `name` was the error's own property (a class that assigns this.name), not its prototype's. */
  ownName?: boolean;
  /**
   * The error's other own properties besides name, message and stack, in their order. The fields above are
   * carried as such; any other value (`e.details = {n: 1}`, a pg error's `detail`, mocha's `timeout`) is here as
   * JSON data, the form in which mocha's json reporter would print it.
   */
  own?: string[];
  extra?: Record<string, unknown>;
}

/** The connection target a worker connects to; never printed, since it may carry a password. */
export interface ConnectionTarget {
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
}

/** Mocha options a worker applies to its per-file Mocha instance (all serialisable). */
export interface WorkerMochaOptions {
  ui: string;
  timeout: number;
  slow: number;
  retries: number;
  grep?: string;
  fgrep?: string;
  invert: boolean;
  bail: boolean;
  forbidPending: boolean;
  forbidOnly: boolean; // checked as each file loads to run: a .only the probe's text scan missed fails its file
  /** --exit: a closing worker does not wait for the late timers of the tests. */
  exit: boolean;
  asyncOnly: boolean;
  checkLeaks: boolean;
  fullTrace: boolean;
  /** --dry-run: every test is reported as passed without running it or any hook. */
  dryRun: boolean;
  globals: string[];
  /** Modules to load in every worker before its first spec (`--require`/`--import`); may export mochaHooks. */
  requires: string[];
  /** `--file`: absolute paths loaded before every spec file, in the same Mocha (root hooks, shared setup). */
  files: string[];
  /**
   * `--reporter-option maxDiffSize`: mocha turns a failure's actual and expected values into text as the test
   * fails, and values larger than this become "[object too large to diff]"; that happens in the worker.
   */
  maxDiffSize?: number;
}

/** Data every worker of one slot is created with; a replacement worker gets the same. */
export interface WorkerData {
  slot: number;
  root: string;
  /**
   * Register tsx before loading anything: some file of the run (spec, --require, --file, setup, config) is
   * TypeScript. Decided on the main thread for the whole run, so the order a worker meets files in does not matter.
   */
  typescript: boolean;
  /** A root hook plugin's beforeAll/afterAll: once per worker (first file, worker close) or once per file (mocha --parallel). */
  rootHooks: 'per-worker' | 'per-file';
  target: ConnectionTarget | null;
  /** Absolute path of bulkhead.config.* so the worker can import its hooks (onConnect, ...). */
  configFile: string | null;
  chaos: ChaosSpec | null;
  /** --transaction: every test inside BEGIN ... ROLLBACK. */
  transaction: boolean;
  /** --node-option: Node options for the slot's thread, already checked to be ones a thread takes. */
  nodeOptions: string[];
  mocha: WorkerMochaOptions;
  /** The directory of the mocha copy that runs the specs (the project's, else bulkhead's): see protocol/mochacopy.ts. */
  mochaPackage: string;
  /** A one-file copy of the project's mocha (src/run/mochabundle.ts), when an earlier run built one. */
  mochaBundle: string | null;
}

export type TaskMode = 'run' | 'collect';

export type ChaosFault = 'terminate' | 'drop' | 'delay';

/** --chaos: probabilities per query of a test body, and the seed that makes the hits reproducible. */
export interface ChaosSpec {
  seed: number;
  terminate: number;
  drop: number;
  delay: number;
  delayMs: number;
}

export interface RunTask {
  kind: 'run';
  file: string;
  mode: TaskMode;
  /** --shuffle: the seed for the order of tests inside this file's suites. */
  shuffleSeed?: number;
  /** Replay and bisect: run exactly these tests (full titles), in this order. */
  select?: string[];
  /**
   * The slot's environment (PGDATABASE, DATABASE_URL, PGOPTIONS, ...) and connection target, known only once the
   * slot is provisioned: threads start earlier, while the databases are being made, and apply these before they
   * load their first spec.
   */
  env: Record<string, string>;
  target: ConnectionTarget | null;
  /** The database the slot works in, for onWorkerStart({ db }). */
  database: string | null;
  /**
   * The slot's last connection generation the main thread has seen: a replacement thread's connections continue
   * from it, so generations keep increasing per slot when its thread is replaced.
   */
  lastGeneration: number;

  /** Set when .only is used somewhere in the run: files without .only then run nothing. */
  onlyMode: boolean;
  port: MessagePortLike;
}

/** 'late': the errors a closed worker's code raised since its close (taken as the run ends). */
export type CloseTask = { kind: 'close' } | { kind: 'late' };

export type Task = RunTask | CloseTask;

/** A MessagePort, typed loosely so this file stays free of node imports in consumers' type graphs. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
}

export interface SuiteInfo {
  id: string;
  parentId: string | null;
  title: string;
}

export interface TestInfo {
  id: string;
  suiteId: string;
  title: string;
  /** Title path from the outermost suite to the test itself. */
  titlePath: string[];
  pending: boolean;
  timeout: number;
  slow: number;
  /** test.retries() at load: -1 unless set (mocha's default), so reporters see the value serial mocha gives. */
  retries?: number;
  /** The line of the spec file that declared the test (workers/lines.ts), when the stack showed it. */
  line?: number;
}

export type HookType = 'before all' | 'before each' | 'after all' | 'after each';

export interface HookInfo {
  /** Mocha's hook title, such as `"before each" hook: setup for "does x"`. */
  title: string;
  type: HookType;
  suiteId: string;
  /** The test the hook ran for (each-hooks only). */
  testId?: string;
}

export type RebuildReason = 'db-error' | 'connection-error' | 'connection-ended' | 'in-transaction' | 'aborted-transaction' | 'timeout-during-query' | 'retry';

/** How the summary and the reporters name each reason. */
export const REASON_TEXT: Record<RebuildReason, string> = {
  'db-error': 'database error',
  'connection-error': 'connection error',
  'connection-ended': 'connection ended',
  'in-transaction': 'left a transaction open',
  'aborted-transaction': 'left an aborted transaction',
  'timeout-during-query': 'timed out during a query',
  retry: 'retried on a fresh connection',
};

export function describeReasons(reasons: readonly RebuildReason[]): string {
  return reasons.map((r) => REASON_TEXT[r]).join(', ');
}

export interface RebuildInfo {
  slot: number;
  /** Generation of the connection that was discarded (1 is the first connection of the slot). */
  generation: number;
  reasons: RebuildReason[];
  sqlstate?: string;
  message: string;
  /** What caused it: a test, a hook, or the end of a file. */
  culprit: { kind: 'test' | 'hook' | 'file'; title: string; testId?: string };
}

/** Why bulkhead ended a session the application opened itself (the reset rule for the application's connections). */
export type SessionReason = 'aborted-transaction' | 'in-transaction' | 'failed-test';

export const SESSION_REASON_TEXT: Record<SessionReason, string> = {
  'aborted-transaction': 'left an aborted transaction',
  'in-transaction': 'left a transaction open',
  'failed-test': 'ran statements in a test that failed with a database error',
};

/** One application session bulkhead ended server-side, reported like a rebuild. */
export interface EndedSession {
  slot: number;
  pid: number;
  applicationName: string;
  /** pg_stat_activity.state when it was judged: 'idle in transaction (aborted)', 'idle in transaction', 'idle'. */
  state: string;
  reasons: SessionReason[];
  /** A client that no pool manages, held across tests (a module-level pg.Client): its next query fails. */
  heldAcrossTests: boolean;
  /** The test (or hook, or the file's end) after which it was judged. */
  culprit: { kind: 'test' | 'hook' | 'file'; title: string; testId?: string };
}

/** Events a worker streams to the main thread while a file runs, in the order they happen. */
export type WorkerEvent =
  | { type: 'file:begin'; slot: number; threadId: number }
  | { type: 'file:loaded'; suites: SuiteInfo[]; tests: TestInfo[]; hasOnly: boolean }
  /**
   * `origin` is the root-relative file an async error came from when it is not the current one; `after` is the
   * full title of the test that had already ended when the error arrived (mocha fails such a test a second time).
   * Phase `outside`: an error no test or hook can be charged with (mocha's "Uncaught error outside test suite":
   * a top-level timer's throw or an unhandled rejection while no runnable runs); it fails the run.
   */
  | { type: 'file:error'; phase: 'load' | 'run' | 'async' | 'outside'; error: SerializedError; origin?: string; after?: string; title?: string }
  /** Why the file's runner stopped before its last test (bail, process.exit, an abort from the main thread). */
  | { type: 'file:stopped'; reason: string }
  | { type: 'suite:begin'; suiteId: string }
  | { type: 'suite:end'; suiteId: string }
  | { type: 'hook:begin'; hook: HookInfo; timeout: number }
  | { type: 'hook:end'; hook: HookInfo }
  | { type: 'hook:fail'; hook: HookInfo; error: SerializedError }
  | { type: 'test:begin'; testId: string; timeout: number; attempt: number }
  | { type: 'test:retry'; testId: string; attempt: number; duration: number; error: SerializedError; usedDatabase: boolean }
  | {
      type: 'test:end';
      testId: string;
      state: 'passed' | 'failed' | 'pending';
      duration: number;
      attempt: number;
      generation: number;
      /** The test's slow() threshold as it ended: `this.slow(n)` inside the test changes it after load. */
      slow?: number;
      error?: SerializedError;
    }
  | { type: 'connect'; slot: number; generation: number; pid: number }
  | { type: 'rebuild'; rebuild: RebuildInfo }
  /** db() found the server unavailable (restarting, starting, out of slots) and waits for it; once per outage. */
  | { type: 'server:waiting'; message: string }
  | { type: 'session:ended'; session: EndedSession }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'exit-called'; code: number; stack?: string }
  | { type: 'chaos'; fault: ChaosFault; title: string }
  /**
   * The running test or hook changed its timeout (`this.timeout(n)`; 0 is none): `current` is the runnable
   * running now, `test` the current test changed from one of its beforeEach hooks. The watchdog follows it.
   */
  | { type: 'timeout'; scope: 'current' | 'test'; timeout: number }
  /** The answer to a heartbeat: the worker's event loop is turning. */
  | { type: 'pong'; n: number };

/** Messages the main thread sends a running file over its port. */
export type ControlMessage = { type: 'abort'; reason: string } | { type: 'ping'; n: number } | { type: 'now' };

export interface RunResult {
  file: string;
  /** The worker asks to be replaced after this file (it called process.exit, or its state is unsafe). */
  recycle: boolean;
  generation: number;
}

export interface CloseResult {
  closed: boolean;
  generation: number;
  /** Async errors that surfaced after the worker's last file ended, with the file they are attributed to. */
  late: { origin: string | null; error: SerializedError; title?: string }[];
  /** Backend pids of the app's own clients still connected after the close (a module pool): leaks, needing no grace. */
  held: number[];
}

export const ENV_WORKER = 'BULKHEAD_WORKER';
