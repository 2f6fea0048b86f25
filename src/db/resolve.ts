// The database target named by the environment (DATABASE_URL > PG* variables), and the one way a target is
// described in messages: host:port/database as user, never with its password.
import { parse as parseConnectionString } from 'pg-connection-string';
import type { ConnectionTarget } from '../protocol/messages.js';
import { resolveUser, targetFromEnv } from '../protocol/target.js';
import { withUser } from './environment.js';

export interface ResolvedTarget {
  /** Passed to workers; null means "pg reads the PG* variables itself". */
  target: ConnectionTarget | null;
  source: 'DATABASE_URL' | 'PG*' | 'embedded';
  /** host:port/database as user, without the password: safe to print. */
  where: string;
}

/** The external target the environment names; the caller has checked that it names one. */
export function resolveTarget(env: NodeJS.ProcessEnv = process.env): ResolvedTarget {
  const named = targetFromEnv(env);
  // The user goes in explicitly, resolved as libpq does: pg would send none when USER is unset.
  const target = withUser(named, env);
  return { target, source: named === null ? 'PG*' : 'DATABASE_URL', where: where(target, env) };
}

/** host:port/database as user of a target, without its password, for messages. */
export function where(target: ConnectionTarget | null, env: NodeJS.ProcessEnv = process.env): string {
  let c: { host?: string | null; port?: string | number | null; database?: string | null; user?: string | null };
  try {
    c = target === null ? {} : target.connectionString === undefined ? target : parseConnectionString(target.connectionString);
  } catch {
    return 'DATABASE_URL (unparsable)';
  }
  // pg fills what the target leaves out from the PG* variables, as libpq does.
  // The user that is really sent: an empty one in a URL means "not given", as it does to pg.
  const user = (c.user !== null && c.user !== undefined && c.user !== '' ? c.user : undefined) ?? resolveUser(env) ?? '(none)';
  return `${c.host ?? env['PGHOST'] ?? env['PGHOSTADDR'] ?? 'localhost'}:${c.port ?? env['PGPORT'] ?? 5432}/${c.database ?? env['PGDATABASE'] ?? user} as ${user}`;
}
