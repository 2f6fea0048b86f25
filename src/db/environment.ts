// The connection environment a piece of user code is given: DATABASE_URL and the PG* variables, all describing one
// database, so a pool the application builds from its environment (pg, knex, an ORM) lands where db() does.
import { parse as parseConnectionString } from 'pg-connection-string';
import type { ConnectionTarget } from '../protocol/messages.js';
import { resolveUser } from '../protocol/target.js';

/** A target with every field pg would otherwise fill from the environment or its defaults. */
interface Resolved {
  host: string;
  port: string;
  user: string | undefined;
  password: string | undefined;
  database: string;
  /** A URL target's query (sslmode, options, ...), kept in the DATABASE_URL written for it. */
  query: string;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** The fields pg would connect with, resolved the way pg does (the target, then PG*, then defaults; user as libpq). */
function resolve(target: ConnectionTarget | null, env: NodeJS.ProcessEnv): Resolved {
  let own: Record<string, unknown> = {};
  let query = '';
  const cs = target?.connectionString;
  if (cs !== undefined) {
    own = { ...parseConnectionString(cs) };
    if (/^postgres(ql)?:/i.test(cs)) query = new URL(cs).search;
  }
  const field = (key: 'host' | 'port' | 'user' | 'password' | 'database', variable: string): string | undefined =>
    text(own[key]) ?? text(target?.[key]) ?? text(env[variable]);
  const user = field('user', 'PGUSER') ?? resolveUser(env);
  return {
    host: field('host', 'PGHOST') ?? 'localhost',
    port: field('port', 'PGPORT') ?? '5432',
    user,
    password: field('password', 'PGPASSWORD'),
    database: field('database', 'PGDATABASE') ?? user ?? '',
    query,
  };
}

/**
 * DATABASE_URL, PGHOST, PGPORT, PGUSER, PGPASSWORD (when there is one) and PGDATABASE for `target` pointed at
 * `database`. A socket directory is written as an encoded host (`postgres://user@%2Fvar%2Frun%2Fpostgresql/db`),
 * which pg and libpq both read.
 */
export function connectionEnv(target: ConnectionTarget | null, database: string | null, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const r = resolve(target, env);
  const db = database ?? r.database;
  const auth = r.user === undefined ? '' : `${encodeURIComponent(r.user)}${r.password === undefined ? '' : `:${encodeURIComponent(r.password)}`}@`;
  const host = r.host.startsWith('/') ? encodeURIComponent(r.host) : r.host.includes(':') ? `[${r.host}]` : r.host;
  const out: Record<string, string> = {
    DATABASE_URL: `postgres://${auth}${host}:${r.port}/${encodeURIComponent(db)}${r.query}`,
    PGHOST: r.host,
    PGPORT: r.port,
    PGDATABASE: db,
  };
  if (r.user !== undefined) out['PGUSER'] = r.user;
  if (r.password !== undefined) out['PGPASSWORD'] = r.password;
  return out;
}

/**
 * The target with the user name pg would otherwise leave to USER made explicit (see resolveUser). A URL gets it
 * in the URL itself: pg lets a connection string's empty user override a separate `user` field.
 */
export function withUser(target: ConnectionTarget | null, env: NodeJS.ProcessEnv = process.env): ConnectionTarget | null {
  const cs = target?.connectionString;
  if (cs !== undefined) {
    if (!/^postgres(ql)?:/i.test(cs)) return target;
    const url = new URL(cs);
    if (url.username !== '') return target;
    const user = resolveUser(env);
    if (user === undefined) return target;
    url.username = encodeURIComponent(user);
    return { ...target, connectionString: url.toString() };
  }
  if (target?.user !== undefined) return target;
  const user = resolveUser(env);
  return user === undefined ? target : { ...(target ?? {}), user };
}
