// The SQL that provisioning runs on the maintenance session. Every identifier goes through escapeIdentifier and
// every literal through escapeLiteral or a bind parameter: names reach this file from config and the server.
import pg from 'pg';
import { errors } from '../errors.js';
import type { BulkheadError } from '../errors.js';
import type { Admin, Session } from './admin.js';
import { isOurs } from './safety.js';

/** Sessions bulkhead itself opens; anything else on a slot's database was opened by the specs. */
export const HARNESS_SESSION = '^bulkhead:(main|setup|w[0-9]+(:reaper|:check)?)$';

function describeSessions(sessions: readonly Session[]): string {
  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.applicationName, (counts.get(s.applicationName) ?? 0) + 1);
  const list = [...counts].map(([name, n]) => `${name === '' ? '(no application_name)' : `"${name}"`} x${n}`);
  return `${sessions.length} other session${sessions.length === 1 ? '' : 's'} (application_name: ${list.join(', ')})`;
}

export async function databaseComment(client: pg.Client, name: string): Promise<{ exists: boolean; comment: string | null }> {
  const { rows } = await client.query<{ c: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1",
    [name],
  );
  return { exists: rows.length > 0, comment: rows[0]?.c ?? null };
}

/** Client sessions on `database` other than the asking one, optionally only those whose application_name matches. */
export async function sessionsOn(client: pg.Client, database: string, appNamePattern: string | null = null): Promise<Session[]> {
  const { rows } = await client.query<{ pid: number; app: string; started: string }>(
    `SELECT pid, coalesce(application_name, '') AS app, backend_start::text AS started FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND ($2::text IS NULL OR application_name ~ $2) ORDER BY pid`,
    [database, appNamePattern],
  );
  return rows.map((r) => ({ pid: r.pid, applicationName: r.app, started: r.started }));
}

/** Drops a database bulkhead marked as its own; refuses one without the marker. Call inside admin.serial(). */
export async function dropOurDatabase(admin: Admin, name: string): Promise<void> {
  const client = admin.client;
  const { exists, comment } = await databaseComment(client, name);
  if (!exists) return;
  if (!isOurs(comment)) throw errors.notOurs('database', name);
  await rollbackPrepared(admin, name);
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
  } catch (err) {
    if ((err as { code?: unknown }).code === '55006') throw await busy(client, name, (sessions) => errors.leftoverBusy(name, sessions));
    throw errors.provision(`drop the database "${name}"`, err);
  }
}

/**
 * A transaction a test prepared (PREPARE TRANSACTION) and never finished outlives every session and keeps one of
 * our databases from being dropped, by this run and every later one: it is rolled back, on that database.
 */
async function rollbackPrepared(admin: Admin, name: string): Promise<void> {
  const { rows } = await admin.client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = $1', [name]);
  if (rows.length === 0) return;
  const client = await admin.openOn(name);
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
async function busy(client: pg.Client, database: string, bySessions: (sessions: string) => BulkheadError): Promise<BulkheadError> {
  const sessions = await sessionsOn(client, database);
  if (sessions.length === 0) {
    const { rows } = await client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = $1 ORDER BY prepared', [database]);
    if (rows.length > 0) return errors.preparedBlocks(database, rows.map((r) => r.gid));
  }
  return bySessions(describeSessions(sessions));
}

/*
 * Another bulkhead run's short sessions on the database being copied (its probe of the target while it starts, a
 * worker closing) are gone within moments, and PostgreSQL itself waits for them only 5 s: the copy is tried again
 * after these pauses while every session in the way is bulkhead's own. Anyone else's session fails it at once.
 */
const BUSY_RETRY_MS = [100, 200, 400, 800, 1600, 3200];

/** CREATE DATABASE (from `template`, or the server's default) on `client`, and mark it, so only bulkhead ever drops it. */
export async function createDatabase(client: pg.Client, name: string, template: string | null, marker: string): Promise<void> {
  const from = template === null ? '' : ` TEMPLATE ${pg.escapeIdentifier(template)}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${from}`);
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code === '55006' && template !== null) {
        const pause = BUSY_RETRY_MS[attempt];
        const others = await sessionsOn(client, template);
        // None left: they went meanwhile (tried once more), or a prepared transaction holds it (busy() says so).
        const ours = others.every((s) => s.applicationName.startsWith('bulkhead:')) && (others.length > 0 || attempt === 0);
        if (pause !== undefined && ours) {
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        throw await busy(client, template, (sessions) => errors.templateBusy(template, sessions));
      }
      throw errors.provision(`create the database "${name}"${template === null ? '' : ` from "${template}"`}`, err);
    }
  }
  try {
    await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(marker)}`);
  } catch (err) {
    // Unmarked, it would be refused by every later run: we created it a moment ago, so it goes again.
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => undefined);
    throw errors.provision(`mark the database "${name}" as bulkhead's`, err);
  }
}
