// The maintenance session (application_name 'bulkhead:main'): the main thread's one session on the server for the
// whole command. It checks the server, ends the backends of crashed workers (watchdogs), finds leaks, reclones
// slots and tears them down, one operation at a time, so callers that come at once never open a second session.
import pg from 'pg';
import { errors } from '../errors.js';
import { Redactor } from './redact.js';
import type { ResolvedTarget } from './resolve.js';
import { connect } from './connect.js';
import { isConnectionError, isServerUnavailable, SERVER_WAIT_MS, whenAvailable } from '../protocol/faults.js';

const APPLICATION_NAME = 'bulkhead:main';
/** How long end() waits for the backends it signalled to exit (as pg_terminate_backend's own timeout did). */
const END_WAIT_MS = 5000;
const END_POLL_MS = 5;

export interface Session {
  pid: number;
  applicationName: string;
  /** backend_start as text: with the pid, it tells a session from a later one that reused its pid. */
  started: string;
}

interface SerialOptions {
  /** false: not run again on a new session when a lost session cut it off (work that is not safe to repeat). */
  repeat?: boolean;
}

/**
 * Opened on first use, on the "postgres" database: a session on the target would make it look busy to
 * CREATE DATABASE ... TEMPLATE. A server without "postgres" gets the target itself; copying it then runs on this
 * very session, which PostgreSQL allows (only other sessions on a template block the copy). A spec ending the
 * session or a server restart must not cost the run its cleanup: a session found broken is opened again, on the
 * same database, with its advisory locks taken again, before the next operation.
 */
export class Admin {
  private tail: Promise<unknown> = Promise.resolve();
  private current: pg.Client | null = null;
  private broken = false;
  private closed = false;
  /** Where the first session went (client.database, what the server accepted): every later one goes there too. */
  private home: { database: string | null } | null = null;
  private versionText = 'unknown';
  /** Advisory locks this session holds, taken again after a reconnect. */
  private readonly locks = new Set<string>();
  /** The wait for an unavailable server was said (once per outage) / gave up (later sessions do not wait). */
  private waiting = false;
  private gaveUp = false;

  /** `server` null: there is none (--dry-run), so nothing is checked and no backend needs ending. */
  constructor(private readonly server: Pick<ResolvedTarget, 'target' | 'where'> | null, private readonly log: (line: string) => void = () => undefined) {}

  /** The open session, for the operation serial() is running now. */
  get client(): pg.Client {
    if (this.current === null) throw new Error('the maintenance session is used outside serial()');
    return this.current;
  }

  /** The database the session is on (null: the target's own, when pg picked it from PG*). */
  get database(): string | null {
    return this.home?.database ?? null;
  }

  /** Fails with exit code 3 when the server cannot be reached; returns its version. */
  async check(): Promise<string> {
    if (this.server === null) return 'not connected';
    return this.serial(() => Promise.resolve(this.versionText));
  }

  /** The databases this run's workers use: terminate() ends no session elsewhere (null: not known, no limit). */
  private workerDatabases: string[] | null = null;

  /**
   * Set once the slots are provisioned. A pid the run saw may since have gone to another run's worker on another
   * database (another project's run on the same server carries the same application_names): never end that one.
   */
  limitTerminations(databases: readonly string[] | null): void {
    this.workerDatabases = databases === null ? null : [...databases];
  }

  /**
   * Ends the given worker backends from the server side (only bulkhead's own workers', on this run's databases),
   * waiting until they are gone; with `own`, also every session of that slot's worker on the slot's own database.
   */
  async terminate(pids: readonly number[], own: { database: string; slot: number } | null = null): Promise<number> {
    if (this.server === null || (pids.length === 0 && own === null)) return 0;
    return this.serial(async () => {
      const { rows } = await this.client.query<{ pid: number; started: string }>(
        `SELECT pid, backend_start::text AS started FROM pg_stat_activity
          WHERE (pid = ANY($1::int[]) OR (datname = $2 AND application_name = $3)) AND application_name LIKE 'bulkhead:w%'
            AND ($4::text[] IS NULL OR datname = ANY($4::text[]))`,
        [pids, own?.database ?? null, own === null ? null : `bulkhead:w${own.slot}`, this.workerDatabases],
      );
      return this.end(rows);
    });
  }

  /**
   * Ends the given sessions (when still the same backends) and waits until they are gone. All are signalled in one
   * statement and then watched together: pg_terminate_backend's own wait polls in steps of 100 ms, so ending 40
   * leaked pool sessions one by one cost 4 s.
   */
  async end(sessions: readonly Pick<Session, 'pid' | 'started'>[]): Promise<number> {
    if (sessions.length === 0) return 0;
    const pids = sessions.map((s) => s.pid);
    const started = sessions.map((s) => s.started);
    // In the select list of a fenced subquery (OFFSET 0): a qual would let the planner call it on other rows.
    const { rows } = await this.client.query<{ pid: number; ok: boolean }>(
      `SELECT m.pid, pg_terminate_backend(m.pid) AS ok FROM (
          SELECT a.pid FROM pg_stat_activity a JOIN unnest($1::int[], $2::text[]) AS s(pid, started)
            ON a.pid = s.pid AND a.backend_start::text = s.started OFFSET 0) m`,
      [pids, started],
    );
    const ended = rows.filter((r) => r.ok).map((r) => r.pid);
    const deadline = performance.now() + END_WAIT_MS;
    while (ended.length > 0 && performance.now() < deadline) {
      const { rows: left } = await this.client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity a JOIN unnest($1::int[], $2::text[]) AS s(pid, started) ON a.pid = s.pid AND a.backend_start::text = s.started',
        [pids, started],
      );
      if ((left[0]?.n ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, END_POLL_MS));
    }
    return ended.length;
  }

  /**
   * One operation at a time: leak checks and reclones come from every slot's loop at once, watchdogs fire
   * together. Before it the session is opened, or reconnected when broken; an operation cut off by a lost
   * session runs once more on a new one (unless `repeat` is false).
   */
  serial<T>(operation: () => Promise<T>, options: SerialOptions = {}): Promise<T> {
    const attempt = async (): Promise<T> => {
      await this.session();
      try {
        return await operation();
      } catch (err) {
        if (!(this.broken || isConnectionError(err)) || options.repeat === false || this.closed) throw err;
        this.broken = true;
        await this.session();
        return operation();
      }
    };
    const result = this.tail.then(attempt, attempt);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A short-lived session of the same kind on another database (ROLLBACK PREPARED, schema DDL, parallel clones). */
  openOn(database: string | null): Promise<pg.Client> {
    if (this.server === null) return Promise.reject(new Error('there is no server (--dry-run)'));
    const target = this.server.target;
    return this.wait(() => connect(target, database, APPLICATION_NAME), true);
  }

  /** The outage was already said (by the workers that met it): the wait for it is not said again. */
  outageSaid(): void {
    this.waiting = true;
  }

  /*
   * A server that is restarting, starting up or out of connection slots is waited for (with backoff, up to
   * SERVER_WAIT_MS), said once per outage; before any session opened, a refused connection is not waited for (the
   * server is simply not there). One that stays away is given up on once: later sessions are tried without
   * waiting, so a server that died does not cost every step of the cleanup the same wait.
   */
  private async wait<T>(open: () => Promise<T>, refused: boolean): Promise<T> {
    const opened = await whenAvailable(open, {
      refused,
      budgetMs: this.gaveUp ? 0 : SERVER_WAIT_MS,
      onWait: (err) => {
        if (this.waiting) return;
        this.waiting = true;
        this.log(`bulkhead: the server at ${this.server?.where ?? 'the target'} is not accepting connections (${err instanceof Error ? err.message : String(err)}); waiting up to ${SERVER_WAIT_MS / 1000} s for it`);
      },
    }).catch((err: unknown) => {
      if (isConnectionError(err) || isServerUnavailable(err)) this.gaveUp = true;
      throw err;
    });
    this.waiting = false;
    this.gaveUp = false;
    return opened;
  }

  /** Serialises runs that would share names on the same server (`what` says which, for the wait's line); call inside serial(). */
  async lock(key: string, log: (line: string) => void, what = key): Promise<void> {
    const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`bulkhead:${key}`]);
    if (rows[0]?.ok !== true) {
      log(`bulkhead: waiting for another bulkhead run on this server to finish with ${what}`);
      await this.client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`bulkhead:${key}`]);
    }
    this.locks.add(key);
  }

  /** Call inside serial(). */
  async unlock(key: string): Promise<void> {
    if (!this.locks.delete(key)) return;
    await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`bulkhead:${key}`]);
  }

  /** Ends the session for good (its locks go with it): the command is over. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.current;
    this.current = null;
    await client?.end().catch(() => undefined);
  }

  /** A healthy session: the current one, or a new one when there is none yet or it broke. */
  private async session(): Promise<pg.Client> {
    if (this.closed || this.server === null) throw new Error('the maintenance session is closed');
    if (this.current !== null && !this.broken) return this.current;
    const first = this.home === null;
    const client = first ? await this.openFirst() : await this.openOn(this.home?.database ?? null);
    try {
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      this.versionText = rows[0]?.v ?? 'unknown';
      const lost: string[] = [];
      for (const key of this.locks) {
        const { rows: got } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`bulkhead:${key}`]);
        if (got[0]?.ok !== true) lost.push(key);
      }
      if (!first) this.log(`bulkhead: the maintenance session (bulkhead:main) was lost; reconnected${lost.length > 0 ? `, but another bulkhead run took the lock on ${lost.join(', ')} meanwhile` : ''}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    const old = this.current;
    this.current = client;
    this.broken = false;
    const mark = (): void => {
      if (this.current === client) this.broken = true;
    };
    client.on('error', mark);
    client.on('end', mark);
    void old?.end().catch(() => undefined);
    return client;
  }

  /** The one place a server without a "postgres" database is handled: the target itself instead. */
  private async openFirst(): Promise<pg.Client> {
    const { target, where } = this.server ?? { target: null, where: '' };
    try {
      const client = await this.wait(
        () =>
          connect(target, 'postgres', APPLICATION_NAME).catch((err: unknown) => {
            if ((err as { code?: unknown }).code === '3D000') return connect(target, null, APPLICATION_NAME);
            throw err;
          }),
        false,
      );
      this.home = { database: client.database ?? null };
      return client;
    } catch (err) {
      throw errors.unreachable(where, new Error(new Redactor(target).redact(err instanceof Error ? err.message : String(err))));
    }
  }
}
