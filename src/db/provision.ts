// Step 4 of a run: give every worker slot a database of its own (or a schema, or the shared target), built from
// the user's setup through a template that is reused while the setup is unchanged. Main thread only.
import type { ConnectionTarget } from '../protocol/messages.js';
import { errors } from '../errors.js';
import { connect, Server, where } from './server.js';
import { provisionDatabases } from './databases.js';
import { provisionSchemas, provisionShared } from './schemas.js';
import { assertTestDatabase, checkCapacity } from './safety.js';
import { loadSetup } from './setup.js';
import type { SetupPlan } from './setup.js';

export type Isolation = 'database' | 'schema' | 'shared';

export interface ProvisionOptions {
  /** null: pg reads the PG* variables. */
  target: ConnectionTarget | null;
  isolation: Isolation;
  /** A .sql file, a directory of migrations (applied in name order), or a module exporting setup(client). */
  setup: string | null;
  workers: number;
  allowAnyDatabase: boolean;
  keepDatabases: boolean;
  /** Resolves a relative `setup`. */
  root: string;
  log?: (line: string) => void;
  /** host:port/database as user, for messages (the CLI's own description of the target); derived when absent. */
  where?: string;
}

export interface SlotDatabase {
  slot: number;
  database: string;
  /** Schema isolation: the slot's schema, first on the search_path of every connection (set through PGOPTIONS). */
  schema?: string;
  /** For WorkerData.target: null when pg reads the PG* variables (shared mode without DATABASE_URL). */
  target: ConnectionTarget | null;
  /** Merged into the worker's environment before it loads a spec, so the specs' own pools land here too. */
  env: Record<string, string>;
}

export interface TeardownReport {
  /** What teardown meant to drop and could not, with the reason. */
  notDropped: { kind: 'database' | 'schema'; name: string; why: string }[];
  /** Other cleanup that failed (ending leaked sessions). */
  problems: string[];
}

export interface Leaks {
  count: number;
  applicationNames: string[];
}

export interface Provisioned {
  slots: SlotDatabase[];
  templateReused: boolean;
  setupRan: boolean;
  /** Milliseconds: the template (build or check), each slot's database or schema, and all slots' wall time. */
  timings: { template: number; perSlot: number[]; slots: number };
  /** After a worker crash, before its replacement runs a file: a fresh copy of the template for the slot. */
  reclone(slot: number): Promise<void>;
  /** Sessions on the slot's database opened by the file that just ran and still open (each reported once). */
  leaks(slot: number, ownPids: readonly number[]): Promise<Leaks>;
  /** After the workers closed their connections: ends what the specs left open on our databases. */
  closeLeaks(): Promise<number>;
  /**
   * Ends leaked sessions and drops the slot databases or schemas (unless keepDatabases). Idempotent. Never
   * rejects: what it could not drop is returned, so the run can still report (and say how to drop it by hand).
   */
  teardown(): Promise<TeardownReport>;
}

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

/** What each isolation mode builds from. */
export interface Context {
  server: Server;
  opts: ProvisionOptions;
  /** The target's database name, as the server reports it. */
  base: string;
  plan: SetupPlan | null;
  log: (line: string) => void;
}

export { checkCapacity };
