// Every session bulkhead opens itself goes through connect(): a name in application_name, an 'error' listener
// from the first moment, and a failure message without the password.
import pg from 'pg';
import type { ConnectionTarget } from '../protocol/messages.js';
import { Redactor } from './redact.js';

/** The same target, pointed at another database. A URL keeps its query (ssl, options); PG* fill in the rest. */
export function retarget(target: ConnectionTarget | null, database: string): ConnectionTarget {
  if (target === null) return { database };
  const cs = target.connectionString;
  if (cs === undefined) return { ...target, database };
  // "/socket/dir dbname" is pg's other connection string form.
  if (cs.startsWith('/')) return { ...target, connectionString: `${cs.split(' ')[0] ?? cs} ${database}` };
  const url = new URL(cs);
  url.pathname = `/${encodeURIComponent(database)}`;
  return { ...target, connectionString: url.toString() };
}

/** A connection as `application_name`; `database` null means the target's own database. */
export async function connect(target: ConnectionTarget | null, database: string | null, applicationName: string): Promise<pg.Client> {
  const config = database === null ? (target ?? {}) : retarget(target, database);
  const client = new pg.Client({ ...config, application_name: applicationName });
  // An idle client's 'error' event must have a listener, or a terminated session kills the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw Object.assign(new Error(new Redactor(target).redact(err instanceof Error ? err.message : String(err)), { cause: err }), {
      code: (err as { code?: unknown }).code,
    });
  }
  return client;
}
