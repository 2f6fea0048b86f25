// Step 4 of a run: give every worker slot a database of its own (or a schema, or the shared target), built from
// the user's setup through a template that is reused while the setup is unchanged. Main thread only.
import type { Context, ProvisionOptions, Provisioned } from './types.js';
import { errors, isBulkheadError } from '../errors.js';
import { findDatabaseFault } from '../protocol/faults.js';
import { Admin } from './admin.js';
import { connect } from './connect.js';
import { where } from './resolve.js';
import { provisionDatabases } from './databases.js';
import { provisionSchemas } from './schemas.js';
import { provisionShared } from './shared.js';
import { assertTestDatabase, checkCapacity, names } from './safety.js';
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
  } finally {
    // Closed before anything is copied: a session on the target makes CREATE DATABASE ... TEMPLATE fail.
    await probe.end().catch(() => undefined);
  }

  // 3. The maintenance session: the command's own, or one for this call alone (closed with its teardown).
  const admin = opts.admin ?? new Admin({ target: opts.target, where: described }, log);
  const release = async (): Promise<void> => {
    if (opts.admin === undefined) await admin.close();
  };
  // 4. One run at a time per target in every mode: slot databases and schemas have fixed names, and in schema and
  // shared isolation leaks are traced by the slot's application_name on the target, which another run's workers
  // carry too, whatever its shard: only database isolation lets shards (named apart) run side by side. The lock is
  // held until teardown has dropped what this run made.
  const key = names.template(base, opts.isolation === 'database' ? opts.scope : '');
  let locked = false;
  const unlock = (): Promise<void> => (locked ? admin.serial(() => admin.unlock(key)).catch(() => undefined) : Promise.resolve());
  try {
    await admin.serial(() => checkCapacity(admin.client, opts.workers, log));
    await admin.serial(() => admin.lock(key, log, `${base}${opts.isolation !== 'database' || (opts.scope ?? '') === '' ? '' : ` (shard ${opts.scope?.slice(1)})`}; runs against one database take turns`));
    locked = true;
    const context: Context = { admin, opts, base, plan, log };
    const p = opts.isolation === 'database' ? await provisionDatabases(context) : opts.isolation === 'schema' ? await provisionSchemas(context) : provisionShared(context);
    return {
      ...p,
      teardown: async () => {
        try {
          return await p.teardown();
        } finally {
          await unlock();
          await release();
        }
      },
    };
  } catch (err) {
    await unlock();
    await release();
    // A server condition (no slot left, a restart that outlasted the wait) is typed, with exit 3, like the rest.
    const fault = isBulkheadError(err) ? undefined : findDatabaseFault(err);
    throw fault === undefined ? err : errors.server(fault.message, fault.sqlstate, err);
  }
}

export { checkCapacity };
