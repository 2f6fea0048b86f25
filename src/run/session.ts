// One execution of a plan: the event stream wired to the reporters, the summary and the run record; the threads
// started, the slots provisioned, the plan executed and the slots torn down. Every command (run, replay, bisect
// and each bisect probe) goes through session().
import path from 'node:path';
import { availableParallelism } from 'node:os';
import type { Config } from '../config/types.js';
import type { SpecFile } from '../plan/discover.js';
import { EXIT, isBulkheadError } from '../errors.js';
import { isConnectionError } from '../protocol/faults.js';
import { sayOutageOnce } from './outage.js';
import { EventBus } from './events.js';
import { execute, startPools } from './dispatch.js';
import { settleMochaBundle } from './mochabundle.js';
import type { Interrupts } from './interrupts.js';
import type { Stop } from './dispatch.js';
import type { SlotPool } from './slotpool.js';
import type { SlotResources } from '../db/types.js';
import { sharesStdout } from '../reporters/mocha.js';
import { Reporters } from '../reporters/set.js';
import { Progress, progressKind } from '../reporters/live.js';
import { ProgressState } from '../reporters/progress.js';
import { readTimings } from '../plan/timings.js';
import { endOfRunDocuments } from '../reporters/documents.js';
import { renderSummary } from '../reporters/summary.js';
import { RecordBuilder, outcomePasses, writeRecord } from '../plan/record.js';
import type { RunRecord, ShardRecord } from '../plan/record.js';
import type { Plan } from '../plan/schedule.js';
import type { Target } from '../db/target.js';
import { versions } from '../plan/versions.js';
import { Phases } from './phases.js';

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
  /** `workers`: the slots the session has (fewer than configured when the server has no room for all). */
  makePlan(files: SpecFile[], workers: number): Plan;
  exact: boolean;
  /** Bisect probes: no reporter output, no last-run.json. */
  quiet: boolean;
  label?: string;
  /** The number of slots, when the plan fixes it. */
  workers?: number;
  /** Which share of which plan this run is (--shard), for the record. */
  shard?: ShardRecord;
  /** Threads already booting for this session (a plain run's first), the first `workers` of them; null: none. */
  pools?(workers: number): SlotPool[] | null;
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
  return config.reporters.every((r) => sharesStdout(r, config.reporterOptions)) ? io.out : io.err;
}

/** What the steps of one session share. */
interface Session {
  config: Config;
  io: RunIO;
  target: Target;
  s: SessionOptions;
  /** Where bulkhead's own lines go (see infoStream). */
  info: NodeJS.WritableStream;
  workers: number;
  bus: EventBus;
  /** The run record as the events arrive: the one fold of the session's outcomes. */
  builder: RecordBuilder;
  /** The reporters and the progress (none for a quiet bisect probe). */
  reporters: Reporters | null;
  progress: Progress | null;
  phases: Phases;
}

/** One execution of a plan with reporters, summary and the run record, in numbered steps. */
export async function session(config: Config, io: RunIO, target: Target, s: SessionOptions): Promise<SessionResult> {
  // The summary of an earlier session (an --until-fail round) goes out before this session prints anything.
  io.closing?.flush();
  const phases = new Phases();
  // 1. Wire the event stream to the run record and the reporters.
  const x = await wire(config, io, target, s, phases);
  // 2. Start the threads and provision the slots meanwhile.
  phases.provision = performance.now();
  const pools = s.pools?.(x.workers) ?? startPools(config, x.workers, s.files);
  const resources = await target.provision(x.workers, config).catch(async (err: unknown) => {
    await Promise.all(pools.map((p) => p.close()));
    throw err;
  });
  if (!s.quiet && resources.timings !== null) x.info.write(`bulkhead: ${resources.timings}\n`);
  target.admin.limitTerminations(workerDatabases(resources, x.workers));
  // 3. Execute the plan, then end what dead workers left behind.
  phases.run = performance.now();
  let done: { stop: Stop; warnings: string[] };
  try {
    done = await executePlan(x, pools, resources);
  } catch (err) {
    x.progress?.stop();
    for (const line of await teardown(resources)) io.err.write(`${line}\n`);
    throw err;
  }
  // 4. Tear the slots down: cleanup problems are warnings, they must not cost the run its summary, its record or
  // its exit status.
  done.warnings.push(...(await teardown(resources)));
  // A bundle of the project's mocha started for the next run is finished, not cut off by the command's end.
  await settleMochaBundle();
  // 5. Report, and take the exit code from the record's outcome.
  return report(x, done.stop, done.warnings);
}

/** Step 1: the record and, unless quiet, mocha's reporter behind the file gate, and the opening line. */
async function wire(config: Config, io: RunIO, target: Target, s: SessionOptions, phases: Phases): Promise<Session> {
  const info = infoStream(config, io);
  // Fixed plans (replay, bisect) say how many slots they need, others no more than files, the server no more than fit.
  const workers = await target.fit(s.workers ?? Math.max(1, Math.min(config.workers, s.files.length)), s.workers !== undefined);
  const bus = new EventBus();
  const builder = await startRecord(config, target, workers, s.shard);
  bus.on('record', (e) => builder.handle(e));
  sayOutageOnce(bus, target.admin, target.redactor, info);
  phases.listen(bus);
  const x: Session = { config, io, target, s, info, workers, bus, builder, reporters: null, progress: null, phases };
  if (s.quiet) return x;
  let total = 0;
  bus.on('count', (e) => {
    if (e.type === 'file:loaded') total += e.tests.length;
  });
  // Reporters read runner.total when they are made (json-stream's "start", progress). A replay or bisect plan
  // names every test, so it is known up front; otherwise a file's tests are known only once a worker loaded
  // it, and runner.total grows as files load (knowing it at the start would take loading every file twice).
  const planned = s.exact ? namedTests(s.makePlan(s.files, workers)) : null;
  const progress = startProgress(config, io, s, workers);
  if (progress !== null) bus.on('progress', (e) => progress.handle(e));
  const reporters = new Reporters({ config, total: () => planned ?? total, redactor: target.redactor, screen: progress });
  reporters.listen(bus);
  const seed = config.seed !== null ? `, seed ${config.seed}` : '';
  info.write(`bulkhead: ${s.files.length} file${s.files.length === 1 ? '' : 's'} on ${workers} worker(s), PostgreSQL ${target.version} at ${target.where} (${target.kind})${seed}${s.label ?? ''}\n`);
  return { ...x, reporters, progress };
}

/** The record's opening: the versions, the effective configuration, the seed, the target and, for a shard, which. */
export async function startRecord(config: Config, target: Target, workers: number, shard?: ShardRecord): Promise<RecordBuilder> {
  return new RecordBuilder({ versions: await versions(target.version), config: recordedConfig(config), seed: config.seed, workers, cpus: availableParallelism(), target: target.where, shard }, target.redactor);
}

/** Step 3: the plan on the provisioned slots (none of it after a signal during provisioning), then the leftovers. */
async function executePlan(x: Session, pools: SlotPool[], resources: SlotResources): Promise<{ stop: Stop; warnings: string[] }> {
  const { bus, config, io, s, target } = x;
  const warnings: string[] = [];
  let stop: Stop = null;
  let pids: number[] = [];
  bus.emit({ type: 'run:begin', files: s.files.length, workers: config.workers, target: target.where });
  if (io.interrupts.stopping) {
    // Interrupted while the slots were being provisioned: nothing starts, everything is accounted for.
    await Promise.all(pools.map((p) => p.close()));
    for (const f of s.files) bus.emit({ type: 'test:notrun', file: f.rel, testId: '*', reason: 'interrupted before the run started' });
    stop = 'interrupt';
  } else {
    const done = await execute({ pools, config, admin: target.admin, resources, bus, interrupts: io.interrupts, makePlan: (files) => s.makePlan(files, x.workers), files: s.files, exact: s.exact });
    stop = done.stop;
    pids = done.pids;
  }
  x.reporters?.flush();
  bus.emit({ type: 'run:end', interrupted: stop === 'interrupt' });
  const leftover = await target.admin.terminate(pids).catch((err: unknown) => {
    // A server that cannot be reached holds no sessions; teardown says what that leaves behind.
    if (!(isConnectionError(err) || (isBulkheadError(err) && err.exitCode === EXIT.database))) {
      warnings.push(`bulkhead: warning: could not end the sessions left by crashed workers: ${err instanceof Error ? err.message : String(err)}`);
    }
    return 0;
  });
  if (leftover > 0 && !s.quiet) x.info.write(`bulkhead: ended ${leftover} session(s) left by crashed workers\n`);
  return { stop, warnings };
}

/** Step 5: the reporters' end, the warnings, the record files, the summary (held as the last words) and the code. */
async function report(x: Session, stop: Stop, warnings: string[]): Promise<SessionResult> {
  const { bus, config, io, s, info } = x;
  const record = x.builder.record;
  x.progress?.stop();
  await x.reporters?.end(record, io.out);
  const broken = [...(x.reporters?.broken ?? []), ...bus.broken];
  for (const b of broken) io.err.write(`bulkhead: reporter "${b.name}" failed and was dropped: ${String(b.error)}\n`);
  for (const line of warnings) io.err.write(`${line}\n`);
  if (!s.quiet) {
    writeRecord(path.join(config.root, LAST_RUN), record);
    if (config.record !== null) writeRecord(config.record, record);
    endOfRunDocuments(config, record, config.record ?? path.join(config.root, LAST_RUN), info, io.err);
    if (s.epilogue !== undefined) info.write(s.epilogue(record));
    if (config.verbose) info.write(x.phases.lines());
    const summary = renderSummary(record, { failOnFlaky: config.failOnFlaky, chaos: config.chaos !== null, command: config.command, leaks: config.leaks });
    if (io.closing !== undefined) io.closing.hold(summary);
    else info.write(summary);
  }
  const passed = outcomePasses(record.outcome, config.failOnFlaky) && broken.length === 0 && !(config.leaks === 'fail' && record.leaks.length > 0);
  const code = stop === 'interrupt' ? EXIT.interrupted : passed ? EXIT.ok : EXIT.failed;
  return { code, record };
}

/** The progress on stderr, unless --progress off or nothing would show it. */
function startProgress(config: Config, io: RunIO, s: SessionOptions, workers: number): Progress | null {
  const { kind, interval } = progressKind(config.progress, io.err, process.env);
  if (kind === 'off') return null;
  const rounds = config.command === 'run' ? config.repeat : 1;
  const paths = s.files.map((f) => f.rel);
  return new Progress(new ProgressState(paths.length * rounds, workers, paths, readTimings(config.root, config.timings)), kind, io.err, interval);
}

/** Every slot's database, or null when one is not known by name (pg picks it from PG* in shared isolation). */
function workerDatabases(resources: SlotResources, workers: number): string[] | null {
  const names = Array.from({ length: workers }, (_, i) => resources.database(i + 1));
  return names.every((n): n is string => n !== null) ? [...new Set(names)] : null;
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
  const { root: _root, configFile, record: _record, github: _github, ...rest } = config;
  return { ...rest, configFile: configFile === null ? null : path.relative(config.root, configFile) };
}
