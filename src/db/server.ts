// The SQL that provisioning runs, on one maintenance session. Every identifier goes through escapeIdentifier and
// every literal through escapeLiteral or a bind parameter: names reach this file from config and the server.
import pg from 'pg';
import { errors } from '../errors.js';
import type { BulkheadError } from '../errors.js';
import { isOurs } from './safety.js';
import { isConnectionError } from '../protocol/faults.js';

export interface Session {
  pid: number;
  applicationName: string;
  /** backend_start as text: with the pid, it tells a session from a later one that reused its pid. */
  started: string;
}

/** Sessions bulkhead itself opens; anything else on a slot's database was opened by the specs. */
export const HARNESS_SESSION = '^bulkhead:(main|setup|w[0-9]+(:reaper)?)$';

export function describeSessions(sessions: readonly Session[]): string {
  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.applicationName, (counts.get(s.applicationName) ?? 0) + 1);
  const list = [...counts].map(([name, n]) => `${name === '' ? '(no application_name)' : `"${name}"`} x${n}`);
  return `${sessions.length} other session${sessions.length === 1 ? '' : 's'} (application_name: ${list.join(', ')})`;
}

/** How the maintenance session is opened again when it is found broken. */
export interface Reopen {
  open(): Promise<pg.Client>;
  /** A session of the same kind on another database (ROLLBACK PREPARED runs only where the transaction was prepared). */
  openOn(database: string): Promise<pg.Client>;
  log(line: string): void;
}

/*
 * Reconnecting waits for a server that is restarting (it refuses connections or answers 57P03 for a moment), but
 * not for one that is gone: teardown tries a few times, every other operation once.
 */
const PATIENT_DELAYS_MS = [100, 250, 500, 1000];

/**
 * The maintenance session ('bulkhead:main'): leak checks, recloning, teardown. It is used for the whole run, so a
 * spec ending it (pg_terminate_backend) or a server restart must not cost the run its cleanup: a session found
 * broken is opened again, with its session settings and advisory locks taken again, before the next operation.
 */
export class Server {
  private tail: Promise<unknown> = Promise.resolve();
  private current: pg.Client;
  private broken = false;
  private closed = false;
  /** Statements replayed on every new session (SET ...). */
  private readonly settings: string[] = [];
  /** Advisory locks this session holds, taken again after a reconnect. */
  private readonly locks = new Set<string>();

  private constructor(client: pg.Client, private readonly versionNum: number, private readonly reopen: Reopen | null) {
    this.current = client;
    this.watch(client);
  }

  /** The session as it is now; operations that may run after a reconnect go through serial() or session(). */
  get client(): pg.Client {
    return this.current;
  }

  private watch(client: pg.Client): void {
    const mark = (): void => {
      if (this.current === client) this.broken = true;
    };
    client.on('error', mark);
    client.on('end', mark);
  }

  /** A healthy session: the current one, or a new one when it broke. `patient`: wait out a restarting server. */
  async session(patient = false): Promise<pg.Client> {
    if (!this.broken) return this.current;
    if (this.reopen === null || this.closed) throw new Error('the maintenance session is closed');
    const delays = patient ? PATIENT_DELAYS_MS : [];
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await this.reopen.open();
        for (const sql of this.settings) await client.query(sql);
        const lost: string[] = [];
        for (const key of this.locks) {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`bulkhead:${key}`]);
          if (rows[0]?.ok !== true) lost.push(key);
        }
        const old = this.current;
        this.current = client;
        this.broken = false;
        this.watch(client);
        void old.end().catch(() => undefined);
        this.reopen.log(`bulkhead: the maintenance session (bulkhead:main) was lost; reconnected${lost.length > 0 ? `, but another bulkhead run took the lock on ${lost.join(', ')} meanwhile` : ''}`);
        return client;
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined || !isConnectionError(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * One operation at a time: the run calls leaks() and reclone() from every slot's loop at once, on this session.
   * Before it the session is reconnected when broken; an operation cut off by a lost session runs once more on a
   * new one (every operation run through here is safe to repeat).
   */
  serial<T>(operation: () => Promise<T>, options: { patient?: boolean } = {}): Promise<T> {
    const attempt = async (): Promise<T> => {
      await this.session(options.patient);
      try {
        return await operation();
      } catch (err) {
        if (!(this.broken || isConnectionError(err)) || this.reopen === null || this.closed) throw err;
        this.broken = true;
        await this.session(options.patient);
        return operation();
      }
    };
    const result = this.tail.then(attempt, attempt);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** `reopen` opens a new session like this one; without it a broken session stays broken. */
  static async open(client: pg.Client, reopen: Reopen | null = null): Promise<Server> {
    const { rows } = await client.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
    return new Server(client, rows[0]?.v ?? 0, reopen);
  }

  /** Runs a session setting now and again on every reconnected session. */
  async configure(sql: string): Promise<void> {
    await this.client.query(sql);
    this.settings.push(sql);
  }

  async databaseComment(name: string): Promise<{ exists: boolean; comment: string | null }> {
    const { rows } = await this.client.query<{ c: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1",
      [name],
    );
    return { exists: rows.length > 0, comment: rows[0]?.c ?? null };
  }

  async schemaComment(name: string): Promise<{ exists: boolean; comment: string | null }> {
    const { rows } = await this.client.query<{ c: string | null }>(
      "SELECT obj_description(oid, 'pg_namespace') AS c FROM pg_namespace WHERE nspname = $1",
      [name],
    );
    return { exists: rows.length > 0, comment: rows[0]?.c ?? null };
  }

  /** Client sessions on `database` other than this one, optionally only those whose application_name matches. */
  async sessions(database: string, appNamePattern: string | null = null, client = this.client): Promise<Session[]> {
    const { rows } = await client.query<{ pid: number; app: string; started: string }>(
      `SELECT pid, coalesce(application_name, '') AS app, backend_start::text AS started FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND ($2::text IS NULL OR application_name ~ $2) ORDER BY pid`,
      [database, appNamePattern],
    );
    return rows.map((r) => ({ pid: r.pid, applicationName: r.app, started: r.started }));
  }

  /** Ends the given sessions (when still the same backends) and waits until they are gone where the server can. */
  async terminate(sessions: readonly Session[]): Promise<number> {
    let ended = 0;
    const wait = this.versionNum >= 140000 ? ', 5000' : '';
    for (const s of sessions) {
      const { rows } = await this.client.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid${wait}) AS ok FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2`,
        [s.pid, s.started],
      );
      if (rows[0]?.ok === true) ended++;
    }
    return ended;
  }

  /** Drops a database bulkhead marked as its own; refuses one without the marker. */
  async dropOurDatabase(name: string): Promise<void> {
    const { exists, comment } = await this.databaseComment(name);
    if (!exists) return;
    if (!isOurs(comment)) throw errors.notOurs('database', name);
    await this.rollbackPrepared(name);
    try {
      await this.client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
    } catch (err) {
      if ((err as { code?: unknown }).code === '55006') throw await this.busy(name, this.client, (sessions) => errors.leftoverBusy(name, sessions));
      throw errors.provision(`drop the database "${name}"`, err);
    }
  }

  /**
   * A transaction a test prepared (PREPARE TRANSACTION) and never finished outlives every session and keeps one of
   * our databases from being dropped, by this run and every later one: it is rolled back, on that database.
   */
  private async rollbackPrepared(name: string): Promise<void> {
    const { rows } = await this.client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = $1', [name]);
    if (rows.length === 0 || this.reopen === null) return;
    const client = await this.reopen.openOn(name);
    try {
      for (const { gid } of rows) await client.query(`ROLLBACK PREPARED ${pg.escapeLiteral(gid)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Why a database is in use (55006): the sessions on it, or, when there are none, the prepared transactions it
   * holds, which keep it in use with no session at all.
   */
  private async busy(database: string, client: pg.Client, bySessions: (sessions: string) => BulkheadError): Promise<BulkheadError> {
    const sessions = await this.sessions(database, null, client);
    if (sessions.length === 0) {
      const { rows } = await client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = $1 ORDER BY prepared', [database]);
      if (rows.length > 0) return errors.preparedBlocks(database, rows.map((r) => r.gid));
    }
    return bySessions(describeSessions(sessions));
  }

  /** CREATE DATABASE (from `template`, or the server's default) and mark it, so only bulkhead ever drops it. */
  async createDatabase(name: string, template: string | null, marker: string, client = this.client): Promise<void> {
    const from = template === null ? '' : ` TEMPLATE ${pg.escapeIdentifier(template)}`;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${from}`);
    } catch (err) {
      if ((err as { code?: unknown }).code === '55006' && template !== null) {
        throw await this.busy(template, client, (sessions) => errors.templateBusy(template, sessions));
      }
      throw errors.provision(`create the database "${name}"${template === null ? '' : ` from "${template}"`}`, err);
    }
    try {
      await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(marker)}`);
    } catch (err) {
      // Unmarked, it would be refused by every later run: we created it a moment ago, so it goes again.
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => undefined);
      throw errors.provision(`mark the database "${name}" as bulkhead's`, err);
    }
  }

  /** Serialises template building between concurrent runs on the same server; released with the session. */
  async lock(key: string, log: (line: string) => void): Promise<void> {
    const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`bulkhead:${key}`]);
    if (rows[0]?.ok === true) {
      this.locks.add(key);
      return;
    }
    log(`bulkhead: waiting for another bulkhead run on this server to finish with ${key}`);
    await this.client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`bulkhead:${key}`]);
    this.locks.add(key);
  }

  async unlock(key: string): Promise<void> {
    this.locks.delete(key);
    await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`bulkhead:${key}`]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.end().catch(() => undefined);
  }
}
