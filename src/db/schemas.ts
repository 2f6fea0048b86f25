// Schema isolation (one marked schema per slot inside the target, the setup applied in each) and shared
// isolation (the target as it is). Every slot shares one database here, so leaks are traced by application_name.
import pg from 'pg';
import { errors } from '../errors.js';
import type { Context, Leaks, Provisioned, TeardownReport } from './types.js';
import { connect } from './connect.js';
import { isConnectionError } from '../protocol/faults.js';
import type { Server } from './server.js';
import { appTag, LeakLedger, schemaSlot, sharedSlot } from './slots.js';
import { isOurs, markers, names } from './safety.js';
import { runSetup } from './setup.js';

export async function provisionSchemas(ctx: Context): Promise<Provisioned> {
  const { server, opts, base, log } = ctx;
  const slots = Array.from({ length: opts.workers }, (_, i) => schemaSlot(opts.target, i + 1, base));

  // 1. Refuse before creating anything: a schema we would replace must carry our marker.
  for (const { schema } of slots) {
    const { exists, comment } = await server.schemaComment(schema ?? '');
    if (exists && !isOurs(comment)) throw errors.notOurs('schema', schema ?? '');
  }
  // A leaked session holding a lock in a slot's schema must not hang the DROP forever.
  await server.configure("SET lock_timeout = '30s'");

  // 2. One slot after another: a setup may CREATE EXTENSION, which is database-wide and must not race itself.
  const perSlot: number[] = [];
  const created: number[] = [];
  try {
    for (const { slot } of slots) {
      const t = performance.now();
      await createSchema(ctx, slot);
      created.push(slot);
      perSlot.push(performance.now() - t);
    }
  } catch (err) {
    for (const slot of created) await dropSchema(server, slot).catch(() => undefined);
    throw err;
  }
  log(`bulkhead: ${slots.length} schema${slots.length === 1 ? '' : 's'} in ${base}${ctx.plan === null ? '' : ', setup applied in each'}`);

  const leaks = tagged(server, base);
  let closed = false;
  return {
    slots,
    templateReused: false,
    setupRan: ctx.plan !== null,
    timings: { template: 0, perSlot, slots: perSlot.reduce((a, b) => a + b, 0) },
    reclone: (slot) => server.serial(async () => {
      // The dead worker's sessions may still hold locks in the schema about to be dropped.
      const own = await server.sessions(base, `^bulkhead:w${slot}(:reaper|:app)?$`);
      await server.terminate(own);
      leaks.ledger.forget(slot);
      await dropSchema(server, slot);
      await createSchema(ctx, slot);
    }),
    leaks: (slot, ownPids) => server.serial(() => leaks.find(slot, ownPids)),
    closeLeaks: () => server.serial(leaks.close),
    teardown: async () => {
      const report: TeardownReport = { notDropped: [], problems: [] };
      if (closed) return report;
      closed = true;
      let unreachable: string | null = null;
      const failed = (err: unknown): string => {
        const why = err instanceof Error ? err.message : String(err);
        if (isConnectionError(err)) unreachable = why;
        return why;
      };
      try {
        await server.serial(leaks.close, { patient: true }).catch((err: unknown) => report.problems.push(`could not end the sessions the specs left open: ${failed(err)}`));
        for (const { slot } of opts.keepDatabases ? [] : slots) {
          const name = names.schema(slot);
          if (unreachable !== null) report.notDropped.push({ kind: 'schema', name, why: unreachable });
          else await server.serial(() => dropSchema(server, slot), { patient: true }).catch((err: unknown) => report.notDropped.push({ kind: 'schema', name, why: failed(err) }));
        }
      } finally {
        await server.close();
      }
      return report;
    },
  };
}

export async function provisionShared(ctx: Context): Promise<Provisioned> {
  const { server, opts, base } = ctx;
  const leaks = tagged(server, base);
  let closed = false;
  return {
    slots: Array.from({ length: opts.workers }, (_, i) => sharedSlot(opts.target, i + 1, base)),
    templateReused: false,
    setupRan: false,
    timings: { template: 0, perSlot: Array.from({ length: opts.workers }, () => 0), slots: 0 },
    reclone: async () => undefined,
    leaks: (slot, ownPids) => server.serial(() => leaks.find(slot, ownPids)),
    closeLeaks: () => server.serial(leaks.close),
    teardown: async () => {
      const report: TeardownReport = { notDropped: [], problems: [] };
      if (closed) return report;
      closed = true;
      try {
        await server.serial(leaks.close, { patient: true }).catch((err: unknown) => {
          report.problems.push(`could not end the sessions the specs left open: ${err instanceof Error ? err.message : String(err)}`);
        });
      } finally {
        await server.close();
      }
      return report;
    },
  };
}

async function createSchema(ctx: Context, slot: number): Promise<void> {
  const { server, plan, opts } = ctx;
  const schema = pg.escapeIdentifier(names.schema(slot));
  await dropSchema(server, slot);
  try {
    await server.client.query(`CREATE SCHEMA ${schema}`);
    await server.client.query(`COMMENT ON SCHEMA ${schema} IS ${pg.escapeLiteral(markers.slot(slot))}`);
  } catch (err) {
    throw errors.provision(`create the schema ${schema}`, err);
  }
  if (plan === null) return;
  const client = await connect(opts.target, null, 'bulkhead:setup');
  try {
    // public stays on the path so extension types and functions installed there keep resolving.
    await client.query(`SET search_path TO ${schema}, public`);
    await runSetup(client, plan);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops a slot's schema if it exists and carries our marker (checked again: never drop a stranger's). */
async function dropSchema(server: Server, slot: number): Promise<void> {
  const name = names.schema(slot);
  const { exists, comment } = await server.schemaComment(name);
  if (!exists) return;
  if (!isOurs(comment)) throw errors.notOurs('schema', name);
  await server.client.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`).catch((err: unknown) => {
    throw errors.provision(`drop the schema "${name}"`, err);
  });
}

/**
 * Sessions the specs of a slot opened without naming themselves carry the slot's PGAPPNAME tag. Other sessions
 * on a shared database cannot be told apart from another run's or a colleague's, so they are never touched.
 */
function tagged(server: Server, database: string): { ledger: LeakLedger; find(slot: number, ownPids: readonly number[]): Promise<Leaks>; close(): Promise<number> } {
  const ledger = new LeakLedger();
  return {
    ledger,
    find(slot, ownPids) {
      return ledger.find(slot, async () => {
        const sessions = await server.sessions(database, `^${appTag(slot)}$`);
        return sessions.filter((s) => !ownPids.includes(s.pid));
      });
    },
    async close() {
      return server.terminate(ledger.all());
    },
  };
}
