// Schema isolation: one marked schema per slot inside the target, the setup applied in each. Every slot shares one
// database here, so leaks are traced by application_name. The schemas' DDL runs inside the target, on short-lived
// sessions: the maintenance session stays off the target (see admin.ts).
import pg from 'pg';
import { errors } from '../errors.js';
import type { Context, Provisioned } from './types.js';
import { connect } from './connect.js';
import { sessionsOn } from './server.js';
import { schemaSlot, taggedLeaks } from './slots.js';
import { isOurs, markers, names } from './safety.js';
import { runSetup } from './setup.js';
import { teardownOnce } from './teardown.js';

export async function provisionSchemas(ctx: Context): Promise<Provisioned> {
  const { admin, opts, base, log } = ctx;
  const slots = Array.from({ length: opts.workers }, (_, i) => schemaSlot(opts.target, i + 1, base, opts.scope));

  const perSlot: number[] = [];
  await inTarget(ctx, async (client) => {
    // 1. Refuse before creating anything: a schema we would replace must carry our marker.
    for (const { schema } of slots) {
      const { exists, comment } = await schemaComment(client, schema ?? '');
      if (exists && !isOurs(comment)) throw errors.notOurs('schema', schema ?? '');
    }
    // 2. One slot after another: a setup may CREATE EXTENSION, which is database-wide and must not race itself.
    const created: number[] = [];
    try {
      for (const { slot } of slots) {
        const t = performance.now();
        await createSchema(ctx, client, slot);
        created.push(slot);
        perSlot.push(performance.now() - t);
      }
    } catch (err) {
      for (const slot of created) await dropSchema(client, names.schema(slot, opts.scope)).catch(() => undefined);
      throw err;
    }
  });
  log(`bulkhead: ${slots.length} schema${slots.length === 1 ? '' : 's'} in ${base}${ctx.plan === null ? '' : ', setup applied in each'}`);

  const leaks = taggedLeaks(admin, base);
  return {
    slots,
    templateReused: false,
    setupRan: ctx.plan !== null,
    timings: { template: 0, perSlot, slots: perSlot.reduce((a, b) => a + b, 0) },
    reclone: (slot) => admin.serial(async () => {
      // The dead worker's sessions may still hold locks in the schema about to be dropped.
      await admin.end(await sessionsOn(admin.client, base, `^bulkhead:w${slot}(:reaper|:app)?$`));
      leaks.ledger.forget(slot);
      await inTarget(ctx, (client) => createSchema(ctx, client, slot));
    }),
    // The slots share one database: what they leaked is ended at teardown, with the rest.
    release: () => Promise.resolve(),
    leaks: (slot, ownPids, held) => leaks.find(slot, ownPids, held),
    closeLeaks: () => admin.serial(leaks.close),
    teardown: teardownOnce(admin, {
      closeLeaks: leaks.close,
      leftOpen: 'the specs left open',
      created: {
        kind: 'schema',
        names: opts.keepDatabases ? [] : slots.map((s) => names.schema(s.slot, opts.scope)),
        drop: (name) => inTarget(ctx, (client) => dropSchema(client, name)),
      },
    }),
  };
}

/** Runs `work` on a short-lived session on the target, where the schemas are. */
async function inTarget<T>(ctx: Context, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await ctx.admin.openOn(null);
  try {
    // A leaked session holding a lock in a slot's schema must not hang the DROP forever.
    await client.query("SET lock_timeout = '30s'");
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function schemaComment(client: pg.Client, name: string): Promise<{ exists: boolean; comment: string | null }> {
  const { rows } = await client.query<{ c: string | null }>("SELECT obj_description(oid, 'pg_namespace') AS c FROM pg_namespace WHERE nspname = $1", [name]);
  return { exists: rows.length > 0, comment: rows[0]?.c ?? null };
}

/** The slot's schema afresh (a marked one left by a crash goes first), and the setup applied in it. */
async function createSchema(ctx: Context, client: pg.Client, slot: number): Promise<void> {
  const { plan, opts } = ctx;
  const schema = pg.escapeIdentifier(names.schema(slot, opts.scope));
  await dropSchema(client, names.schema(slot, opts.scope));
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`COMMENT ON SCHEMA ${schema} IS ${pg.escapeLiteral(markers.slot(slot))}`);
  } catch (err) {
    throw errors.provision(`create the schema ${schema}`, err);
  }
  if (plan === null) return;
  const setup = await connect(opts.target, null, 'bulkhead:setup');
  try {
    // public stays on the path so extension types and functions installed there keep resolving.
    await setup.query(`SET search_path TO ${schema}, public`);
    await runSetup(setup, plan);
  } finally {
    await setup.end().catch(() => undefined);
  }
}

/** Drops a slot's schema if it exists and carries our marker (checked again: never drop a stranger's). */
async function dropSchema(client: pg.Client, name: string): Promise<void> {
  const { exists, comment } = await schemaComment(client, name);
  if (!exists) return;
  if (!isOurs(comment)) throw errors.notOurs('schema', name);
  await client.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`).catch((err: unknown) => {
    throw errors.provision(`drop the schema "${name}"`, err);
  });
}
