// The reset rule in one place: every reason to discard a worker's connection is decided here.
import type { RebuildReason } from '../src/protocol/messages.js';

export interface DatabaseFault {
  kind: 'sql' | 'connection';
  sqlstate?: string;
  message: string;
}

export interface ConnectionSnapshot {
  /** The client emitted 'error' since it connected. */
  errored: Error | null;
  /** The client emitted 'end' (the socket closed). */
  ended: boolean;
  /** getTransactionStatus(): 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
  txStatus: string | null;
  /** A query is running on the connection right now. */
  queryActive: boolean;
}

export interface DiscardInput {
  /** The failure of the test or hook, when it failed. */
  error?: unknown;
  connection: ConnectionSnapshot | null;
  /** Decided at the end of a test (after its hooks), when the transaction state is meaningful. */
  atEnd: boolean;
  /**
   * Decided before a test, on what the previous test left: an aborted transaction or a broken connection is
   * discarded, an open one is not (a before-all hook may have begun it for the tests of its suite).
   */
  beforeTest?: boolean;
}

export interface DiscardDecision {
  reasons: RebuildReason[];
  fault?: DatabaseFault;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN', 'ECONNABORTED', 'EHOSTUNREACH']);
const CONNECTION_MESSAGES =
  /Connection terminated|not queryable|server closed the connection|Connection terminated unexpectedly|terminating connection|socket hang up|read ECONNRESET|write EPIPE|connection error|Client has already been connected/i;
const TIMEOUT_CODE = 'ERR_MOCHA_TIMEOUT';

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
      return { kind: 'sql', sqlstate: code, message };
    }
    if (connection === undefined && ((code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(message))) {
      connection = { kind: 'connection', message, ...(code !== undefined ? { sqlstate: code } : {}) };
    }
  }
  return connection;
}

function isTimeout(err: unknown): boolean {
  return isObject(err) && err['code'] === TIMEOUT_CODE;
}

/**
 * Decides whether the worker's connection must be discarded. An empty list keeps it: plain assertion
 * failures and database errors the test handled itself (it passed, and the connection is idle) cost nothing.
 */
export function shouldDiscard(input: DiscardInput): DiscardDecision {
  const reasons: RebuildReason[] = [];
  const conn = input.connection;
  let fault: DatabaseFault | undefined;
  if (input.error !== undefined) {
    fault = findDatabaseFault(input.error);
    if (fault?.kind === 'sql') reasons.push('db-error');
    if (fault?.kind === 'connection') reasons.push('connection-error');
    if (isTimeout(input.error) && conn?.queryActive) reasons.push('timeout-during-query');
  }
  if (conn !== null) {
    if (conn.errored !== null && !reasons.includes('connection-error')) {
      reasons.push('connection-error');
      fault ??= { kind: 'connection', message: conn.errored.message };
    }
    if (conn.ended && !reasons.includes('connection-error')) reasons.push('connection-ended');
    if ((input.atEnd || input.beforeTest === true) && conn.errored === null && !conn.ended) {
      if (conn.txStatus === 'T' && input.beforeTest !== true) reasons.push('in-transaction');
      if (conn.txStatus === 'E') reasons.push('aborted-transaction');
    }
  }
  return fault === undefined ? { reasons } : { reasons, fault };
}

export function describeReasons(reasons: readonly RebuildReason[]): string {
  const words: Record<RebuildReason, string> = {
    'db-error': 'database error',
    'connection-error': 'connection error',
    'connection-ended': 'connection ended',
    'in-transaction': 'left a transaction open',
    'aborted-transaction': 'left an aborted transaction',
    'timeout-during-query': 'timed out during a query',
    retry: 'retried on a fresh connection',
  };
  return reasons.map((r) => words[r]).join(', ');
}
