// One execution of a plan: the event stream wired to the reporters, the summary and the run record; the threads
// started, the slots provisioned, the plan executed and the slots torn down. Every command (run, replay, bisect
// and each bisect probe) goes through session().
import path from 'node:path';
import type { Config } from '../config/types.js';
import type { SpecFile } from '../plan/discover.js';
import { EXIT, isBulkheadError } from '../errors.js';
import { isConnectionError } from '../protocol/faults.js';
import { EventBus } from './events.js';
import { execute, startPools } from './dispatch.js';
import type { Interrupts } from './interrupts.js';
import type { Stop } from './dispatch.js';
import { FileGate } from '../reporters/gate.js';
import { MochaReplay, loadReporter, sharesStdout } from '../reporters/mocha.js';
import { renderSummary } from '../reporters/summary.js';
import { RecordBuilder, outcomePasses, writeRecord } from '../plan/record.js';
import type { RunRecord } from '../plan/record.js';
import type { Plan } from '../plan/schedule.js';
import type { Target } from '../db/target.js';
import { versions } from '../plan/versions.js';

export interface RunIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** The run's one interrupt state (Ctrl-C, SIGTERM, SIGHUP), created by the CLI; sessions and dispatch read it. */
  interrupts: Interrupts;
  /** Holds a session's summary until the run's last words are out; without it the summary is written at once. */
  closing?: ClosingLines;
}

/**
 * `N passed, N failed` must stay the last line: mochaGlobalTeardown and the server's shutdown may still print after
 * the last session, so its summary is held and written once they are done. An earlier session's summary (an
 * --until-fail round) is written when the next session starts.
 */
export class ClosingLines {
  private held = '';
  constructor(private readonly out: NodeJS.WritableStream) {}

  hold(text: string): void {
    this.flush();
    this.held = text;
  }

  flush(): void {
    if (this.held !== '') this.out.write(this.held);
    this.held = '';
  }
}

export const LAST_RUN = path.join('.bulkhead', 'last-run.json');

export interface SessionOptions {
  files: SpecFile[];
  makePlan(files: SpecFile[]): Plan;
  exact: boolean;
  /** Bisect probes: no reporter output, no last-run.json. */
  quiet: boolean;
  label?: string;
  /** The number of slots, when the plan fixes it. */
  workers?: number;
  /** Lines printed before the summary (replay's comparison), from the finished record. */
  epilogue?(record: RunRecord): string;
}

export interface SessionResult {
  code: number;
  /** The run record: the one fold of the session's outcomes. */
  record: RunRecord;
}

/** The stream that bulkhead's own lines go to: stderr when the reporter's stdout must stay machine-readable. */
export function infoStream(config: Config, io: RunIO): NodeJS.WritableStream {
  return sharesStdout(config.reporter, config.reporterOptions) ? io.out : io.err;
}

/** One execution of a plan with reporters, summary and the run record. */
export async function session(config: Config, io: RunIO, target: Target, s: SessionOptions): Promise<SessionResult> {
  // The summary of an earlier session (an --until-fail round) goes out before this session prints anything.
  io.closing?.flush();
  const t0 = performance.now();
  return sessionOn(new EventBus(), config, io, target, s, t0);
}

async function sessionOn(bus: EventBus, config: Config, io: RunIO, target: Target, s: SessionOptions, t0: number): Promise<SessionResult> {
  const info = infoStream(config, io);
  // Fixed plans (replay, bisect) say how many slots they need; otherwise no more workers than files.
  const workers = s.workers ?? Math.max(1, Math.min(config.workers, s.files.length));
  const builder = new RecordBuilder({ versions: await versions(target.version), config: recordedConfig(config), seed: config.seed, workers, target: target.where }, target.redactor);
  let total = 0;
  bus.on('record', (e) => builder.handle(e));
  bus.on('count', (e) => {
    if (e.type === 'file:loaded') total += e.tests.length;
  });
  let replay: MochaReplay | null = null;
  let gate: FileGate | null = null;
  if (!s.quiet) {
    const Reporter = loadReporter(config.reporter, config.root);
    // Reporters read runner.total when they are made (json-stream's "start", progress). A replay or bisect plan
    // names every test, so it is known up front; otherwise a file's tests are known only once a worker loaded
    // it, and runner.total grows as files load (knowing it at the start would take loading every file twice).
    const planned = s.exact ? namedTests(s.makePlan(s.files)) : null;
    const r = new MochaReplay(Reporter, config.reporterOptions, config.root, () => planned ?? total, target.redactor, { inlineDiffs: config.inlineDiffs, diff: config.diff });
    const g = new FileGate((e) => r.handle(e));
    replay = r;
    gate = g;
    bus.on('reporter', (e) => g.push(e));
    const seed = config.seed !== null ? `, seed ${config.seed}` : '';
    info.write(`bulkhead: ${s.files.length} file${s.files.length === 1 ? '' : 's'} on ${workers} worker(s), PostgreSQL ${target.version} at ${target.where} (${target.kind})${seed}${s.label ?? ''}\n`);
  }

  // 4. Start the threads, provision the slots meanwhile, execute the plan, and tear the slots down again.
  const tProvision = performance.now();
  let tFirstTest: number | null = null;
  let tRunEnd: number | null = null;
  bus.on('phases', (e) => {
    if (e.type === 'test:begin') tFirstTest ??= performance.now();
    if (e.type === 'run:end') tRunEnd = performance.now();
  });
  const pools = startPools(config, workers);
  const resources = await target.provision(workers, config).catch(async (err: unknown) => {
    await Promise.all(pools.map((p) => p.close()));
    throw err;
  });
  if (!s.quiet && resources.timings !== null) info.write(`bulkhead: ${resources.timings}\n`);
  const tRun = performance.now();
  let stop: Stop = null;
  // Cleanup problems are warnings: they must not cost the run its summary, its record or its exit status.
  const warnings: string[] = [];
  try {
    bus.emit({ type: 'run:begin', files: s.files.length, workers: config.workers, target: target.where });
    let pids: number[] = [];
    if (io.interrupts.stopping) {
      // Interrupted while the slots were being provisioned: nothing starts, everything is accounted for.
      await Promise.all(pools.map((p) => p.close()));
      for (const f of s.files) bus.emit({ type: 'test:notrun', file: f.rel, testId: '*', reason: 'interrupted before the run started' });
      stop = 'interrupt';
    } else {
      const done = await execute({ pools, config, admin: target.admin, resources, bus, interrupts: io.interrupts, makePlan: s.makePlan, files: s.files, exact: s.exact });
      stop = done.stop;
      pids = done.pids;
    }
    gate?.flush();
    bus.emit({ type: 'run:end', interrupted: stop === 'interrupt' });
    // 5. End what dead workers left behind, then report.
    const leftover = await target.admin.terminate(pids).catch((err: unknown) => {
      // A server that cannot be reached holds no sessions; teardown says what that leaves behind.
      if (!(isConnectionError(err) || (isBulkheadError(err) && err.exitCode === EXIT.database))) {
        warnings.push(`bulkhead: warning: could not end the sessions left by crashed workers: ${err instanceof Error ? err.message : String(err)}`);
      }
      return 0;
    });
    if (leftover > 0 && !s.quiet) info.write(`bulkhead: ended ${leftover} session(s) left by crashed workers\n`);
  } catch (err) {
    for (const line of await teardown(resources)) io.err.write(`${line}\n`);
    throw err;
  }
  warnings.push(...(await teardown(resources)));
  await replay?.end();
  for (const b of bus.broken) io.err.write(`bulkhead: reporter "${b.name}" failed and was dropped: ${String(b.error)}\n`);
  for (const line of warnings) io.err.write(`${line}\n`);
  if (!s.quiet) {
    writeRecord(path.join(config.root, LAST_RUN), builder.record);
    if (config.record !== null) writeRecord(config.record, builder.record);
    if (s.epilogue !== undefined) info.write(s.epilogue(builder.record));
    if (config.verbose) {
      // Where the time went, for the benchmarks' profile notes: performance.now() counts from the process start.
      const end = performance.now();
      const f = (ms: number): string => `${ms.toFixed(0)} ms`;
      const first = tFirstTest ?? tRun;
      const last = tRunEnd ?? end;
      info.write(`bulkhead: phases: startup ${f(t0)}, provisioning ${f(tRun - tProvision)}, dispatch ${f(first - tRun)} (to the first test), tests ${f(last - first)}, teardown ${f(end - last)}\n`);
      info.write(`bulkhead: run ${f(end - tRun)}, total ${f(end - t0)}\n`);
    }
    const summary = renderSummary(builder.record, { failOnFlaky: config.failOnFlaky });
    if (io.closing !== undefined) io.closing.hold(summary);
    else info.write(summary);
  }
  const passed = outcomePasses(builder.record.outcome, config.failOnFlaky) && bus.broken.length === 0;
  const code = stop === 'interrupt' ? EXIT.interrupted : passed ? EXIT.ok : EXIT.failed;
  return { code, record: builder.record };
}

/** Teardown never loses the run: a failure is one more warning. */
async function teardown(resources: { teardown(): Promise<string[]> }): Promise<string[]> {
  return resources.teardown().catch((err: unknown) => [`bulkhead: warning: cleaning up after the run failed: ${err instanceof Error ? err.message : String(err)}`]);
}

/** How many tests a plan runs, when every entry names its tests; null when some entry runs a whole file. */
function namedTests(p: Plan): number | null {
  const entries = p.kind === 'queue' ? p.entries : p.slots.flat();
  let n = 0;
  for (const e of entries) {
    if (e.tests === undefined) return null;
    n += e.tests.length;
  }
  return n;
}

/** The effective configuration, as the record keeps it: no target, no password, no functions. */
function recordedConfig(config: Config): Record<string, unknown> {
  const { root: _root, configFile, record: _record, ...rest } = config;
  return { ...rest, configFile: configFile === null ? null : path.relative(config.root, configFile) };
}
