// Step 4 of a run: give every worker slot a database of its own (or a schema, or the shared target), built from
// the user's setup through a template that is reused while the setup is unchanged. Main thread only.
import type { Context, ProvisionOptions, Provisioned } from './types.js';
import { errors } from '../errors.js';
import { connect } from './connect.js';
import { Server } from './server.js';
import { where } from './resolve.js';
import { provisionDatabases } from './databases.js';
import { provisionSchemas, provisionShared } from './schemas.js';
import { assertTestDatabase, checkCapacity } from './safety.js';
import { loadSetup } from './setup.js';

/** Builds the per-slot databases; fails before creating anything when the target, setup or capacity is wrong. */
export async function provision(opts: ProvisionOptions): Promise<Provisioned> {
  const log = opts.log ?? ((): void => undefined);
  // 1. Setup problems (a wrong path, shared mode) are reported before the server is touched.
  if (opts.isolation === 'shared' && opts.setup !== null) {
    throw errors.config('setup', 'isolation "shared" uses the target database as it is and runs no setup', 'Use isolation "database" or "schema" with a setup, or remove "setup".');
  }
  const plan = opts.setup === null ? null : await loadSetup(opts.setup, opts.root);

  // 2. The target's real name: with partial PG* variables only the server knows which database pg picked.
  const described = opts.where ?? where(opts.target);
  const probe = await connect(opts.target, null, 'bulkhead:main').catch((err: unknown) => {
    throw errors.unreachable(described, err);
  });
  let base: string;
  try {
    base = (await probe.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    if (opts.isolation !== 'shared') assertTestDatabase(base, opts.allowAnyDatabase);
  } catch (err) {
    await probe.end().catch(() => undefined);
    throw err;
  }

  // 3. The maintenance session. Database isolation keeps it off the target, which may be the template to copy.
  let client = probe;
  if (opts.isolation === 'database') {
    await probe.end();
    // A server without a "postgres" database: the target works too, except as the template itself.
    client = await connect(opts.target, 'postgres', 'bulkhead:main').catch((err: unknown) => {
      if ((err as { code?: unknown }).code === '3D000') return connect(opts.target, null, 'bulkhead:main');
      throw errors.unreachable(described, err);
    });
  }
  // A new maintenance session goes where this one went (client.database is what the server accepted).
  const database = client.database ?? null;
  const server = await Server.open(client, { open: () => connect(opts.target, database, 'bulkhead:main'), openOn: (name) => connect(opts.target, name, 'bulkhead:main'), log });
  try {
    await checkCapacity(server.client, opts.workers, log);
    const context: Context = { server, opts, base, plan, log };
    if (opts.isolation === 'database') return await provisionDatabases(context);
    if (opts.isolation === 'schema') return await provisionSchemas(context);
    return await provisionShared(context);
  } catch (err) {
    await server.close();
    throw err;
  }
}

export { checkCapacity };
