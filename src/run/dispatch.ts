// Executes one Plan on fresh slot pools: dispatch, the load and per-test watchdogs, crash containment, --bail and Ctrl-C,
// and the guaranteed teardown order (connections closed with a goodbye, then what dead workers left behind).
import { projectMochaBundle } from './mochabundle.js';
import { ownMocha } from '../protocol/mochacopy.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/types.js';
import type { Admin } from '../db/admin.js';
import type { SlotResources } from '../db/types.js';
import type { SpecFile } from '../plan/discover.js';
import { errors } from '../errors.js';
import { serializeError } from '../protocol/serialize.js';
import type { EventBus } from './events.js';
import { FileRun } from './filerun.js';
import type { Running } from './filerun.js';
import { SlotPool } from './slotpool.js';
import { DispatchGate } from './outage.js';
import { Watchdog, runWatched } from './watchdog.js';
import { collectUnstarted, probeOnly } from './collect.js';
import { SlotClosing } from './closing.js';
import type { Interrupts } from './interrupts.js';
import type { WorkerData } from '../protocol/messages.js';
import { fileSeed, slotCount } from '../plan/schedule.js';
import type { Plan, PlanEntry } from '../plan/schedule.js';

const WATCHDOG_GRACE_MS = 2000;

export interface ExecuteOptions {
  /** Started by the caller before provisioning (so threads boot meanwhile); closed here. */
  pools: SlotPool[];
  config: Config;
  admin: Admin;
  resources: SlotResources;
  bus: EventBus;
  /** The run's one interrupt state: signals that came before execute() listens count as well. */
  interrupts: Interrupts;
  /** Turns the (possibly .only-narrowed) file list into the plan to run. */
  makePlan(files: SpecFile[]): Plan;
  files: SpecFile[];
  /** Skip the .only probe (replay and bisect run exact selections). */
  exact: boolean;
}

export type Stop = 'bail' | 'interrupt' | null;

export async function execute(o: ExecuteOptions): Promise<{ stop: Stop; plan: Plan; workers: number; pids: number[] }> {
  const pids = new Map<number, number[]>();
  o.bus.on('pids', (e) => {
    if (e.type === 'connect') pids.set(e.slot, [...(pids.get(e.slot) ?? []), e.pid]);
  });
  const slotPids = (slot: number): number[] => pids.get(slot) ?? [];
  const closing = new SlotClosing({ resources: o.resources, bus: o.bus, leaks: o.config.leaks, slotPids });
  const pools = o.pools;
  const workers = pools.length;
  for (const p of pools) p.assign(o.resources.env(p.slot), o.resources.target(p.slot), o.resources.database(p.slot));
  try {
    // .only anywhere narrows the run to the files that use it, as in serial mocha.
    const only = o.exact ? [] : await probeOnly(o.files, pools, { bus: o.bus, interrupts: o.interrupts, admin: o.admin, loadTimeout: o.config.loadTimeout, slotPids });
    if (o.config.forbidOnly && only.length > 0) throw errors.onlyForbidden(only.map((f) => f.rel));
    const plan = o.makePlan(only.length > 0 ? only : o.files);
    const used = pools.slice(0, slotCount(plan, workers));
    const stop = await dispatch(plan, used, o, slotPids, closing);
    // Connections are closed with a goodbye before anything is ended from the server side (a slot that ran out of
    // files closed its own already). The sessions the specs leaked are ended server-side while their threads still
    // hold the sockets: a thread that goes first drops them as "unexpected EOF" (mid-transaction, even). What the
    // ended sessions raise in a thread after its close task is never reported: the thread is about to go.
    // A second Ctrl-C (or the shutdown grace) cuts a close that hangs (a root afterAll that never settles).
    const offNow = o.interrupts.on('now', () => {
      for (const p of pools) p.kill('interrupted twice: stopped at once');
    });
    try {
      await closing.all(pools, used);
    } finally {
      offNow();
    }
    await o.resources.closeLeaks().catch(() => 0);
    await Promise.all(pools.map((p) => p.close()));
    return { stop, plan, workers: used.length, pids: [...pids.values()].flat() };
  } finally {
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}

/** One single-thread pool per slot, started at once: threads load mocha and pg while the slots are provisioned. */
export function startPools(config: Config, workers: number, files: readonly SpecFile[]): SlotPool[] {
  const typescript = usesTypeScript(config, files);
  // bulkhead's own mocha ships as one file; a project's own copy gets one, cached, from its first run on.
  const mochaBundle = config.mochaPackage === ownMocha().dir ? null : projectMochaBundle(config.root, config.mochaPackage);
  return Array.from({ length: workers }, (_, i) => new SlotPool(workerData(config, i + 1, typescript, mochaBundle), process.env));
}

const TYPESCRIPT = /\.(c|m)?tsx?$/;

/**
 * Decided once for the whole run, from every file it may load: a worker that meets a .js spec first must still
 * load the .ts one after it (a worker deciding from its first file could not).
 */
export function usesTypeScript(config: Config, files: readonly SpecFile[]): boolean {
  const paths = [...files.map((f) => f.path), ...config.mocha.requires, ...config.mocha.files, config.configFile ?? '', config.setup ?? ''];
  if (paths.some((p) => TYPESCRIPT.test(p))) return true;
  if (config.setup === null) return false;
  // A setup directory of migrations: its modules may be TypeScript.
  try {
    return readdirSync(path.resolve(config.root, config.setup)).some((name) => TYPESCRIPT.test(name));
  } catch {
    return false;
  }
}

function workerData(config: Config, slot: number, typescript: boolean, mochaBundle: string | null): WorkerData {
  return {
    slot,
    root: config.root,
    typescript,
    rootHooks: config.rootHooks,
    target: null,
    configFile: config.configFile,
    chaos: config.chaos,
    transaction: config.transaction,
    nodeOptions: [...config.nodeOptions],
    mochaPackage: config.mochaPackage,
    mochaBundle,
    mocha: { ...config.mocha, requires: [...config.mocha.requires], globals: [...config.mocha.globals], files: [...config.mocha.files], ...maxDiffSize(config) },
  };
}

/** The reporter option as Base reads it (a number, or text that is one); anything else leaves mocha's default. */
function maxDiffSize(config: Config): { maxDiffSize?: number } {
  const value = config.reporterOptions['maxDiffSize'];
  const n = Number(value);
  return value !== undefined && value !== '' && !Number.isNaN(n) ? { maxDiffSize: n } : {};
}

async function dispatch(plan: Plan, pools: SlotPool[], o: ExecuteOptions, slotPids: (slot: number) => number[], closing: SlotClosing): Promise<Stop> {
  const shared = plan.kind === 'queue' ? [...plan.entries] : null;
  const own = plan.kind === 'slots' ? plan.slots.map((s) => [...s]) : [];
  const next = (i: number): PlanEntry | undefined => (shared !== null ? shared.shift() : own[i]?.shift());
  let stop: Stop = null;
  const halt = (why: Exclude<Stop, null>): void => {
    if (stop !== null) return;
    stop = why;
    for (const p of pools) p.stop(why);
  };
  // Signals that came earlier (during the .only probe) act at once: nothing starts, and every file is listed below.
  const offStop = o.interrupts.on('stop', () => halt('interrupt'));
  const ownOf = (slot: number): { database: string; slot: number } | null => {
    const database = o.resources.ownDatabase?.(slot) ?? null;
    return database === null ? null : { database, slot };
  };
  // Backends are ended server-side before their threads go, so no session is abandoned mid-transaction.
  const offNow = o.interrupts.on('now', () => {
    for (const p of pools) {
      // First, so that a connection the terminate below breaks is not replaced (and then cut off with the thread).
      p.stopAtOnce();
      void o.admin
        .terminate(slotPids(p.slot), ownOf(p.slot))
        .catch(() => 0)
        .finally(() => p.kill('interrupted twice: stopped at once'));
    }
  });

  const gate = new DispatchGate(o.bus, o.admin);
  const loop = async (pool: SlotPool, index: number): Promise<void> => {
    for (let entry = stop === null ? next(index) : undefined; entry !== undefined; entry = stop === null ? next(index) : undefined) {
      await gate.wait();
      const slotUsable = await runEntry(pool, entry, plan.seed, o, slotPids, () => (stop === 'interrupt' ? o.interrupts.reason : stop), halt);
      if (!slotUsable) return;
    }
    // Out of files (not stopped): the slot closes while the others finish theirs.
    if (stop === null) closing.finish(pool);
  };
  try {
    await Promise.all(pools.map(loop));
    // Entries never dispatched are still accounted for, test by test: they are loaded (not run) to list their tests.
    const left = shared ?? own.flat();
    const reason =
      stop === 'bail' ? '--bail stopped the run after the first failure'
      : stop === 'interrupt' ? `${o.interrupts.reason} before this file started`
      : 'its slot could not be prepared again after a crash';
    // Only workers that have not closed load the files never started (none has, when a stop left files behind).
    const open = pools.filter((p) => !closing.finished(p));
    await collectUnstarted(left, open.length > 0 ? open : pools, reason, { bus: o.bus, interrupts: o.interrupts, admin: o.admin, loadTimeout: o.config.loadTimeout, slotPids });
  } finally {
    offStop();
    offNow();
    gate.close();
  }
  return stop;
}

async function runEntry(
  pool: SlotPool,
  entry: PlanEntry,
  seed: number | null,
  o: ExecuteOptions,
  slotPids: (slot: number) => number[],
  stopped: () => string | null,
  halt: (why: 'bail') => void,
): Promise<boolean> {
  const dog = new Watchdog(pool, o.admin, slotPids, (slot) => o.resources.ownDatabase?.(slot) ?? null);
  // The test watchdog: a test or hook that blocks its worker's event loop cannot time out by itself.
  const arm = (r: Running | null): void => {
    if (r === null || r.timeout <= 0) dog.clear();
    else dog.armBlocked(r.timeout + WATCHDOG_GRACE_MS, `${r.what} exceeded its timeout of ${r.timeout} ms without yielding the event loop; bulkhead terminated the worker of slot ${pool.slot}`);
  };
  const fr: FileRun = new FileRun(entry.file.rel, entry.round, pool, { bus: o.bus, cutOff: () => o.interrupts.stoppedAtOnce, cutReason: () => o.interrupts.cutReason }, (r) => arm(r));
  const outcome = await runWatched(
    pool,
    {
      file: entry.file.path,
      mode: 'run',
      ...(seed !== null ? { shuffleSeed: fileSeed(seed, entry.file.rel) } : {}),
      ...(entry.tests !== undefined ? { select: entry.tests } : {}),
    },
    fr,
    dog,
    o.config.loadTimeout,
  );
  if (outcome.kind === 'crashed') {
    fr.crashed(outcome.error, outcome.aborted);
    if (!(await recover(pool, fr, o))) return false;
  } else {
    const stop = stopped();
    fr.finish(stop === 'bail' ? '--bail stopped the run after the first failure' : (stop ?? undefined));
    // process.exit() was called: the thread and its slot's data are no longer trusted, as after a crash.
    if (outcome.result.recycle) {
      await pool.recycle();
      if (!(await recover(pool, fr, o))) return false;
    }
  }
  if (o.config.mocha.bail && fr.failed) halt('bail');
  return true;
}

/**
 * A fresh copy of the slot's database after a crash. When that fails (the server is gone) the slot takes no more
 * files: its failure is reported against the file whose crash needed it, and the slot's files are listed as not run.
 */
async function recover(pool: SlotPool, fr: FileRun, o: ExecuteOptions): Promise<boolean> {
  try {
    await o.resources.recover(pool.slot);
    return true;
  } catch (err) {
    const cause = serializeError(err);
    const message = `slot ${pool.slot} could not be prepared again after the crash, so it takes no more files: ${cause.message}`;
    fr.fail(`preparing slot ${pool.slot} again after ${fr.file}`, { name: 'BulkheadError', message, stack: `BulkheadError: ${message}`, cause });
    return false;
  }
}
