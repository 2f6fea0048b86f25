// The option tables: every flag is declared once, with its names, the kind of value it takes, the commands it
// belongs to and its help line. flags.ts parses bulkhead's own flags from BULKHEAD_OPTIONS, help.ts prints --help
// from both tables, and mochaargs.ts takes its examples from MOCHA_OPTIONS (mocha's own metadata says which of
// mocha's flags take a value).

export type Command = 'run' | 'replay' | 'bisect' | 'list' | 'merge' | 'report';

const ALL: readonly Command[] = ['run', 'replay', 'bisect'];

export type OptionGroup = 'Workers and databases' | 'Flaky failures' | 'Shards' | 'Other';

export interface BulkheadOption {
  /** The field of BulkheadFlags it sets. */
  key: string;
  /** Every name it answers to, in the order --help shows them. */
  names: readonly string[];
  /**
   * boolean: no value; value: `--flag value`, `--flag=value` or, for a short name, `-w4` / `-w=4`;
   * optional: a value only with `=` (`--shuffle=42`), so a following spec argument is never taken for one.
   */
  kind: 'boolean' | 'value' | 'optional';
  /** How --help shows the value: `<n>`, `[=seed]`. */
  arg?: string;
  /** A value for the "needs a value" error. */
  example?: string;
  /** The commands that read it; --help names them when the flag is not for plain runs. */
  commands: readonly Command[];
  group: OptionGroup;
  help: string;
}

export const BULKHEAD_OPTIONS = [
  { key: 'workers', names: ['-w', '--workers', '-j', '--jobs'], kind: 'value', arg: '<n>', example: '4', commands: ['run'], group: 'Workers and databases', help: 'worker threads (default: available parallelism; env BULKHEAD_WORKERS)' },
  { key: 'embedded', names: ['--embedded'], kind: 'boolean', commands: ALL, group: 'Workers and databases', help: 'start a throwaway PostgreSQL even if DATABASE_URL/PG* are set' },
  { key: 'embeddedLinger', names: ['--embedded-linger'], kind: 'value', arg: '<seconds>', example: '60', commands: ALL, group: 'Workers and databases', help: 'keep the embedded PostgreSQL this long after a run that ended normally, for the next run to reuse (default: 60, 0 with CI set; 0: stop it at once; env BULKHEAD_EMBEDDED_LINGER)' },
  { key: 'isolation', names: ['--isolation'], kind: 'value', arg: '<mode>', example: 'database', commands: ALL, group: 'Workers and databases', help: 'database (default with 2+ workers), schema, or shared (env BULKHEAD_ISOLATION)' },
  { key: 'transaction', names: ['--transaction'], kind: 'boolean', commands: ALL, group: 'Workers and databases', help: 'run each test inside BEGIN ... ROLLBACK' },
  { key: 'setup', names: ['--setup'], kind: 'value', arg: '<path>', example: './migrations', commands: ALL, group: 'Workers and databases', help: '.sql file, migrations directory or module that builds the template' },
  { key: 'keepDatabases', names: ['--keep-databases'], kind: 'boolean', commands: ALL, group: 'Workers and databases', help: 'keep the per-worker databases after the run' },
  { key: 'allowAnyDatabase', names: ['--allow-any-database'], kind: 'boolean', commands: ALL, group: 'Workers and databases', help: 'allow setup/isolation on a database without "test" in its name' },
  { key: 'shutdownGrace', names: ['--shutdown-grace'], kind: 'value', arg: '<ms>', example: '3000', commands: ALL, group: 'Workers and databases', help: 'after the first Ctrl-C or SIGTERM, the running tests get this long to finish before they are stopped as a second signal would (default: 3000)' },
  { key: 'loadTimeout', names: ['--load-timeout'], kind: 'value', arg: '<ms>', example: '30000', commands: ALL, group: 'Workers and databases', help: 'fail a spec file that has not loaded after this long, replacing its worker (default: 30000, or --timeout if larger; 0: no limit)' },
  { key: 'shuffle', names: ['--shuffle'], kind: 'optional', arg: '[=seed]', commands: ['run'], group: 'Flaky failures', help: 'random, seeded order of files and tests (the seed is printed and recorded)' },
  { key: 'repeat', names: ['--repeat'], kind: 'value', arg: '<n>', example: '10', commands: ['run'], group: 'Flaky failures', help: 'run each selected test n times' },
  { key: 'untilFail', names: ['--until-fail'], kind: 'optional', arg: '[=max]', commands: ['run'], group: 'Flaky failures', help: 'repeat the whole selection until the first failure (default max 100)' },
  { key: 'failOnFlaky', names: ['--fail-on-flaky'], kind: 'boolean', commands: ALL, group: 'Flaky failures', help: 'fail the run when a test passed only on a retry' },
  { key: 'record', names: ['--record'], kind: 'value', arg: '<file>', example: 'run.json', commands: ['run', 'replay', 'merge'], group: 'Flaky failures', help: 'also write the run record here (.bulkhead/last-run.json is always written; merge: the combined record)' },
  { key: 'lastFailed', names: ['--last-failed'], kind: 'boolean', commands: ['run'], group: 'Flaky failures', help: 'run only the tests that failed in the last run' },
  { key: 'chaos', names: ['--chaos'], kind: 'value', arg: '<spec>', example: 'terminate=0.05,drop=0.02', commands: ALL, group: 'Flaky failures', help: 'inject faults: terminate=P,drop=P,delay=P,delay-ms=N,seed=N (P per query)' },
  { key: 'test', names: ['--test'], kind: 'value', arg: '"<full title>"', example: '"suite name test name"', commands: ['bisect'], group: 'Flaky failures', help: 'the test that fails' },
  { key: 'pair', names: ['--pair'], kind: 'boolean', commands: ['bisect'], group: 'Flaky failures', help: 'look for a single culprit (fastest)' },
  { key: 'shard', names: ['--shard'], kind: 'value', arg: '<i/n>', example: '2/3', commands: ['run', 'list'], group: 'Shards', help: 'run the i-th of n duration-balanced shares of the files (env BULKHEAD_SHARD, or the CI engine\'s parallel-job variables)' },
  { key: 'timings', names: ['--timings'], kind: 'value', arg: '<file>', example: 'timings.json', commands: ['run', 'list', 'merge'], group: 'Shards', help: 'seconds per spec file, { "<path>": s }, to balance shards and order files (default: .bulkhead/timings.json); merge writes it' },
  { key: 'json', names: ['--json'], kind: 'boolean', commands: ['list'], group: 'Shards', help: 'print the planned files with their recorded seconds as JSON' },
  { key: 'configFile', names: ['--config-file'], kind: 'value', arg: '<path>', example: 'bulkhead.config.js', commands: [...ALL, 'list'], group: 'Other', help: 'bulkhead config file (default: bulkhead.config.{ts,mts,js,mjs,cjs,json})' },
  { key: 'noConfigFile', names: ['--no-config-file'], kind: 'boolean', commands: [...ALL, 'list'], group: 'Other', help: 'ignore bulkhead.config.*' },
  { key: 'html', names: ['--html'], kind: 'value', arg: '<file>', example: 'reports/run.html', commands: [...ALL, 'report'], group: 'Other', help: 'write the HTML report of the run (a timeline per worker, failures, filters; no network) to this file; report: where to write it (default .bulkhead/report.html)' },
  { key: 'trace', names: ['--trace'], kind: 'value', arg: '<file>', example: 'reports/trace.json', commands: [...ALL, 'report'], group: 'Other', help: 'write the timeline as Chrome trace events (Perfetto, chrome://tracing) to this file' },
  { key: 'progress', names: ['--progress'], kind: 'value', arg: '<mode>', example: 'plain', commands: ALL, group: 'Other', help: 'progress on stderr: auto (default: drawn in place on a terminal, else a plain line every 30 s), live, plain (a line per finished file) or off' },
  { key: 'verbose', names: ['--verbose'], kind: 'boolean', commands: ALL, group: 'Other', help: 'print phase timings, provisioning times and per-worker details' },
  { key: 'help', names: ['-h', '--help'], kind: 'boolean', commands: [...ALL, 'list', 'merge', 'report'], group: 'Other', help: 'show this help' },
  { key: 'version', names: ['-V', '--version'], kind: 'boolean', commands: ALL, group: 'Other', help: 'print the version' },
] as const satisfies readonly BulkheadOption[];

type Option = (typeof BULKHEAD_OPTIONS)[number];
type KeyOf<K extends BulkheadOption['kind']> = Extract<Option, { kind: K }>['key'];

/** What the command line said, before validation: values stay strings (config/load.ts checks and converts them). */
export type BulkheadFlags = {
  command: Command;
  /** The record file for replay and bisect. */
  recordArg?: string;
} & { [K in KeyOf<'boolean'>]: boolean } & { [K in KeyOf<'value'>]?: string } & {
  /** Given without a value: null (--shuffle draws a fresh seed, --until-fail takes the default maximum). */
  [K in KeyOf<'optional'>]?: string | null;
};

export interface MochaOption {
  /** As --help shows it: `-t, --timeout <ms|2s>`. */
  usage: string;
  /** --help packs the options of one topic on a line (or a few). */
  topic?: 'config' | 'files' | 'tests' | 'modules' | 'output' | 'leaks';
  /** Every name mocha's loader reads for it, without dashes; the first is the one mocha's metadata uses. */
  names: readonly string[];
  /** A value for the "needs a value" error (mocha's metadata says which options take one). */
  example?: string;
  /** Printed after the option, in parentheses, ending its line of --help. */
  note?: string;
  /** A help line of its own, in the column of bulkhead's options. */
  help?: string;
  /** Not supported: a usage error (config/load.ts) that ends with this fix. */
  unsupported?: string;
}

/** mocha's options, as bulkhead reads them (through mocha's own loader), in the order --help lists them. */
export const MOCHA_OPTIONS: readonly MochaOption[] = [
  { usage: '--config <path>', topic: 'config', names: ['config'], example: '.mocharc.yml' },
  { usage: '--package <path>', topic: 'config', names: ['package'], example: './package.json' },
  { usage: '--no-config', topic: 'config', names: ['no-config'] },
  { usage: '--no-package', topic: 'config', names: ['no-package'] },
  { usage: '--spec <glob>', topic: 'files', names: ['spec'], example: "'test/**/*.spec.js'" },
  { usage: '--file <setup file>', topic: 'files', names: ['file'], example: './test/setup.js' },
  { usage: '--extension <ext>', topic: 'files', names: ['extension'], example: 'ts' },
  { usage: '--ignore <glob>', topic: 'files', names: ['ignore', 'exclude'], example: "'test/fixtures/**'" },
  { usage: '--recursive', topic: 'files', names: ['recursive'] },
  { usage: '--sort', topic: 'files', names: ['sort'] },
  { usage: '-t, --timeout <ms|2s>', topic: 'tests', names: ['timeout', 't', 'timeouts'], example: '5000' },
  { usage: '--no-timeouts', topic: 'tests', names: ['no-timeouts'] },
  { usage: '-s, --slow <ms|1s>', topic: 'tests', names: ['slow', 's'], example: '200' },
  { usage: '--retries <n>', topic: 'tests', names: ['retries'], example: '2' },
  { usage: '-g, --grep <re>', topic: 'tests', names: ['grep', 'g'], example: 'pattern' },
  { usage: '-f, --fgrep <s>', topic: 'tests', names: ['fgrep', 'f'], example: 'text' },
  { usage: '-i, --invert', topic: 'tests', names: ['invert', 'i'] },
  { usage: '-b, --bail', topic: 'tests', names: ['bail', 'b'] },
  { usage: '--forbid-only', topic: 'tests', names: ['forbid-only'] },
  { usage: '--forbid-pending', topic: 'tests', names: ['forbid-pending'] },
  { usage: '-u, --ui <bdd|tdd>', topic: 'tests', names: ['ui', 'u'], example: 'tdd' },
  { usage: '-r, --require <mod>', topic: 'modules', names: ['require', 'r'], example: './test/setup.js' },
  { usage: '--import <mod>', topic: 'modules', names: ['import'], example: 'tsx', note: 'resolved from the project root; a missing one is an error' },
  { usage: '-R, --reporter <name[:file]>', names: ['reporter', 'R'], example: 'dot', help: 'a reporter, repeatable, each to stdout or its own file: --reporter spec --reporter junit:reports/junit.xml (junit: bulkhead\'s own JUnit XML)' },
  { usage: '-O, --reporter-option <k=v>', topic: 'output', names: ['reporter-option', 'reporter-options', 'O'], example: 'key=value' },
  { usage: '--exit', topic: 'output', names: ['exit'] },
  { usage: '-A, --async-only', topic: 'output', names: ['async-only', 'A'] },
  { usage: '--full-trace', topic: 'output', names: ['full-trace'] },
  { usage: '--check-leaks', topic: 'leaks', names: ['check-leaks'] },
  { usage: '--global <name>', topic: 'leaks', names: ['global', 'globals'], example: 'myGlobal', note: 'repeatable, alias --globals, wildcards: my*' },
  { usage: '--dry-run', names: ['dry-run'], help: 'report the tests as passed without running tests or hooks (no database used)' },
  { usage: '--fail-zero', names: ['fail-zero'], help: 'exit 1 when no test was found to run' },
  { usage: '-c, --color / -C, --no-colors', names: ['color', 'colors', 'c'], help: 'force colour on, or off, in the reporters\' output (without either: off when NO_COLOR is set, else mocha decides)' },
  { usage: '-n, --node-option <opt[=v]>', names: ['node-option', 'n'], example: 'enable-source-maps', help: 'a Node option (no leading --) for every worker thread; one a thread cannot take (max-old-space-size, expose-gc) is refused: set it with NODE_OPTIONS' },
  { usage: '--list-reporters', names: ['list-reporters'], help: "print mocha's reporters and exit (--list-interfaces: its interfaces)" },
  { usage: '-p, --parallel', names: ['parallel', 'p'], help: 'accepted and ignored: files always run in parallel (.mocharc "jobs" sets the default --workers)' },
  { usage: '--posix-exit-codes', names: ['posix-exit-codes'], help: 'accepted: bulkhead never exits with a failure count (see the exit codes below)' },
  { usage: '--allow-uncaught', names: ['allow-uncaught'], unsupported: 'Remove it: a worker contains an uncaught error and reports it against the file whose code raised it.' },
  { usage: '--fail-hook-affected-tests', names: ['fail-hook-affected-tests'], unsupported: 'Remove it; the tests a failing hook stops are listed under "not run" in the summary.' },
  { usage: '--pass-on-failing-test-suite', names: ['pass-on-failing-test-suite'], unsupported: 'Remove it; bulkhead exits 1 when a test fails.' },
  { usage: '--watch', names: ['watch'], unsupported: 'Run bulkhead again after a change (or use a file watcher such as nodemon around it).' },
  // mocha's --delay waits for the specs to call run(); here every file has a Mocha of its own, so there is no one
  // root suite to delay, and waiting would hang.
  {
    usage: '--delay',
    names: ['delay'],
    unsupported: 'Remove it (and the run() call in the spec files); do the asynchronous setup in a before() hook or in a --require root hook plugin (mochaHooks.beforeAll), or export mochaGlobalSetup from a --require module.',
  },
];
