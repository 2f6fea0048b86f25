// --transaction: every test runs inside BEGIN ... ROLLBACK on the worker's connection, and the application's own
// BEGIN / COMMIT / ROLLBACK on that connection become savepoints (as in Django's TestCase), so committed-looking
// writes still vanish at the end of the test.
import type pg from 'pg';
import { splitStatements } from './statements.js';

// Leading comments are skipped: "/* app */ BEGIN" is still the application's BEGIN.
const LEAD = String.raw`^(?:\s|--[^\n]*(?:\n|$)|/\*[\s\S]*?\*/)*`;
const BEGIN = new RegExp(`${LEAD}(BEGIN|START\\s+TRANSACTION)\\b[^;]*;?\\s*$`, 'i');
// Not COMMIT PREPARED / ROLLBACK PREPARED (two-phase commit), which are no transaction control of this session.
const END = String.raw`(\s+(WORK|TRANSACTION))?(\s+AND\s+(NO\s+)?CHAIN)?\s*;?\s*$`;
const COMMIT = new RegExp(`${LEAD}(COMMIT|END)${END}`, 'i');
const ROLLBACK = new RegExp(`${LEAD}(ROLLBACK|ABORT)${END}`, 'i');
const CHAIN = /\bAND\s+CHAIN\s*;?\s*$/i;
/*
 * What a COMMIT or ROLLBACK without the application's own BEGIN becomes: PostgreSQL answers one outside a
 * transaction with a warning and does nothing, so it must not end the test's transaction either (a defensive
 * ROLLBACK in a beforeEach would otherwise let every later write of the test outlive it).
 */
const NOTHING = 'SELECT WHERE false';

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
    const several = splitStatements(sql);
    if (several !== null) {
      const { sql: translated, onFailure } = translateEach(s, several);
      return settle(original, [translated, ...rest], () => {
        if (scope === s) s.depth = onFailure;
      });
    }
    if (BEGIN.test(sql)) {
      s.depth += 1;
      return original(`SAVEPOINT bulkhead_${s.depth}`, ...rest);
    }
    const commit = COMMIT.test(sql);
    if (!commit && !ROLLBACK.test(sql)) return original(...args);
    if (s.depth === 0) return original(NOTHING, ...rest);
    const name = `bulkhead_${s.depth}`;
    // AND CHAIN starts the next transaction at once: the savepoint level stays open.
    const chain = CHAIN.test(sql);
    if (!chain) s.depth -= 1;
    const rollback = `ROLLBACK TO SAVEPOINT ${name}${chain ? '' : `; RELEASE SAVEPOINT ${name}`}`;
    if (!commit) return original(rollback, ...rest);
    // PostgreSQL ends a failed transaction on COMMIT by rolling it back, without an error: so does its savepoint.
    // Whether it failed is only known once the server answers (pg settles a failed query before it reads the
    // transaction status that follows), so the release is tried first and refused (25P02) when it did.
    const release = `RELEASE SAVEPOINT ${name}${chain ? `; SAVEPOINT ${name}` : ''}`;
    const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as (err: unknown, res?: unknown) => void) : null;
    const done = (original(release, ...rest) as Promise<unknown>).catch((err: unknown) => {
      if ((err as { code?: unknown } | null)?.code !== '25P02') throw err;
      return original(rollback, ...rest) as Promise<unknown>;
    });
    if (callback === null) return done;
    done.then((res) => callback(null, res), (err: unknown) => callback(err));
    return undefined;
  };
}

/**
 * Several statements in one query string run as one simple-protocol message: a failure skips the rest, so a
 * COMMIT that is reached had nothing failed before it and becomes a plain release of its savepoint.
 */
function translateEach(s: Scope, statements: readonly string[]): { sql: string; onFailure: number } {
  // The depth assumes every statement runs. When one fails the server skips the rest: what the string reached is
  // at most its last BEGIN, so that is the depth to fall back to (the application's ROLLBACK then undoes it).
  let onFailure = s.depth;
  const sql = statements
    .map((sql) => {
      if (BEGIN.test(sql)) {
        s.depth += 1;
        onFailure = s.depth;
        return `SAVEPOINT bulkhead_${s.depth}`;
      }
      const commit = COMMIT.test(sql);
      if (!commit && !ROLLBACK.test(sql)) return sql;
      if (s.depth === 0) return NOTHING;
      const name = `bulkhead_${s.depth}`;
      const chain = CHAIN.test(sql);
      if (!chain) s.depth -= 1;
      if (commit) return `RELEASE SAVEPOINT ${name}${chain ? `; SAVEPOINT ${name}` : ''}`;
      return `ROLLBACK TO SAVEPOINT ${name}${chain ? '' : `; RELEASE SAVEPOINT ${name}`}`;
    })
    .join(';\n');
  return { sql, onFailure };
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
