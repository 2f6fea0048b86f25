// Executes one Plan on fresh slot pools: dispatch, the load and per-test watchdogs, crash containment, --bail and Ctrl-C,
// and the guaranteed teardown order (connections closed with a goodbye, then what dead workers left behind).
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/load.js';
import type { Admin } from '../db/admin.js';
import type { SpecFile } from '../plan/discover.js';
import { errors } from '../errors.js';
import { serializeError } from '../protocol/serialize.js';
import type { EventBus } from './events.js';
import { FileRun } from './filerun.js';
import type { Running } from './filerun.js';
import { SlotPool } from './slotpool.js';
import type { RunOutcome } from './slotpool.js';
import type { ConnectionTarget, RunTask, WorkerData, WorkerEvent } from '../protocol/messages.js';
import { fileSeed, slotCount } from '../plan/schedule.js';
import type { Plan, PlanEntry } from '../plan/schedule.js';
import { EventBus as Bus } from './events.js';

const WATCHDOG_GRACE_MS = 2000;

/** What each slot runs against; the provisioning layer decides (shared target, a database or schema per slot). */
export interface SlotResources {
  target(slot: number): ConnectionTarget | null;
  env(slot: number): Record<string, string>;
  /** The name of the database the slot works in (its own, or the shared target), for onWorkerStart({ db }). */
  database(slot: number): string | null;
  /** After a worker crash, before its replacement runs anything (e.g. clone the slot's database afresh). */
  recover(slot: number): Promise<void>;
  /** After each file: sessions on the slot's database that are not the worker's own. */
  leaks(slot: number, ownPids: readonly number[]): Promise<{ count: number; applicationNames: string[] }>;
  /** Once every worker has closed its own connection, before the threads go: ends the sessions the specs leaked. */
  closeLeaks(): Promise<number>;
}

export interface ExecuteOptions {
  /** Started by the caller before provisioning (so threads boot meanwhile); closed here. */
  pools: SlotPool[];
  config: Config;
  admin: Admin;
  resources: SlotResources;
  bus: EventBus;
  interrupt: EventTarget;
  /** How many signals came before execute() listens (during provisioning or the .only probe). */
  interrupted?: () => number;
  /** Turns the (possibly .only-narrowed) file list into the plan to run. */
  makePlan(files: SpecFile[]): Plan;
  files: SpecFile[];
  /** Skip the .only probe (replay and bisect run exact selections). */
  exact: boolean;
  onLeak?(file: string, slot: number, leak: { count: number; applicationNames: string[] }): void;
}

export type Stop = 'bail' | 'interrupt' | null;

export async function execute(o: ExecuteOptions): Promise<{ stop: Stop; plan: Plan; workers: number; pids: number[] }> {
  const pids = new Map<number, number[]>();
  o.bus.on('pids', (e) => {
    if (e.type === 'connect') pids.set(e.slot, [...(pids.get(e.slot) ?? []), e.pid]);
  });
  const slotPids = (slot: number): number[] => pids.get(slot) ?? [];
  const pools = o.pools;
  const workers = pools.length;
  for (const p of pools) p.assign(o.resources.env(p.slot), o.resources.target(p.slot), o.resources.database(p.slot));
  try {
    // .only anywhere narrows the run to the files that use it, as in serial mocha.
    const only = o.exact ? [] : await probeOnly(o.files, pools, o, slotPids);
    if (o.config.forbidOnly && only.length > 0) throw errors.onlyForbidden(only.map((f) => f.rel));
    const plan = o.makePlan(only.length > 0 ? only : o.files);
    const used = pools.slice(0, slotCount(plan, workers));
    const stop = await dispatch(plan, used, o, slotPids);
    // Connections are closed with a goodbye before anything is ended from the server side. The sessions the specs
    // leaked are ended server-side while their threads still hold the sockets: a thread that goes first drops them
    // as "unexpected EOF" (mid-transaction, even). What the ended sessions raise in a thread after its close task
    // is never reported: the thread is about to go.
    await Promise.all(pools.map((p) => p.closeConnection()));
    await o.resources.closeLeaks().catch(() => 0);
    await Promise.all(pools.map((p) => p.close()));
    return { stop, plan, workers: used.length, pids: [...pids.values()].flat() };
  } finally {
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}

/** One single-thread pool per slot, started at once: threads load mocha and pg while the slots are provisioned. */
export function startPools(config: Config, workers: number): SlotPool[] {
  return Array.from({ length: workers }, (_, i) => new SlotPool(workerData(config, i + 1), process.env));
}

function workerData(config: Config, slot: number): WorkerData {
  return {
    slot,
    root: config.root,
    target: null,
    configFile: config.configFile,
    chaos: config.chaos,
    transaction: config.transaction,
    mocha: { ...config.mocha, requires: [...config.mocha.requires], globals: [...config.mocha.globals], files: [...config.mocha.files], ...maxDiffSize(config) },
  };
}

/** The reporter option as Base reads it (a number, or text that is one); anything else leaves mocha's default. */
function maxDiffSize(config: Config): { maxDiffSize?: number } {
  const value = config.reporterOptions['maxDiffSize'];
  const n = Number(value);
  return value !== undefined && value !== '' && !Number.isNaN(n) ? { maxDiffSize: n } : {};
}

const ONLY = /\.only\s*\(/;

/** Files that really use .only: a text scan finds candidates, and loading them (without running) confirms. */
async function probeOnly(files: SpecFile[], pools: SlotPool[], o: ExecuteOptions, slotPids: (slot: number) => number[]): Promise<SpecFile[]> {
  const candidates: SpecFile[] = [];
  for (const f of files) {
    if (ONLY.test(await readFile(f.path, 'utf8').catch(() => ''))) candidates.push(f);
  }
  if (candidates.length === 0) return [];
  const quiet = new Bus();
  const confirmed = new Set<SpecFile>();
  const queue = [...candidates];
  await Promise.all(
    pools.map(async (pool) => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const fr = new FileRun(f.rel, 0, pool.slot, quiet, () => undefined);
        const outcome = await runWatched(pool, { file: f.path, mode: 'collect' }, fr, new Watchdog(pool, o, slotPids), o.config.loadTimeout);
        if (outcome.kind === 'done' && fr.hasOnly) confirmed.add(f);
      }
    }),
  );
  return files.filter((f) => confirmed.has(f));
}

async function dispatch(plan: Plan, pools: SlotPool[], o: ExecuteOptions, slotPids: (slot: number) => number[]): Promise<Stop> {
  const shared = plan.kind === 'queue' ? [...plan.entries] : null;
  const own = plan.kind === 'slots' ? plan.slots.map((s) => [...s]) : [];
  const next = (i: number): PlanEntry | undefined => (shared !== null ? shared.shift() : own[i]?.shift());
  let stop: Stop = null;
  const halt = (why: Exclude<Stop, null>): void => {
    if (stop !== null) return;
    stop = why;
    for (const p of pools) p.stop(why);
  };
  let interrupts = 0;
  let signal: string | null = null;
  const onInterrupt = (event?: Event): void => {
    interrupts++;
    const detail = (event as CustomEvent<unknown> | undefined)?.detail;
    if (typeof detail === 'string') signal ??= detail;
    halt('interrupt');
    // Backends are ended server-side before their threads go, so no session is abandoned mid-transaction.
    if (interrupts > 1) {
      for (const p of pools) {
        void o.admin
          .terminate(slotPids(p.slot))
          .catch(() => 0)
          .finally(() => p.kill('interrupted twice: stopped at once'));
      }
    }
  };
  o.interrupt.addEventListener('abort', onInterrupt);
  // Signals during the .only probe: nothing starts, and every file is listed below (or, after two, stops at once).
  for (let n = o.interrupted?.() ?? 0; n > 0 && interrupts < 2; n--) onInterrupt();
  const interrupted = (): string => `interrupted (${signal === null || signal === 'SIGINT' ? 'Ctrl-C' : signal})`;

  const loop = async (pool: SlotPool, index: number): Promise<void> => {
    for (let entry = stop === null ? next(index) : undefined; entry !== undefined; entry = stop === null ? next(index) : undefined) {
      const slotUsable = await runEntry(pool, entry, plan.seed, o, slotPids, () => (stop === 'interrupt' ? interrupted() : stop), halt);
      if (!slotUsable) return;
    }
  };
  try {
    await Promise.all(pools.map(loop));
    // Entries never dispatched are still accounted for, test by test: they are loaded (not run) to list their
    // tests. A second Ctrl-C stops that too; the files not listed by then are listed whole.
    const left = shared ?? own.flat();
    const reason =
      stop === 'bail' ? '--bail stopped the run after the first failure'
      : stop === 'interrupt' ? `${interrupted()} before this file started`
      : 'its slot could not be prepared again after a crash';
    await collectUnstarted(left, pools, reason, () => interrupts > 1, o, slotPids);
  } finally {
    o.interrupt.removeEventListener('abort', onInterrupt);
  }
  return stop;
}

/**
 * Loads (without running) each file that never started, on all slots at once, and lists its tests as not run.
 * Files already collected (later --repeat rounds of the same selection) are not loaded again.
 */
async function collectUnstarted(left: PlanEntry[], pools: SlotPool[], reason: string, cancelled: () => boolean, o: ExecuteOptions, slotPids: (slot: number) => number[]): Promise<void> {
  const collected = new Map<string, WorkerEvent[]>();
  const key = (e: PlanEntry): string => `${e.file.path}\u0000${JSON.stringify(e.tests ?? null)}`;
  const whole = (entry: PlanEntry): void => {
    o.bus.emit({ type: 'test:notrun', file: fileKey(entry), testId: '*', reason });
  };
  const queue = [...left];
  await Promise.all(
    pools.map(async (pool) => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        if (cancelled()) {
          whole(entry);
          continue;
        }
        const seen: WorkerEvent[] = [];
        const fr = new FileRun(entry.file.rel, entry.round, pool.slot, o.bus, () => undefined);
        const known = collected.get(key(entry));
        if (known !== undefined) {
          for (const e of known) fr.handle(e);
          fr.finish(reason);
          continue;
        }
        const outcome = await runWatched(
          pool,
          { file: entry.file.path, mode: 'collect', ...(entry.tests !== undefined ? { select: entry.tests } : {}) },
          {
            file: fr.file,
            handle: (e) => {
              seen.push(e);
              fr.handle(e);
            },
          },
          new Watchdog(pool, o, slotPids),
          o.config.loadTimeout,
        );
        if (outcome.kind === 'done') {
          if (fr.loaded) collected.set(key(entry), seen.filter((e) => e.type === 'file:begin' || e.type === 'file:loaded'));
          fr.finish(reason);
        } else if (cancelled()) {
          // Stopped at once by the second Ctrl-C: not a failure of the file.
          if (!fr.loaded) whole(entry);
          if (fr.begun) fr.finish(reason);
        } else {
          fr.crashed(outcome.error, outcome.aborted);
        }
      }
    }),
  );
}

function fileKey(entry: PlanEntry): string {
  return entry.round === 0 ? entry.file.rel : `${entry.file.rel}#${entry.round + 1}`;
}

/** Ends a slot's backends server-side, then terminates its thread; Piscina starts a replacement for the slot. */
class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every arm() and clear(): a firing that is no longer the current one must not kill the thread. */
  private generation = 0;

  constructor(private readonly pool: SlotPool, private readonly o: ExecuteOptions, private readonly slotPids: (slot: number) => number[]) {}

  arm(ms: number, reason: string): void {
    this.clear();
    if (ms <= 0) return;
    const armed = this.generation;
    this.timer = setTimeout(() => {
      void this.o.admin
        .terminate(this.slotPids(this.pool.slot))
        .catch(() => 0)
        // The runnable may have yielded, or the task ended (and the next file begun), while its backends were
        // being ended: only a watchdog still armed for the same runnable terminates the thread.
        .finally(() => {
          if (this.generation === armed) this.pool.kill(reason);
        });
    }, ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.generation++;
  }
}

/**
 * Runs one task under the load watchdog: from the moment the worker begins the file until it has loaded it (its
 * top-level code, its imports, and on a fresh worker the --require modules and onWorkerStart), nothing else
 * watches the thread, and an endless loop or a top-level await that never settles would hang the run.
 */
async function runWatched(
  pool: SlotPool,
  task: Omit<RunTask, 'kind' | 'port' | 'onlyMode' | 'env' | 'target' | 'database'>,
  sink: { readonly file: string; handle(e: WorkerEvent): void },
  dog: Watchdog,
  loadTimeout: number,
): Promise<RunOutcome> {
  const file = sink.file;
  try {
    return await pool.run(task, {
      onEvent: (e) => {
        sink.handle(e);
        if (e.type === 'file:begin') {
          dog.arm(loadTimeout, `${file} did not finish loading within ${loadTimeout} ms (an endless loop or a top-level await that never settles, in the file or in what it imports); bulkhead terminated the worker of slot ${pool.slot} (see --load-timeout)`);
        } else if (e.type === 'file:loaded' || (e.type === 'file:error' && e.phase === 'load')) {
          dog.clear();
        }
      },
    });
  } finally {
    dog.clear();
  }
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
  const dog = new Watchdog(pool, o, slotPids);
  // The test watchdog: a test or hook that blocks its worker's event loop cannot time out by itself.
  const arm = (r: Running | null): void => {
    if (r === null || r.timeout <= 0) dog.clear();
    else dog.arm(r.timeout + WATCHDOG_GRACE_MS, `${r.what} exceeded its timeout of ${r.timeout} ms without yielding the event loop; bulkhead terminated the worker of slot ${pool.slot}`);
  };
  const fr: FileRun = new FileRun(entry.file.rel, entry.round, pool.slot, o.bus, (r) => arm(r));
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
    if (!(await recover(pool, fr.file, o))) return false;
  } else {
    const stop = stopped();
    fr.finish(stop === 'bail' ? '--bail stopped the run after the first failure' : (stop ?? undefined));
    // process.exit() was called: the thread and its slot's data are no longer trusted, as after a crash.
    if (outcome.result.recycle) {
      await pool.recycle();
      if (!(await recover(pool, fr.file, o))) return false;
    }
    const leak = await o.resources.leaks(pool.slot, slotPids(pool.slot)).catch(() => ({ count: 0, applicationNames: [] }));
    if (leak.count > 0) o.onLeak?.(fr.file, pool.slot, leak);
  }
  if (o.config.mocha.bail && fr.failed) halt('bail');
  return true;
}

/**
 * A fresh copy of the slot's database after a crash. When that fails (the server is gone) the slot takes no more
 * files: its failure is reported against the file whose crash needed it, and the slot's files are listed as not run.
 */
async function recover(pool: SlotPool, file: string, o: ExecuteOptions): Promise<boolean> {
  try {
    await o.resources.recover(pool.slot);
    return true;
  } catch (err) {
    const cause = serializeError(err);
    const message = `slot ${pool.slot} could not be prepared again after the crash, so it takes no more files: ${cause.message}`;
    o.bus.emit({ type: 'file:fail', file, title: `preparing slot ${pool.slot} again after ${file}`, error: { name: 'BulkheadError', message, stack: `BulkheadError: ${message}`, cause } });
    return false;
  }
}
