// Transaction helpers. They need a dedicated connection (a pg.Client, or a client checked out of a pool):
// BEGIN and COMMIT must travel on the same session.
import { SQLSTATE } from './errors.js';

const ISOLATION = new Set(['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']);

/**
 * Runs fn(client) between BEGIN and COMMIT. On any error it rolls back and rethrows, so the connection is idle
 * again (not stuck in an aborted transaction) whatever fn did.
 */
export async function withTransaction(client, fn, { isolation } = {}) {
  if (isolation !== undefined && !ISOLATION.has(isolation)) throw new TypeError(`unknown isolation level ${isolation}`);
  await client.query(isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${isolation}`);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // If the connection itself is gone the rollback fails too; the original error is the one worth reporting.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Errors after which running the whole transaction again can succeed. */
export function isRetryable(err) {
  return err?.code === SQLSTATE.serializationFailure || err?.code === SQLSTATE.deadlockDetected;
}

const defaultBackoff = (attempt) => Math.random() * Math.min(100, 5 * 2 ** attempt);

/**
 * Runs fn(client, attempt) in a SERIALIZABLE transaction, and again from the start after a serialization failure
 * (40001) or a deadlock (40P01), up to maxAttempts in all. PostgreSQL's documentation asks exactly this of
 * applications that use SERIALIZABLE: be ready to retry the whole transaction. Other errors are not retried.
 * onRetry(err, attempt) is called before each new attempt (for logs and metrics).
 */
export async function withSerializableRetry(client, fn, { maxAttempts = 5, onRetry, backoff = defaultBackoff } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(client, (c) => fn(c, attempt), { isolation: 'SERIALIZABLE' });
    } catch (err) {
      if (!isRetryable(err) || attempt >= maxAttempts) throw err;
      onRetry?.(err, attempt);
      const ms = backoff(attempt);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}
