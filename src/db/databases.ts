// Database isolation: a template built from the setup (or, without one, the target itself), then one
// `CREATE DATABASE ... TEMPLATE` per slot, each marked so that only bulkhead ever drops it.
import pg from 'pg';
import { errors } from '../errors.js';
import type { Context, Provisioned } from './types.js';
import type { Admin } from './admin.js';
import { connect } from './connect.js';
import { createDatabase, databaseComment, dropOurDatabase, HARNESS_SESSION, sessionsOn } from './server.js';
import { databaseSlot, LeakLedger } from './slots.js';
import { isOurs, markers, names } from './safety.js';
import { runSetup } from './setup.js';
import { teardownOnce } from './teardown.js';

/*
 * Clones run on up to this many sessions at once. Copies of a small template are bounded by per-statement
 * overhead (catalog work, WAL flush), so they overlap well; more sessions mostly add connection cost.
 */
const CLONE_SESSIONS = 4;
const HARNESS = new RegExp(HARNESS_SESSION);

export async function provisionDatabases(ctx: Context): Promise<Provisioned> {
  const { admin, opts, base, log } = ctx;
  const template = names.template(base, opts.scope);
  const slotNames = Array.from({ length: opts.workers }, (_, i) => names.slotDatabase(base, i + 1, opts.scope));
  const built = await admin.serial(() => build(ctx, template, slotNames), { repeat: false });
  // Without a setup the slots are copies of the target itself (as is a slot cloned again after a crash).
  const source = ctx.plan === null ? base : template;

  // What the run uses afterwards: reclone after a crash, the leak detector, teardown.
  const ledger = new LeakLedger();
  const slotName = (slot: number): string => {
    const name = slotNames[slot - 1];
    if (name === undefined) throw new RangeError(`slot ${slot} is not one of 1..${slotNames.length}`);
    return name;
  };
  const closeLeaks = async (): Promise<number> => {
    let ended = 0;
    for (const name of slotNames) ended += await admin.end(await sessionsOn(admin.client, name));
    return ended;
  };
  return {
    slots: slotNames.map((name, i) => databaseSlot(opts.target, i + 1, name)),
    templateReused: built.reused,
    setupRan: built.ran,
    timings: built.timings,
    reclone: (slot) => admin.serial(async () => {
      const t = performance.now();
      const name = slotName(slot);
      // What the dead worker left is ours to end: the database is about to be replaced.
      await admin.end(await sessionsOn(admin.client, name));
      await dropOurDatabase(admin, name);
      await createDatabase(admin.client, name, source, markers.slot(slot));
      ledger.forget(slot);
      log(`bulkhead: slot ${slot}: ${name} cloned again from ${source} in ${ms(t)} ms`);
    }),
    // Each look takes the maintenance session; the grace between looks leaves it to the other slots.
    release: (slot) => admin.serial(async () => {
      if (opts.keepDatabases) return;
      const name = slotName(slot);
      await admin.end(await sessionsOn(admin.client, name));
      // Teardown finds it gone and moves on; a drop that fails here is tried again there, and reported.
      await dropOurDatabase(admin, name);
    }),
    leaks: (slot, ownPids, held) =>
      ledger.find(
        slot,
        () => admin.serial(async () => {
          const sessions = await sessionsOn(admin.client, slotName(slot));
          return sessions.filter((s) => !ownPids.includes(s.pid) && !HARNESS.test(s.applicationName));
        }),
        held,
      ),
    closeLeaks: () => admin.serial(closeLeaks),
    teardown: teardownOnce(admin, {
      closeLeaks,
      leftOpen: 'left on the slot databases',
      created: {
        kind: 'database',
        // A template built from a setup stays for the next run; without a setup there is none.
        names: opts.keepDatabases ? [] : slotNames,
        drop: (name) => dropOurDatabase(admin, name),
      },
    }),
  };
}

/**
 * The template, then the slots, on the maintenance session (one operation: nothing else runs meanwhile), under the
 * target's lock (taken by provision()): slot names are fixed (<base>_bulkhead_w<n>), so a concurrent run on the same
 * target waits for the whole of this one. On a failure here whatever this run made so far goes at once.
 */
async function build(ctx: Context, template: string, slotNames: readonly string[]): Promise<{ reused: boolean; ran: boolean; timings: Provisioned['timings'] }> {
  const { admin, base, log } = ctx;
  const leftovers = await ourLeftovers(admin, template, slotNames);
  try {
    const t0 = performance.now();
    const built = await ensureTemplate(ctx, template);
    const templateMs = performance.now() - t0;
    if (ctx.plan === null) log(`bulkhead: no setup: the slots are cloned straight from ${base}`);
    else log(`bulkhead: template ${template} ${built.reused ? 'reused (setup unchanged)' : 'built from the setup'} in ${ms(t0)} ms`);
    await dropLeftovers(ctx, leftovers);
    const t1 = performance.now();
    const perSlot = await cloneAll(ctx, ctx.plan === null ? base : template, slotNames.map((name, i) => ({ name, marker: markers.slot(i + 1) })));
    return { ...built, timings: { template: templateMs, perSlot, slots: performance.now() - t1 } };
  } catch (err) {
    if (ctx.plan === null) await dropOurDatabase(admin, template).catch(() => undefined);
    throw err;
  }
}

/**
 * Slot databases beyond this run's slots (`_w3`, `_w4` after a crashed run with more workers than this one)
 * would otherwise wait for a run with as many slots. They go now, but only those that carry our marker; the
 * template lock held here means no live run on this target uses them. One still in use is left, with a note.
 */
async function dropSurplusSlots(admin: Admin, base: string, workers: number, scope: string, log: (line: string) => void): Promise<void> {
  const pattern = names.slotPattern(scope);
  const { rows } = await admin.client.query<{ datname: string; c: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname ~ $1 ORDER BY datname",
    [pattern],
  );
  for (const { datname, c } of rows) {
    const slot = Number(new RegExp(pattern).exec(datname)?.[1]);
    if (!(slot > workers) || names.slotDatabase(base, slot, scope) !== datname || !isOurs(c)) continue;
    try {
      await dropOurDatabase(admin, datname);
      log(`bulkhead: dropped ${datname}, left by an earlier run with more workers`);
    } catch (err) {
      log(`bulkhead: warning: could not drop ${datname}, left by an earlier run with more workers: ${message(err)}`);
    }
  }
}

/** Slots left by a crashed run go first, on this session: the clones after them run on several at once. */
async function dropLeftovers(ctx: Context, leftovers: readonly string[]): Promise<void> {
  for (const name of leftovers) await dropOurDatabase(ctx.admin, name);
  await dropSurplusSlots(ctx.admin, ctx.base, ctx.opts.workers, ctx.opts.scope ?? '', ctx.log);
}

/** Refuses before anything is created: every name we would replace must carry our marker. Returns the slots left. */
async function ourLeftovers(admin: Admin, template: string, slotNames: readonly string[]): Promise<string[]> {
  const leftovers: string[] = [];
  for (const name of [template, ...slotNames]) {
    const { exists, comment } = await databaseComment(admin.client, name);
    if (exists && !isOurs(comment)) throw errors.notOurs('database', name);
    if (exists && name !== template) leftovers.push(name);
  }
  return leftovers;
}

/** The template: built from the setup (or reused while its hash is unchanged), or without one a copy of the target. */
async function ensureTemplate(ctx: Context, template: string): Promise<{ reused: boolean; ran: boolean }> {
  const { admin, plan } = ctx;
  if (plan === null) {
    // Zero-config: the slots are cloned straight from the target; a per-run snapshot of it in between cost every
    // run one more whole copy on its critical path (~360 ms of 776 ms of provisioning on 50 files at -w 2, issue
    // 11). The target must then be idle while the slots are made, and again when a crashed slot is cloned anew.
    // CREATE DATABASE itself waits a few seconds for other sessions to leave the target and then names them
    // (55006 -> templateBusy), so there is no racy pre-check here. A snapshot an older version left goes.
    await dropOurDatabase(admin, template);
    return { reused: false, ran: false };
  }
  const current = await databaseComment(admin.client, template);
  if (current.comment === markers.template(plan.hash)) return { reused: true, ran: false };
  await dropOurDatabase(admin, template);
  // Marked as ours before setup runs, so a build that dies half way is dropped and rebuilt by the next run.
  await createDatabase(admin.client, template, null, markers.building);
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
    await dropOurDatabase(admin, template).catch(() => undefined);
    throw err;
  }
  await admin.client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(template)} IS ${pg.escapeLiteral(markers.template(plan.hash))}`);
  return { reused: false, ran: true };
}

/** Clones each database from `source`; on any failure the ones made so far are dropped again. Returns each one's time. */
async function cloneAll(ctx: Context, source: string, clones: readonly { name: string; marker: string }[]): Promise<number[]> {
  const { admin } = ctx;
  const perSlot = clones.map(() => 0);
  const created: string[] = [];
  const queue = clones.map((c, i) => ({ ...c, index: i }));
  // On a server without "postgres" the maintenance session lives on the target: a clone straight from the target is
  // then allowed only from that session itself (CREATE DATABASE counts the other sessions on its template).
  const extra = source === admin.database ? 0 : Math.min(CLONE_SESSIONS, clones.length) - 1;
  const sessions = [admin.client];
  let failure: { error: unknown } | null = null;
  const work = async (client: pg.Client): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && failure === null; next = queue.shift()) {
      const t = performance.now();
      try {
        await createDatabase(client, next.name, source, next.marker);
        created.push(next.name);
      } catch (error) {
        failure ??= { error };
      }
      perSlot[next.index] = performance.now() - t;
    }
  };
  try {
    // The maintenance session clones at once while the others connect (each connect was on the critical path), on
    // the maintenance session's database, never on the one they copy (a session there would block it).
    const opened = Array.from({ length: extra }, () =>
      admin.openOn(admin.database).then(
        (client) => {
          sessions.push(client);
          return work(client);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      ),
    );
    // allSettled, not all: a clone still running when another fails must finish before the cleanup drops it.
    await Promise.allSettled([work(admin.client), ...opened]);
  } finally {
    for (const client of sessions.slice(1)) await client.end().catch(() => undefined);
  }
  // Set inside the workers above, which the compiler does not follow.
  const failed = failure as { error: unknown } | null;
  if (failed !== null) {
    for (const name of created) await dropOurDatabase(admin, name).catch(() => undefined);
    throw failed.error;
  }
  return perSlot;
}

function ms(since: number): string {
  return (performance.now() - since).toFixed(0);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
