// Every user-visible failure has one factory here, so messages stay consistent and codes stay stable.

export type ErrorCode =
  | 'ERR_BULKHEAD_USAGE'
  | 'ERR_BULKHEAD_CONFIG'
  | 'ERR_BULKHEAD_NO_FILES'
  | 'ERR_BULKHEAD_DB_UNREACHABLE'
  | 'ERR_BULKHEAD_REPORTER'
  | 'ERR_BULKHEAD_ONLY_FORBIDDEN'
  | 'ERR_BULKHEAD_FAIL_ZERO'
  | 'ERR_BULKHEAD_RECORD'
  | 'ERR_BULKHEAD_NOT_TEST_DATABASE'
  | 'ERR_BULKHEAD_NOT_OURS'
  | 'ERR_BULKHEAD_DATABASE_BUSY'
  | 'ERR_BULKHEAD_SETUP'
  | 'ERR_BULKHEAD_CAPACITY'
  | 'ERR_BULKHEAD_SERVER'
  | 'ERR_BULKHEAD_PROVISION'
  | 'ERR_BULKHEAD_EMBEDDED'
  | 'ERR_BULKHEAD_SHARD'
  | 'ERR_BULKHEAD_TIMINGS'
  | 'ERR_BULKHEAD_MOCHA';

/** Exit status the CLI uses for each class of error. */
export const EXIT = { ok: 0, failed: 1, usage: 2, database: 3, interrupted: 130 } as const;

export class BulkheadError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BulkheadError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.usage;
  }
}

export function isBulkheadError(err: unknown): err is BulkheadError {
  return err instanceof BulkheadError;
}

export const errors = {
  usage(message: string, cause?: unknown): BulkheadError {
    return new BulkheadError('ERR_BULKHEAD_USAGE', `${message} Run "bulkhead --help" for the list of options.`, { cause });
  },
  config(key: string, problem: string, fix: string, cause?: unknown): BulkheadError {
    return new BulkheadError('ERR_BULKHEAD_CONFIG', `Invalid configuration "${key}": ${problem}. ${fix}`, { cause });
  },
  configFile(file: string, cause: unknown): BulkheadError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new BulkheadError(
      'ERR_BULKHEAD_CONFIG',
      `Could not load the bulkhead config file ${file}: ${why}. Fix the file, or pass --no-config-file to ignore it.`,
      { cause },
    );
  },
  requireMissing(spec: string, flag: '--require' | '--import', root: string, cause?: unknown): BulkheadError {
    const key = flag.slice(2);
    const fix = /^\.|^\//.test(spec) || /^[a-zA-Z]:[\\/]/.test(spec)
      ? `Fix the path (relative paths are resolved from the project root ${root}) or remove the module from ${flag} / "${key}" in the mocha config`
      : `Install it (npm install --save-dev ${spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')}), fix the name, or remove it from ${flag} / "${key}" in the mocha config`;
    return new BulkheadError(
      'ERR_BULKHEAD_USAGE',
      `Cannot find the module "${spec}" given with ${flag} (or "${key}" in the mocha config). ${fix}. No test was run.`,
      { cause, exitCode: EXIT.usage },
    );
  },
  noFiles(patterns: readonly string[]): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NO_FILES',
      `No test files match ${patterns.map((p) => `"${p}"`).join(', ') || 'the configured spec'}. ` +
        'Pass spec files or globs on the command line, or set "spec" in .mocharc.*, and check "extension" and "ignore".',
      { exitCode: EXIT.usage },
    );
  },
  unreachable(where: string, cause: unknown): BulkheadError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new BulkheadError(
      'ERR_BULKHEAD_DB_UNREACHABLE',
      `Cannot connect to PostgreSQL at ${where}: ${why}. Check that the server is running and that the host, port, ` +
        'database, user and password in DATABASE_URL or PG* are right.',
      { cause, exitCode: EXIT.database },
    );
  },
  reporter(name: string, cause: unknown): BulkheadError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new BulkheadError(
      'ERR_BULKHEAD_REPORTER',
      `Cannot load reporter "${name}": ${why}. Use a built-in mocha reporter (spec, dot, list, tap, json, ` +
        'json-stream, min, progress, ...) or install the reporter package in this project.',
      { cause },
    );
  },
  onlyForbidden(files: readonly string[]): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_ONLY_FORBIDDEN',
      `.only is forbidden (--forbid-only) but is used in ${files.join(', ')}. Remove the .only calls or drop --forbid-only.`,
      { exitCode: EXIT.failed },
    );
  },
  failZero(filters: readonly string[]): BulkheadError {
    const by = filters.length > 0 ? `the spec files with ${filters.join(' and ')} selected none` : 'the spec files define none';
    return new BulkheadError(
      'ERR_BULKHEAD_FAIL_ZERO',
      `No test was found to run (--fail-zero): ${by}. Check the spec patterns and the filters, or drop --fail-zero.`,
      { exitCode: EXIT.failed },
    );
  },
  notTestDatabase(database: string): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NOT_TEST_DATABASE',
      `Refusing to set up isolation on database "${database}": its name does not contain "test", and bulkhead creates, ` +
        'changes and drops databases or schemas next to it. Point DATABASE_URL or PGDATABASE at a test database (one ' +
        'whose name contains "test"), or pass --allow-any-database if this database is really disposable.',
      { exitCode: EXIT.usage },
    );
  },
  notOurs(kind: 'database' | 'schema', name: string): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NOT_OURS',
      `The ${kind} "${name}" already exists but bulkhead did not create it (it has no "bulkhead:" marker comment), so ` +
        `bulkhead will neither drop nor reuse it. Rename or drop that ${kind} yourself if it is disposable, or point ` +
        'bulkhead at a database with another name.',
      { exitCode: EXIT.usage },
    );
  },
  templateBusy(database: string, sessions: string): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_DATABASE_BUSY',
      `Cannot copy database "${database}" for the workers: PostgreSQL copies a database only while no one else is ` +
        `connected to it, and it has ${sessions}. Close those sessions (an app server, psql, an IDE), or set "setup" ` +
        'so bulkhead builds its own template from your migrations, or use --isolation schema or shared.',
      { exitCode: EXIT.database },
    );
  },
  preparedBlocks(database: string, gids: readonly string[]): BulkheadError {
    const list = gids.map((g) => `'${g}'`).join(', ');
    return new BulkheadError(
      'ERR_BULKHEAD_DATABASE_BUSY',
      `Cannot copy or drop database "${database}": it holds ${gids.length === 1 ? 'a prepared transaction' : 'prepared transactions'} ` +
        `(PREPARE TRANSACTION ${list}) that no session finished, and PostgreSQL keeps the database in use until one does. ` +
        `Connect to "${database}" and run ROLLBACK PREPARED (or COMMIT PREPARED) for ${list}, then run again.`,
      { exitCode: EXIT.database },
    );
  },
  leftoverBusy(database: string, sessions: string): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_DATABASE_BUSY',
      `Cannot replace "${database}", left by an earlier bulkhead run, because it still has ${sessions}. Another ` +
        'bulkhead run against the same database may be in progress: wait for it, or close those sessions and retry.',
      { exitCode: EXIT.database },
    );
  },
  setupInvalid(setup: string, problem: string): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_SETUP',
      `Invalid setup "${setup}": ${problem}. Set "setup" to a .sql file, a directory of migrations (.sql, .js, .mjs or ` +
        '.ts files, applied in name order), or a module that exports setup(client).',
      { exitCode: EXIT.usage },
    );
  },
  setupFailed(where: string, cause: unknown): BulkheadError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new BulkheadError(
      'ERR_BULKHEAD_SETUP',
      `The setup failed in ${where}: ${why}. Fix the setup and run again; bulkhead dropped what it had half built, so ` +
        'the next run starts from scratch.',
      { cause, exitCode: EXIT.database },
    );
  },
  capacity(workers: number, needed: number, available: string, suggestion: number): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_CAPACITY',
      `${workers} workers need up to ${needed} connections (2 per worker: its connection and a short-lived reaper; 2 ` +
        `for bulkhead itself), but ${available}. Run with --workers ${suggestion} or fewer, or raise max_connections ` +
        'on the server; pools that your specs open themselves need room on top of that.',
      { exitCode: EXIT.database },
    );
  },
  provision(action: string, cause: unknown): BulkheadError {
    const why = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | null)?.code;
    const hint =
      code === '42501'
        ? ' The role needs the CREATEDB privilege (ALTER ROLE ... CREATEDB), or use --isolation schema or shared.'
        : ' Check the server log and the role\'s privileges, then run again.';
    return new BulkheadError('ERR_BULKHEAD_PROVISION', `Could not ${action}: ${why}.${hint}`, { cause, exitCode: EXIT.database });
  },
  /** capacity() for a server with room for one worker or none, where "--workers N or fewer" makes no sense. */
  capacityAtMostOne(workers: number, needed: number, available: string, fits: 0 | 1): BulkheadError {
    const fix =
      fits === 1
        ? 'Run with --workers 1, or raise max_connections on the server to run in parallel'
        : `Even one worker needs ${needed - 2 * (workers - 1)}: raise max_connections on the server (or the role's CONNECTION LIMIT), or close other sessions`;
    return new BulkheadError(
      'ERR_BULKHEAD_CAPACITY',
      `${workers} worker${workers === 1 ? '' : 's'} need${workers === 1 ? 's' : ''} up to ${needed} connections (2 per worker: its connection and a short-lived ` +
        `reaper; 2 for bulkhead itself), but ${available}. ${fix}; pools that your specs open themselves need room on top of that.`,
      { exitCode: EXIT.database },
    );
  },
  /** The project's mocha is a version bulkhead does not run (the message itself is shared with bulkhead/register). */
  mochaUnsupported(message: string): BulkheadError {
    return new BulkheadError('ERR_BULKHEAD_MOCHA', message);
  },
  /** The server failed bulkhead itself (not a test): out of connection slots, restarting, or gone. Never "internal". */
  server(why: string, code: string | undefined, cause?: unknown): BulkheadError {
    const fix =
      code === '53300'
        ? 'The server has no connection slot left: close other sessions, run with fewer --workers, or raise max_connections'
        : 'The server was starting, restarting or shutting down and did not come back in time: check it, then run again';
    return new BulkheadError('ERR_BULKHEAD_SERVER', `PostgreSQL failed bulkhead itself (not a test): ${why}${code !== undefined ? ` (${code})` : ''}. ${fix}.`, { cause, exitCode: EXIT.database });
  },
};
