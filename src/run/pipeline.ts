// The pipeline, in numbered steps. No argv and no process.exit here: the CLI owns both. Every command (run,
// replay, bisect) goes through session() (session.ts), which wires the event stream to the reporters and the record.
import path from 'node:path';
import type { Config } from '../config/types.js';
import { discover, recordedFiles } from '../plan/discover.js';
import type { SpecFile } from '../plan/discover.js';
import { EXIT, errors } from '../errors.js';
import type { BulkheadError } from '../errors.js';
import { noTestFound, readRecord, writeRecord } from '../plan/record.js';
import type { RunRecord } from '../plan/record.js';
import { plan } from '../plan/schedule.js';
import type { Plan, PlanEntry } from '../plan/schedule.js';
import { openTarget } from '../db/target.js';
import type { Target } from '../db/target.js';
import { replayCommand } from '../plan/replay.js';
import { bisectCommand } from '../plan/bisect.js';
import { newSeed } from '../protocol/random.js';
import { loadGlobalFixtures } from './globalfixtures.js';
import { earlyStart } from './early.js';
import type { EarlyStart } from './early.js';
import { listText } from '../reporters/list.js';
import { select } from '../plan/select.js';
import type { Selection } from '../plan/select.js';
import { TIMINGS_FILE, measuredTimings, updatedTimings, writeTimings } from '../plan/timings.js';
import { ClosingLines, LAST_RUN, infoStream, session, startRecord } from './session.js';
import type { RunIO, SessionResult } from './session.js';

export async function run(config: Config, io: RunIO): Promise<number> {
  // --list-reporters / --list-interfaces: mocha's lists, and nothing else (no server, no file).
  if (config.list !== null) {
    io.out.write(listText(config.list));
    return EXIT.ok;
  }
  // 1. Resolve (or start) the database before anything runs; it is stopped on every path out.
  // A bad record is a usage error (exit 2) before any server is reached or started.
  if (config.command !== 'run') readRecord(path.resolve(config.root, config.recordArg ?? ''));
  const closing = new ClosingLines(infoStream(config, io));
  const held: RunIO = { ...io, closing };
  // A plain run's threads boot while the server is reached (or started) and the run is wired.
  const early = earlyStart(config, (line) => io.err.write(`${line}\n`));
  // --require modules load before the target is chosen, as in serial mocha, where they run first: one that sets
  // DATABASE_URL or PG* (dotenv) names the server. Their top level sees the environment as the user set it.
  const loaded = await loadGlobalFixtures(config);
  const target = await openTarget(config, infoStream(config, io)).catch(async (err: unknown) => {
    await early?.close();
    throw err;
  });
  // Main-thread user code (mochaGlobalSetup/Teardown) sees the target as workers see their slot.
  const restoreEnv = applyEnv(target.env);
  // Only a command that ended normally (not interrupted, nothing thrown) lets the embedded server linger.
  let ended = false;
  try {
    // mochaGlobalSetup runs once, after the server is up (it may seed it) and before any slot is built, so what it
    // migrates into the target is what every slot database copies.
    const fixtures = await loaded.setup();
    let code: number;
    try {
      if (config.command === 'replay') code = await replayCommand(config, held, target);
      else if (config.command === 'bisect') code = await bisectCommand(config, held, target);
      else code = await runCommand(config, held, target, early);
    } finally {
      await fixtures.teardown();
    }
    ended = io.interrupts.count === 0;
    return code;
  } finally {
    restoreEnv();
    await early?.close();
    await target.close(ended);
    closing.flush();
  }
}

/** Sets variables in process.env; the returned function puts the previous values back (run() may be called again). */
function applyEnv(env: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

async function runCommand(config: Config, io: RunIO, target: Target, early: EarlyStart | null): Promise<number> {
  // 2. Discover the files; --last-failed narrows them to the failures of the last run.
  let files: SpecFile[];
  let lastFailed: Map<string, string[]> | null = null;
  if (config.lastFailed) {
    // The files the last run's failures came from, whatever spec arguments that run was given.
    lastFailed = failedTests(readRecord(path.join(config.root, LAST_RUN)));
    files = recordedFiles(config.root, lastFailed.keys());
    if (files.length === 0) {
      if (config.failZero) throw noTests(config);
      infoStream(config, io).write('bulkhead: the last run had no failures: nothing to run\n0 passed, 0 failed\n');
      return EXIT.ok;
    }
  } else {
    files = early?.files ?? discover(config, (line) => io.err.write(`${line}\n`));
  }
  // 3. The durations known for the files order the queue (longest first) and cut this job's shard.
  const selection = early?.selection ?? select(config, files);
  files = selection.files;
  if (selection.describe !== null) infoStream(config, io).write(`bulkhead: ${selection.describe}\n`);
  if (files.length === 0) return emptyShard(config, io, target, selection);
  // 4. Plan and run; --until-fail repeats the whole selection until a round fails, keeping that round's record.
  const rounds = config.untilFail ?? 1;
  let result: SessionResult | null = null;
  for (let round = 1; round <= rounds; round++) {
    io.closing?.flush();
    if (config.untilFail !== null) infoStream(config, io).write(`bulkhead: --until-fail round ${round} of at most ${rounds}\n`);
    const roundConfig: Config = round > 1 && config.reseed ? { ...config, seed: newSeed() } : config;
    result = await session(roundConfig, io, target, {
      files,
      exact: false,
      quiet: false,
      makePlan: (chosen, workers) => withSelection(plan(chosen, { workers, seed: roundConfig.seed, repeat: roundConfig.repeat, weights: selection.weights }), lastFailed),
      ...(early !== null ? { pools: (workers: number) => early.take(workers) } : {}),
      ...(selection.shard !== null ? { shard: selection.shard } : {}),
    });
    rememberDurations(config, selection, result.record);
    if (result.code !== EXIT.ok || result.record.outcome.interrupted) break;
  }
  // --fail-zero: mocha fails a run in which no test was found; each file runs in a Mocha of its own here, so the
  // count comes from the record, which saw them all (the same fold that gave the exit code).
  if (config.failZero && result !== null && result.code === EXIT.ok && noTestFound(result.record.outcome)) {
    io.err.write(`bulkhead: ${noTests(config).message}\n`);
    return EXIT.failed;
  }
  return result?.code ?? EXIT.ok;
}

/**
 * What this run measured updates .bulkhead/timings.json for the next run's order. A shard leaves it alone: it
 * measured only its share, and its siblings may be reading the file; `bulkhead merge` writes it for all of them.
 */
function rememberDurations(config: Config, selection: Selection, record: RunRecord): void {
  if (selection.shard !== null || record.outcome.interrupted) return;
  try {
    writeTimings(path.join(config.root, TIMINGS_FILE), updatedTimings(selection.timings, measuredTimings(record)));
  } catch {
    // A cache that cannot be written costs the next run its order, never this run its result.
  }
}

/** A shard with no files (more shards than files) still writes its record: merge must see every shard. */
async function emptyShard(config: Config, io: RunIO, target: Target, selection: Selection): Promise<number> {
  const { record } = await startRecord(config, target, 0, selection.shard ?? undefined);
  writeRecord(path.join(config.root, LAST_RUN), record);
  if (config.record !== null) writeRecord(config.record, record);
  infoStream(config, io).write('bulkhead: this shard has no files to run\n0 passed, 0 failed\n');
  return config.failZero ? EXIT.failed : EXIT.ok;
}

function noTests(config: Config): BulkheadError {
  const m = config.mocha;
  const filters = [...(m.grep !== undefined ? ['--grep'] : []), ...(m.fgrep !== undefined ? ['--fgrep'] : []), ...(m.invert ? ['--invert'] : []), ...(config.lastFailed ? ['--last-failed'] : [])];
  return errors.failZero(filters);
}

function failedTests(record: RunRecord): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const slot of record.slots) {
    for (const f of slot.files) {
      const failed = f.tests.filter((t) => t.state === 'failed').map((t) => t.title);
      // A file that failed without a test to blame (load error, crash outside a test) is run whole again.
      if (failed.length > 0 || f.failures.length > 0) out.set(f.file, [...(out.get(f.file) ?? []), ...failed]);
    }
  }
  return out;
}

function withSelection(p: Plan, selection: Map<string, string[]> | null): Plan {
  if (selection === null) return p;
  const pick = (e: PlanEntry): PlanEntry => {
    const tests = selection.get(e.file.rel) ?? [];
    return tests.length > 0 ? { ...e, tests } : e;
  };
  return p.kind === 'queue' ? { ...p, entries: p.entries.map(pick) } : { ...p, slots: p.slots.map((s) => s.map(pick)) };
}

