// The reset rule in one place: every reason to discard a worker's connection is decided here.
import type { RebuildReason, SessionReason } from '../src/protocol/messages.js';
import { findDatabaseFault } from '../src/protocol/faults.js';
import type { DatabaseFault } from '../src/protocol/faults.js';

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

const TIMEOUT_CODE = 'ERR_MOCHA_TIMEOUT';

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === TIMEOUT_CODE;
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
      fault ??= { kind: 'connection', message: conn.errored.message, sessionLost: true };
    }
    if (conn.ended && !reasons.includes('connection-error')) reasons.push('connection-ended');
    if ((input.atEnd || input.beforeTest === true) && conn.errored === null && !conn.ended) {
      if (conn.txStatus === 'T' && input.beforeTest !== true) reasons.push('in-transaction');
      if (conn.txStatus === 'E') reasons.push('aborted-transaction');
    }
  }
  return fault === undefined ? { reasons } : { reasons, fault };
}

/**
 * One session the application opened itself, as pg_stat_activity showed it after a test, with the times its client
 * sent statements on the worker's clock (performance.now() ms).
 */
export interface AppSession {
  pid: number;
  state: string | null;
  applicationName: string;
  /** When its current transaction began (the last statement it sent outside one); null when unknown. */
  xactStart: number | null;
  /** When its last statement began. */
  queryStart: number | null;
}

export interface SessionContext {
  /** When the test began (before its beforeEach hooks); null when judged at the end of a file. */
  testStart: number | null;
  /**
   * The before-all windows of the suites that enclose the test: from the suite's start to its first test or inner
   * suite. A transaction begun inside one was begun by a before hook for the tests of that suite.
   */
  suiteWindows: readonly { from: number; to: number }[];
  /** The test or one of its hooks failed with a database or connection error. */
  failedWithDbError: boolean;
}

export interface SessionVerdict {
  pid: number;
  reasons: SessionReason[];
}

/**
 * The reset rule for the application's own sessions: which to end after a test. An aborted transaction can only fail
 * the next statement; an open one is ended unless a before hook of an enclosing suite began it (the exception db()
 * has); after a database failure every session that ran a statement during the test goes, with whatever session
 * state (settings, temporary tables, advisory locks) it may carry.
 */
export function judgeSessions(sessions: readonly AppSession[], ctx: SessionContext): SessionVerdict[] {
  const out: SessionVerdict[] = [];
  for (const s of sessions) {
    const reasons: SessionReason[] = [];
    if (s.state === 'idle in transaction (aborted)') reasons.push('aborted-transaction');
    if (s.state === 'idle in transaction' && !beganForSuite(s.xactStart, ctx)) reasons.push('in-transaction');
    if (ctx.failedWithDbError && ctx.testStart !== null && s.queryStart !== null && s.queryStart >= ctx.testStart) reasons.push('failed-test');
    if (reasons.length > 0) out.push({ pid: s.pid, reasons });
  }
  return out;
}

function beganForSuite(xactStart: number | null, ctx: SessionContext): boolean {
  return xactStart !== null && ctx.suiteWindows.some((w) => xactStart >= w.from && xactStart < w.to);
}
