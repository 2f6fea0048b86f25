// The pipeline, in numbered steps, with a guaranteed teardown order. No argv and no process.exit here: the CLI
// owns both. Returns the exit status for the run.
import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';
import { Admin, resolveTarget } from './database.js';
import { discover } from './discover.js';
import type { SpecFile } from './discover.js';
import { EXIT } from './errors.js';
import { EventBus } from './events.js';
import { FileRun } from './filerun.js';
import type { Running } from './filerun.js';
import { SlotPool } from './pool.js';
import type { WorkerData } from './protocol.js';
import { FileGate } from './reporters/gate.js';
import { MochaReplay, loadReporter } from './reporters/mocha.js';
import { Summary } from './reporters/summary.js';
import { errors } from './errors.js';

export interface RunIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Aborted once on Ctrl-C (stop dispatching, finish cleanly) and a second time to stop at once. */
  interrupt: EventTarget;
}

const WATCHDOG_GRACE_MS = 2000;
const MACHINE_REPORTERS = new Set(['json', 'json-stream']);

export async function run(config: Config, io: RunIO): Promise<number> {
  const t0 = performance.now();
  const phases: [string, number][] = [];
  const mark = (name: string, since: number): void => void phases.push([name, performance.now() - since]);
  const info = MACHINE_REPORTERS.has(config.reporter) ? io.err : io.out;

  // 1. Discover the spec files and load the reporter before anything touches the database.
  const files = discover(config);
  const Reporter = loadReporter(config.reporter, config.root);

  // 2. Resolve and check the database target (exit 3 when it cannot be reached).
  const tDb = performance.now();
  const resolved = resolveTarget();
  const admin = new Admin(resolved);
  let pools: SlotPool[] = [];
  try {
    const version = await admin.check();
    mark('database check', tDb);
    const workers = Math.min(config.workers, files.length);
    info.write(`bulkhead: ${files.length} file${files.length === 1 ? '' : 's'} on ${workers} worker${workers === 1 ? '' : 's'}, PostgreSQL ${version} at ${resolved.where} (external, from ${resolved.source})\n`);

    // 3. Start one single-thread pool per slot; workers connect lazily, on their first db() call.
    const tPool = performance.now();
    pools = Array.from({ length: workers }, (_, i) => new SlotPool(workerData(config, i + 1, resolved.target), process.env));
    mark('pool start', tPool);

    // 4. Plan: .only anywhere narrows the run to the files that use it, as in serial mocha.
    const tPlan = performance.now();
    const only = await probeOnly(files, pools);
    if (config.forbidOnly && only.length > 0) throw errors.onlyForbidden(only.map((f) => f.rel));
    const planned = only.length > 0 ? only : files;
    mark('plan', tPlan);

    // 5. Dispatch and report.
    const tRun = performance.now();
    const bus = new EventBus();
    const summary = new Summary(workers);
    const replay = new MochaReplay(Reporter, config.reporterOptions, config.root, () => total);
    const gate = new FileGate((e) => replay.handle(e));
    let total = 0;
    bus.on('summary', (e) => summary.handle(e));
    bus.on('reporter', (e) => gate.push(e));
    bus.on('count', (e) => {
      if (e.type === 'file:loaded') total += e.tests.length;
    });
    const pids = new Set<number>();
    bus.on('pids', (e) => {
      if (e.type === 'connect') pids.add(e.pid);
    });
    bus.emit({ type: 'run:begin', files: planned.length, workers, target: resolved.where });
    const stop = await dispatch(planned, pools, bus, config, admin, io.interrupt);
    gate.flush();
    bus.emit({ type: 'run:end', interrupted: stop === 'interrupt' });
    mark('run', tRun);

    // 6. Teardown: close every worker's connection with a goodbye, then end what dead workers left behind.
    const tDown = performance.now();
    await Promise.all(pools.map((p) => p.close()));
    pools = [];
    const leftover = await admin.terminate([...pids]);
    mark('teardown', tDown);
    await replay.end();
    for (const b of bus.broken) io.err.write(`bulkhead: reporter "${b.name}" failed and was dropped: ${String(b.error)}\n`);
    if (leftover > 0) info.write(`bulkhead: ended ${leftover} session(s) left by crashed workers\n`);
    info.write(summary.render());
    if (config.verbose) {
      phases.push(['total', performance.now() - t0]);
      info.write(`${phases.map(([n, ms]) => `${n}: ${ms.toFixed(0)} ms`).join(', ')}\n`);
    }
    if (stop === 'interrupt') return EXIT.interrupted;
    return summary.ok && bus.broken.length === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
    await admin.close();
  }
}

function workerData(config: Config, slot: number, target: WorkerData['target']): WorkerData {
  return { slot, root: config.root, target, configFile: config.configFile, mocha: { ...config.mocha, requires: [...config.mocha.requires], globals: [...config.mocha.globals] } };
}

const ONLY = /\.only\s*\(/;

/** Files that really use .only: a text scan finds candidates, and loading them (without running) confirms. */
async function probeOnly(files: SpecFile[], pools: SlotPool[]): Promise<SpecFile[]> {
  const candidates: SpecFile[] = [];
  for (const f of files) {
    if (ONLY.test(await readFile(f.path, 'utf8').catch(() => ''))) candidates.push(f);
  }
  if (candidates.length === 0) return [];
  const quiet = new EventBus();
  const confirmed: SpecFile[] = [];
  const queue = [...candidates];
  await Promise.all(
    pools.map(async (pool) => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const fr = new FileRun(f.rel, pool.slot, quiet, () => undefined);
        const outcome = await pool.run(f.path, 'collect', false, { onEvent: (e) => fr.handle(e) });
        if (outcome.kind === 'done' && fr.hasOnly) confirmed.push(f);
      }
    }),
  );
  return files.filter((f) => confirmed.includes(f));
}

type Stop = 'bail' | 'interrupt' | null;

async function dispatch(files: SpecFile[], pools: SlotPool[], bus: EventBus, config: Config, admin: Admin, interrupt: EventTarget): Promise<Stop> {
  const queue = [...files];
  let stop: Stop = null;
  const halt = (why: Exclude<Stop, null>): void => {
    if (stop !== null) return;
    stop = why;
    for (const p of pools) p.stop(why);
  };
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    halt('interrupt');
    if (interrupts > 1) for (const p of pools) p.kill('interrupted twice: stopped at once');
  };
  interrupt.addEventListener('abort', onInterrupt);

  const loop = async (pool: SlotPool): Promise<void> => {
    for (let file = queue.shift(); file !== undefined && stop === null; file = stop === null ? queue.shift() : undefined) {
      const fr: FileRun = new FileRun(file.rel, pool.slot, bus, (r) => arm(r));
      let timer: NodeJS.Timeout | undefined;
      // The watchdog: a test that blocks its worker's event loop cannot time out by itself.
      const arm = (r: Running | null): void => {
        clearTimeout(timer);
        if (r === null || r.timeout <= 0) return;
        timer = setTimeout(() => {
          void admin.terminate(fr.pids).catch(() => 0).finally(() => {
            pool.kill(`${r.what} exceeded its timeout of ${r.timeout} ms without yielding the event loop; bulkhead terminated the worker of slot ${pool.slot}`);
          });
        }, r.timeout + WATCHDOG_GRACE_MS);
      };
      const outcome = await pool.run(file.path, 'run', false, { onEvent: (e) => fr.handle(e) });
      clearTimeout(timer);
      if (outcome.kind === 'crashed') {
        fr.crashed(outcome.error, outcome.aborted);
      } else {
        fr.finish(stop === 'interrupt' ? 'interrupted (Ctrl-C)' : stop === 'bail' ? '--bail stopped the run after the first failure' : undefined);
        if (outcome.result.recycle) await pool.recycle();
      }
      if (config.mocha.bail && fr.failed) halt('bail');
    }
  };
  try {
    await Promise.all(pools.map(loop));
  } finally {
    interrupt.removeEventListener('abort', onInterrupt);
  }
  // Files never dispatched are still accounted for: after --bail they are loaded (not run) to list their tests.
  for (const file of queue) {
    if (stop === 'bail' && pools[0] !== undefined) {
      const fr = new FileRun(file.rel, pools[0].slot, bus, () => undefined);
      const outcome = await pools[0].run(file.path, 'collect', false, { onEvent: (e) => fr.handle(e) });
      if (outcome.kind === 'done') fr.finish('--bail stopped the run after the first failure');
    } else {
      bus.emit({ type: 'test:notrun', file: file.rel, testId: '*', reason: 'interrupted (Ctrl-C) before this file started' });
    }
  }
  return stop;
}
