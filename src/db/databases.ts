// Database isolation: a template built from the setup (or a per-run copy of the target when there is none), then
// one `CREATE DATABASE ... TEMPLATE` per slot, each marked so that only bulkhead ever drops it.
import pg from 'pg';
import { errors } from '../errors.js';
import type { Context, Provisioned, TeardownReport } from './types.js';
import { connect } from './connect.js';
import { HARNESS_SESSION } from './server.js';
import { isConnectionError } from '../protocol/faults.js';
import type { Server } from './server.js';
import { databaseSlot, LeakLedger } from './slots.js';
import { isOurs, markers, names } from './safety.js';
import { runSetup } from './setup.js';

/*
 * Clones run on up to this many sessions at once. Copies of a small template are bounded by per-statement
 * overhead (catalog work, WAL flush), so they overlap well; more sessions mostly add connection cost.
 */
const CLONE_SESSIONS = 4;
const HARNESS = new RegExp(HARNESS_SESSION);

export async function provisionDatabases(ctx: Context): Promise<Provisioned> {
  const { server, opts, base, log } = ctx;
  const template = names.template(base);
  const slotNames = Array.from({ length: opts.workers }, (_, i) => names.slotDatabase(base, i + 1));

  // 1. A concurrent run on the same target waits here for the whole of the other run: slot names are fixed
  //    (<base>_bulkhead_w<n>), so two runs at once would replace each other's databases. The lock goes with the
  //    maintenance session at teardown.
  await server.lock(template, log);
  // Refuse before creating anything: every name we would replace must carry our marker.
  const leftovers: string[] = [];
  for (const name of [template, ...slotNames]) {
    const { exists, comment } = await server.databaseComment(name);
    if (exists && !isOurs(comment)) {
      await server.unlock(template).catch(() => undefined);
      throw errors.notOurs('database', name);
    }
    if (exists && name !== template) leftovers.push(name);
  }

  // 2. The template, then the slots.
  const t0 = performance.now();
  let built: { reused: boolean; ran: boolean };
  let templateMs = 0;
  let perSlot: number[];
  let slotsMs = 0;
  const slotClones = slotNames.map((name, i) => ({ name, marker: markers.slot(i + 1) }));
  try {
    if (ctx.plan === null) {
      // Zero-config: a private snapshot of the target, the slots' template, so the target must be idle only now,
      // not at every reclone. CREATE DATABASE itself waits a few seconds for other sessions to leave the target and
      // then names them (55006 -> templateBusy), so there is no racy pre-check here. (Copying the snapshot beside
      // the slots instead measured no faster on two cores, and made each slot's share of the work larger.)
      built = { reused: false, ran: false };
      await server.dropOurDatabase(template);
      await server.createDatabase(template, base, markers.snapshot);
    } else {
      built = await ensureTemplate(ctx, template);
    }
    templateMs = performance.now() - t0;
    log(`bulkhead: template ${template} ${built.reused ? 'reused (setup unchanged)' : built.ran ? 'built from the setup' : `copied from ${base}`} in ${ms(t0)} ms`);
    await dropLeftovers(ctx, leftovers);
    const t1 = performance.now();
    perSlot = await cloneAll(ctx, template, slotClones);
    slotsMs = performance.now() - t1;
  } catch (err) {
    if (ctx.plan === null) await server.dropOurDatabase(template).catch(() => undefined);
    await server.unlock(template).catch(() => undefined);
    throw err;
  }

  // 3. What the run uses afterwards: reclone after a crash, the leak detector, teardown.
  const ledger = new LeakLedger();
  let closed = false;
  const slotName = (slot: number): string => {
    const name = slotNames[slot - 1];
    if (name === undefined) throw new RangeError(`slot ${slot} is not one of 1..${slotNames.length}`);
    return name;
  };
  const closeLeaks = async (): Promise<number> => {
    let ended = 0;
    for (const name of slotNames) ended += await server.terminate(await server.sessions(name));
    return ended;
  };
  return {
    slots: slotNames.map((name, i) => databaseSlot(opts.target, i + 1, name)),
    templateReused: built.reused,
    setupRan: built.ran,
    timings: { template: templateMs, perSlot, slots: slotsMs },
    reclone: (slot) => server.serial(async () => {
      const t = performance.now();
      const name = slotName(slot);
      // What the dead worker left is ours to end: the database is about to be replaced.
      await server.terminate(await server.sessions(name));
      await server.dropOurDatabase(name);
      await server.createDatabase(name, template, markers.slot(slot));
      ledger.forget(slot);
      log(`bulkhead: slot ${slot}: ${name} cloned again from ${template} in ${ms(t)} ms`);
    }),
    leaks: (slot, ownPids) => server.serial(() => ledger.find(slot, async () => {
      const sessions = await server.sessions(slotName(slot));
      return sessions.filter((s) => !ownPids.includes(s.pid) && !HARNESS.test(s.applicationName));
    })),
    closeLeaks: () => server.serial(closeLeaks),
    teardown: async () => {
      const report: TeardownReport = { notDropped: [], problems: [] };
      if (closed) return report;
      closed = true;
      // The per-run copy of the target (no setup) is never reused, so it goes even with --keep-databases, which
      // keeps the slots for inspection; a template built from a setup stays for the next run.
      const drop = [...(opts.keepDatabases ? [] : slotNames), ...(ctx.plan === null ? [template] : [])];
      // Once the server cannot be reached at all, the rest is not tried: each try would wait for it again.
      let unreachable: string | null = null;
      try {
        await server.serial(closeLeaks, { patient: true }).catch((err: unknown) => {
          // An unreachable server is reported once, with what it left: the databases below.
          if (isConnectionError(err) && drop.length > 0) unreachable = message(err);
          else report.problems.push(`could not end the sessions left on the slot databases: ${message(err)}`);
        });
        for (const name of drop) {
          if (unreachable !== null) {
            report.notDropped.push({ kind: 'database', name, why: unreachable });
            continue;
          }
          await server.serial(() => server.dropOurDatabase(name), { patient: true }).catch((err: unknown) => {
            if (isConnectionError(err)) unreachable = message(err);
            report.notDropped.push({ kind: 'database', name, why: message(err) });
          });
        }
      } finally {
        await server.close();
      }
      return report;
    },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Slot databases beyond this run's slots (`_w3`, `_w4` after a crashed run with more workers than this one)
 * would otherwise wait for a run with as many slots. They go now, but only those that carry our marker; the
 * template lock held here means no live run on this target uses them. One still in use is left, with a note.
 */
async function dropSurplusSlots(server: Server, base: string, workers: number, log: (line: string) => void): Promise<void> {
  const { rows } = await server.client.query<{ datname: string; c: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname ~ '_bulkhead_w[0-9]+$' ORDER BY datname",
  );
  for (const { datname, c } of rows) {
    const slot = Number(/_bulkhead_w([0-9]+)$/.exec(datname)?.[1]);
    if (!(slot > workers) || names.slotDatabase(base, slot) !== datname || !isOurs(c)) continue;
    try {
      await server.dropOurDatabase(datname);
      log(`bulkhead: dropped ${datname}, left by an earlier run with more workers`);
    } catch (err) {
      log(`bulkhead: warning: could not drop ${datname}, left by an earlier run with more workers: ${message(err)}`);
    }
  }
}

/** Slots left by a crashed run go first, on this session: the clones after them run on several at once. */
async function dropLeftovers(ctx: Context, leftovers: readonly string[]): Promise<void> {
  for (const name of leftovers) await ctx.server.dropOurDatabase(name);
  await dropSurplusSlots(ctx.server, ctx.base, ctx.opts.workers, ctx.log);
}

/** The template built from the setup, or reused while the setup's hash is unchanged. */
async function ensureTemplate(ctx: Context, template: string): Promise<{ reused: boolean; ran: boolean }> {
  const { server, plan } = ctx;
  if (plan === null) throw new Error('ensureTemplate needs a setup');
  const current = await server.databaseComment(template);
  if (current.comment === markers.template(plan.hash)) return { reused: true, ran: false };
  await server.dropOurDatabase(template);
  // Marked as ours before setup runs, so a build that dies half way is dropped and rebuilt by the next run.
  await server.createDatabase(template, null, markers.building);
  try {
    const client = await connect(ctx.opts.target, template, 'bulkhead:setup').catch((err: unknown) => {
      throw errors.provision(`connect to the new template "${template}"`, err);
    });
    try {
      await runSetup(client, plan);
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    await server.dropOurDatabase(template).catch(() => undefined);
    throw err;
  }
  await server.client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(template)} IS ${pg.escapeLiteral(markers.template(plan.hash))}`);
  return { reused: false, ran: true };
}

/** Clones each database from `source`; on any failure the ones made so far are dropped again. Returns each one's time. */
async function cloneAll(ctx: Context, source: string, clones: readonly { name: string; marker: string }[]): Promise<number[]> {
  const { server, opts } = ctx;
  const perSlot = clones.map(() => 0);
  const created: string[] = [];
  const queue = clones.map((c, i) => ({ ...c, index: i }));
  const extra = Math.min(CLONE_SESSIONS, clones.length) - 1;
  const database = server.client.database ?? null;
  const sessions = [server.client];
  let failure: { error: unknown } | null = null;
  try {
    for (let i = 0; i < extra; i++) sessions.push(await connect(opts.target, database, 'bulkhead:main'));
    // allSettled, not all: a clone still running when another fails must finish before the cleanup drops it.
    await Promise.allSettled(
      sessions.map(async (client) => {
        for (let next = queue.shift(); next !== undefined && failure === null; next = queue.shift()) {
          const t = performance.now();
          try {
            await server.createDatabase(next.name, source, next.marker, client);
            created.push(next.name);
          } catch (error) {
            failure ??= { error };
          }
          perSlot[next.index] = performance.now() - t;
        }
      }),
    );
  } catch (error) {
    failure ??= { error };
  } finally {
    for (const client of sessions.slice(1)) await client.end().catch(() => undefined);
  }
  if (failure !== null) {
    for (const name of created) await server.dropOurDatabase(name).catch(() => undefined);
    throw failure.error;
  }
  return perSlot;
}

function ms(since: number): string {
  return (performance.now() - since).toFixed(0);
}
