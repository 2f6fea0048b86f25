// The savepoint translation of --transaction, as pure functions of the SQL text and the savepoint depth: the
// application's BEGIN / COMMIT / ROLLBACK inside a test's transaction become SAVEPOINT / RELEASE / ROLLBACK TO, one
// level per open BEGIN (bulkhead_1, bulkhead_2, ...). transaction.ts applies it to a connection.
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
export const NOTHING = 'SELECT WHERE false';

export interface Translated {
  /** What is sent instead. */
  sql: string;
  /** The savepoint depth once it has run. */
  depth: number;
  /**
   * A COMMIT: `sql` releases its savepoint. PostgreSQL ends a failed transaction on COMMIT by rolling it back,
   * without an error, so when the server refuses the release (25P02: the level failed) this is sent instead.
   */
  ifFailed?: string;
}

/** One statement at savepoint depth `depth`; null when it is no transaction control (it is sent as written). */
export function translateStatement(sql: string, depth: number): Translated | null {
  if (BEGIN.test(sql)) return { sql: `SAVEPOINT bulkhead_${depth + 1}`, depth: depth + 1 };
  const commit = COMMIT.test(sql);
  if (!commit && !ROLLBACK.test(sql)) return null;
  if (depth === 0) return { sql: NOTHING, depth };
  const name = `bulkhead_${depth}`;
  // AND CHAIN starts the next transaction at once: the savepoint level stays open.
  const chain = CHAIN.test(sql);
  const after = chain ? depth : depth - 1;
  const rollback = `ROLLBACK TO SAVEPOINT ${name}${chain ? '' : `; RELEASE SAVEPOINT ${name}`}`;
  if (!commit) return { sql: rollback, depth: after };
  return { sql: `RELEASE SAVEPOINT ${name}${chain ? `; SAVEPOINT ${name}` : ''}`, depth: after, ifFailed: rollback };
}

export interface TranslatedString {
  sql: string;
  /** The depth once every statement has run. */
  depth: number;
  /**
   * The depth when the string fails: the server skips the rest of it, so what it reached is at most its last
   * BEGIN (the depth before it when it has none), and the application's ROLLBACK then undoes that level.
   */
  onFailure: number;
}

/**
 * Several statements in one query string (null when it holds one) run as one simple-protocol message: a failure
 * skips the rest, so a COMMIT that is reached had nothing failed before it and becomes a plain release.
 */
export function translateStatements(sql: string, depth: number): TranslatedString | null {
  const statements = splitStatements(sql);
  if (statements === null) return null;
  let at = depth;
  let onFailure = depth;
  const out = statements.map((statement) => {
    const t = translateStatement(statement, at);
    if (t === null) return statement;
    if (t.depth > at) onFailure = t.depth;
    at = t.depth;
    return t.sql;
  });
  return { sql: out.join(';\n'), depth: at, onFailure };
}
