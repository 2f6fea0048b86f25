// --transaction: every test runs inside BEGIN ... ROLLBACK on the worker's connection, and the application's own
// BEGIN / COMMIT / ROLLBACK on that connection become savepoints (as in Django's TestCase), so committed-looking
// writes still vanish at the end of the test.
import type pg from 'pg';

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b[^;]*;?\s*$/i;
const COMMIT = /^\s*(COMMIT|END)\b[^;]*;?\s*$/i;
const ROLLBACK = /^\s*ROLLBACK\s*(WORK|TRANSACTION)?\s*;?\s*$/i;

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
    if (BEGIN.test(sql)) {
      s.depth += 1;
      return original(`SAVEPOINT bulkhead_${s.depth}`, ...rest);
    }
    if (s.depth > 0 && COMMIT.test(sql)) {
      const name = `bulkhead_${s.depth}`;
      s.depth -= 1;
      return original(`RELEASE SAVEPOINT ${name}`, ...rest);
    }
    if (s.depth > 0 && ROLLBACK.test(sql)) {
      const name = `bulkhead_${s.depth}`;
      s.depth -= 1;
      return original(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`, ...rest);
    }
    return original(...args);
  };
}

/** Opens the test's outer transaction on the connection (once per test). */
export async function beginScope(client: pg.Client): Promise<void> {
  if (scope !== null && scope.client === client) return;
  await client.query('BEGIN');
  scope = { client, depth: 0 };
}

export function inScope(): boolean {
  return scope !== null;
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
