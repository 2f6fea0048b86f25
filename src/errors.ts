// Every user-visible failure has one factory here, so messages stay consistent and codes stay stable.

export type ErrorCode =
  | 'ERR_BULKHEAD_USAGE'
  | 'ERR_BULKHEAD_CONFIG'
  | 'ERR_BULKHEAD_NO_FILES'
  | 'ERR_BULKHEAD_NO_DATABASE'
  | 'ERR_BULKHEAD_DB_UNREACHABLE'
  | 'ERR_BULKHEAD_REPORTER'
  | 'ERR_BULKHEAD_ONLY_FORBIDDEN'
  | 'ERR_BULKHEAD_NOT_IN_WORKER';

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
  noFiles(patterns: readonly string[]): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NO_FILES',
      `No test files match ${patterns.map((p) => `"${p}"`).join(', ') || 'the configured spec'}. ` +
        'Pass spec files or globs on the command line, or set "spec" in .mocharc.*, and check "extension" and "ignore".',
      { exitCode: EXIT.usage },
    );
  },
  noDatabase(): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NO_DATABASE',
      'No database is configured: set DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/test) or the ' +
        'standard PGHOST/PGPORT/PGDATABASE/PGUSER variables before running bulkhead.',
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
  notInWorker(): BulkheadError {
    return new BulkheadError(
      'ERR_BULKHEAD_NOT_IN_WORKER',
      'db() was called outside a bulkhead worker. Run the specs with the bulkhead CLI, or load the plugin in plain ' +
        'mocha with "--require bulkhead/register".',
    );
  },
};
