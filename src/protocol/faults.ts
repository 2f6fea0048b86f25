// The one database-error classifier, for both threads: the reset rule (is this test's failure a database fault?)
// and the maintenance session (is the session itself gone, so reconnect?) read errors the same way.

export interface DatabaseFault {
  /** A server error with a SQLSTATE, or a connection that broke (socket, protocol). */
  kind: 'sql' | 'connection';
  /** The SQLSTATE, or the Node/system code of a connection fault. */
  sqlstate?: string;
  message: string;
  /** The session cannot be used again: the socket broke, or the server ended it (08xxx, 57P01-57P03). */
  sessionLost: boolean;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Server errors after which the server closes the session itself. */
const SESSION_ENDING_SQLSTATE = /^(08|57P0[1-3])/;
const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENOTFOUND']);
const CONNECTION_MESSAGES =
  /Connection terminated|not queryable|server closed the connection|terminating connection|socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|connection error|Client has already been connected|socket has been ended/i;

/** Wrapped errors hide the driver's error under these keys (Error cause, knex/sequelize/TypeORM/Prisma wrappers). */
const NESTED_KEYS = ['cause', 'original', 'parent', 'originalError', 'driverError', 'error', 'inner'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function* errorChain(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 32) {
    const next = queue.shift();
    if (!isObject(next) || seen.has(next)) continue;
    seen.add(next);
    yield next;
    for (const key of NESTED_KEYS) queue.push(next[key]);
    if (Array.isArray(next['errors'])) queue.push(...(next['errors'] as unknown[]));
  }
}

/** Finds a database error anywhere in an error's cause chain: a server error with a SQLSTATE, or a broken connection. */
export function findDatabaseFault(err: unknown): DatabaseFault | undefined {
  let connection: DatabaseFault | undefined;
  for (const e of errorChain(err)) {
    const code = typeof e['code'] === 'string' ? e['code'] : undefined;
    const message = typeof e['message'] === 'string' ? e['message'] : String(e);
    // A server error carries both a SQLSTATE and the protocol's severity field; a bare 5-char code is not enough.
    if (code !== undefined && SQLSTATE.test(code) && (typeof e['severity'] === 'string' || e['name'] === 'error')) {
      return { kind: 'sql', sqlstate: code, message, sessionLost: SESSION_ENDING_SQLSTATE.test(code) };
    }
    if (connection === undefined && ((code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(message))) {
      connection = { kind: 'connection', message, sessionLost: true, ...(code !== undefined ? { sqlstate: code } : {}) };
    }
  }
  return connection;
}

/** The session itself is gone (rather than a statement that failed on a healthy session): open a new one. */
export function isConnectionError(err: unknown): boolean {
  return findDatabaseFault(err)?.sessionLost === true;
}

/*
 * A server that cannot take a session right now but will shortly: starting up or shutting down (57P03), out of
 * connection slots (53300), refusing or dropping connections while it restarts. `refused` false leaves out the
 * refused connection: before a server was ever reached, nothing says it is coming.
 */
const UNAVAILABLE_SQLSTATE = new Set(['57P03', '53300']);
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

export function isServerUnavailable(err: unknown, refused = true): boolean {
  const fault = findDatabaseFault(err);
  if (fault === undefined) return false;
  if (fault.kind === 'sql') return UNAVAILABLE_SQLSTATE.has(fault.sqlstate ?? '');
  return refused && (fault.sqlstate === undefined || UNAVAILABLE_CODES.has(fault.sqlstate));
}

/** How long opening a session waits for an unavailable server before its error stands. */
export const SERVER_WAIT_MS = 10000;

/**
 * Opens a session, waiting with backoff (50 ms doubling to 1 s) while the server is unavailable, up to `budgetMs`
 * in all; `onWait` is told of the first wait, `stop()` true ends the waiting early (the caller is closing).
 */
export async function whenAvailable<T>(open: () => Promise<T>, o: { budgetMs?: number; refused?: boolean; onWait?: (err: unknown) => void; stop?: () => boolean } = {}): Promise<T> {
  const deadline = Date.now() + (o.budgetMs ?? SERVER_WAIT_MS);
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await open();
    } catch (err) {
      if (!isServerUnavailable(err, o.refused ?? true) || Date.now() + delay > deadline || o.stop?.() === true) throw err;
      if (delay === 50) o.onWait?.(err);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
