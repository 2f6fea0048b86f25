// --transaction: every test runs inside BEGIN ... ROLLBACK on the worker's connection, and the application's own
// BEGIN / COMMIT / ROLLBACK on that connection become savepoints (as in Django's TestCase), so committed-looking
// writes still vanish at the end of the test.
import type pg from 'pg';
import { translateStatement, translateStatements } from './savepoints.js';

interface Scope {
  client: pg.Client;
  depth: number;
}

let scope: Scope | null = null;

type Query = (...args: unknown[]) => unknown;

function text(arg: unknown): string | null {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { text?: unknown }).text === 'string') return (arg as { text: string }).text;
  return null;
}

/** Installs the savepoint translation on a connection; it is active only while a test scope is open on it. */
export function wrapForTransactions(client: pg.Client): void {
  const original = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (...args: unknown[]): unknown => {
    const s = scope;
    const sql = text(args[0]);
    if (s === null || s.client !== client || sql === null) return original(...args);
    const rest = args.slice(1);
    const several = translateStatements(sql, s.depth);
    if (several !== null) {
      s.depth = several.depth;
      return settle(original, [several.sql, ...rest], () => {
        if (scope === s) s.depth = several.onFailure;
      });
    }
    const one = translateStatement(sql, s.depth);
    if (one === null) return original(...args);
    s.depth = one.depth;
    const ifFailed = one.ifFailed;
    if (ifFailed === undefined) return original(one.sql, ...rest);
    // Whether the level failed is only known once the server answers (pg settles a failed query before it reads
    // the transaction status that follows), so the release is tried first and refused (25P02) when it did.
    const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as (err: unknown, res?: unknown) => void) : null;
    const done = (original(one.sql, ...rest) as Promise<unknown>).catch((err: unknown) => {
      if ((err as { code?: unknown } | null)?.code !== '25P02') throw err;
      return original(ifFailed, ...rest) as Promise<unknown>;
    });
    if (callback === null) return done;
    done.then((res) => callback(null, res), (err: unknown) => callback(err));
    return undefined;
  };
}

/** Runs the query (promise or callback style) and calls `failed` when it fails, before the caller hears of it. */
function settle(original: Query, args: unknown[], failed: () => void): unknown {
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    const callback = last as (err: unknown, res?: unknown) => void;
    return original(...args.slice(0, -1), (err: unknown, res?: unknown) => {
      if (err) failed();
      callback(err, res);
    });
  }
  return (original(...args) as Promise<unknown>).catch((err: unknown) => {
    failed();
    throw err;
  });
}

/** Opens the test's outer transaction on the connection (once per test). */
export async function beginScope(client: pg.Client): Promise<void> {
  if (scope !== null && scope.client === client) return;
  await client.query('BEGIN');
  scope = { client, depth: 0 };
}

/** Rolls the test's work back; a connection that cannot roll back is left to the reset rule. */
export async function endScope(): Promise<void> {
  const s = scope;
  scope = null;
  if (s === null) return;
  await s.client.query('ROLLBACK').catch(() => undefined);
}

/** The connection is gone (discarded): its transaction went with it. */
export function dropScope(client: pg.Client): void {
  if (scope?.client === client) scope = null;
}
