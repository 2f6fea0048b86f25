// The database target (DATABASE_URL > PG* variables) and the harness's own admin connection, used to check the
// server before a run and to end sessions a dead worker could not close. Never prints a password.
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import type { ConnectionTarget } from '../protocol/messages.js';
import { errors } from '../errors.js';
import { connect, isConnectionError } from './server.js';

const PG_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSERVICE'];

export interface ResolvedTarget {
  /** Passed to workers; null means "pg reads the PG* variables itself". */
  target: ConnectionTarget | null;
  source: 'DATABASE_URL' | 'PG*' | 'embedded';
  /** host:port/database as user, without the password: safe to print. */
  where: string;
}

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): ResolvedTarget {
  const url = env['DATABASE_URL'];
  if (url !== undefined && url !== '') {
    return { target: { connectionString: url }, source: 'DATABASE_URL', where: describeUrl(url, env) };
  }
  if (PG_VARIABLES.some((name) => env[name] !== undefined && env[name] !== '')) {
    return { target: null, source: 'PG*', where: describeEnv(env) };
  }
  throw errors.noDatabase();
}

function describeUrl(url: string, env: NodeJS.ProcessEnv): string {
  try {
    const c = parseConnectionString(url);
    return format(c.host ?? env['PGHOST'], c.port ?? env['PGPORT'], c.database ?? env['PGDATABASE'], c.user ?? env['PGUSER']);
  } catch {
    return 'DATABASE_URL (unparsable)';
  }
}

function describeEnv(env: NodeJS.ProcessEnv): string {
  return format(env['PGHOST'] ?? env['PGHOSTADDR'], env['PGPORT'], env['PGDATABASE'], env['PGUSER']);
}

function format(host: string | null | undefined, port: string | number | null | undefined, database: string | null | undefined, user: string | null | undefined): string {
  const u = user ?? process.env['USER'] ?? 'postgres';
  return `${host ?? 'localhost'}:${port ?? 5432}/${database ?? u} as ${u}`;
}

/*
 * The passwords of the targets this process connects to. Beyond anything shaped like a password, these are masked
 * wherever they appear (a bare assertion value, JSON, a URL-encoded URL). Shorter ones would mask ordinary words.
 */
const secrets = new Set<string>();
const MIN_SECRET = 4;

/** Remembers the password of a target (a connection string, a config object, or PGPASSWORD) for redact(). */
export function knowSecrets(target: { connectionString?: string; password?: unknown } | null, env: NodeJS.ProcessEnv = process.env): void {
  const found: unknown[] = [env['PGPASSWORD'], target?.password];
  if (target?.connectionString !== undefined) {
    try {
      found.push(parseConnectionString(target.connectionString).password);
    } catch {
      // An unparsable URL is refused elsewhere; the URL-shaped mask still covers it.
    }
  }
  for (const secret of found) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET) continue;
    secrets.add(secret);
    secrets.add(encodeURIComponent(secret));
  }
}

/** Masks anything that looks like a password in text that may reach output or a report. */
export function redact(text: string): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1***');
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/** redact() applied to every string inside JSON data (an error's extra properties). */
export function redactData(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactData);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactData(v)]));
  }
  return value;
}

/** The harness's own short-lived sessions: application_name 'bulkhead:main' so they are never mistaken for a worker's. */
export class Admin {
  private client: pg.Client | null = null;
  constructor(private readonly resolved: ResolvedTarget) {}

  private async connect(): Promise<pg.Client> {
    if (this.client !== null) return this.client;
    // On the "postgres" database, not the target: a session on the target would stop another run (or this one)
    // from copying it with CREATE DATABASE ... TEMPLATE. A server without "postgres" gets the target itself.
    let client: pg.Client;
    try {
      client = await connect(this.resolved.target, 'postgres', 'bulkhead:main').catch((err: unknown) => {
        if ((err as { code?: unknown }).code === '3D000') return connect(this.resolved.target, null, 'bulkhead:main');
        throw err;
      });
    } catch (err) {
      throw errors.unreachable(this.resolved.where, new Error(redact(err instanceof Error ? err.message : String(err))));
    }
    // A spec or a server restart may end this session between uses: the next use connects again.
    const forget = (): void => {
      if (this.client === client) this.client = null;
    };
    client.on('error', forget);
    client.on('end', forget);
    this.client = client;
    return client;
  }

  /** Fails with exit code 3 when the server cannot be reached; returns its version. */
  async check(): Promise<string> {
    const client = await this.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? 'unknown';
  }

  /**
   * Ends the given worker backends from the server side and waits until they are gone. A session found broken on
   * the way (ended a moment ago, its 'end' not yet seen) is replaced once.
   */
  async terminate(pids: readonly number[]): Promise<number> {
    try {
      return await this.terminateOnce(pids);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      await this.close();
      return this.terminateOnce(pids);
    }
  }

  private async terminateOnce(pids: readonly number[]): Promise<number> {
    if (pids.length === 0) return 0;
    const client = await this.connect();
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name LIKE 'bulkhead:w%'",
      [pids],
    );
    for (const { pid } of rows) await client.query('SELECT pg_terminate_backend($1::int, 5000)', [pid]);
    return rows.length;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client !== null) await client.end().catch(() => undefined);
  }
}
