// The harness's own admin connection, used to check the server before a run and to end sessions a dead worker
// could not close. Never prints a password.
import pg from 'pg';
import { errors } from '../errors.js';
import { Redactor } from './redact.js';
import type { ResolvedTarget } from './resolve.js';
import { connect } from './connect.js';
import { isConnectionError } from '../protocol/faults.js';

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
      throw errors.unreachable(this.resolved.where, new Error(new Redactor(this.resolved.target).redact(err instanceof Error ? err.message : String(err))));
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
