// The run record: the executed schedule per slot, every outcome, rebuild, crash and injected fault. It is the one
// source for replay, --last-failed and bisect, so it carries a format version.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../run/events.js';
import type { ChaosFault, EndedSession, RebuildInfo, SerializedError } from '../protocol/messages.js';
import { BulkheadError, EXIT } from '../errors.js';
import type { Redactor } from '../db/redact.js';
import { recordProblem } from './recordshape.js';

export const RECORD_FORMAT = 'bulkhead-run';
export const RECORD_VERSION = 1;

export type RecordedState = 'passed' | 'failed' | 'pending' | 'notrun';

export interface RecordedTest {
  id: string;
  title: string;
  state: RecordedState;
  start: number | null;
  end: number | null;
  generation: number | null;
  attempts: number;
  flaky: boolean;
  /** A retried test: whether an attempt that failed used a database connection (absent in older records). */
  failedOnDatabase?: boolean;
  error?: SerializedError;
  reason?: string;
  /** The line of the spec file that declared it, when the worker saw it (workers/lines.ts). */
  line?: number;
}

export interface RecordedFile {
  file: string;
  key: string;
  round: number;
  /** Which of its slot's threads ran the file: 1 for the first, one more for each replacement (see run/events.ts). */
  incarnation: number;
  start: number;
  end: number | null;
  tests: RecordedTest[];
  failures: { title: string; error: SerializedError }[];
}

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  version: number;
  createdAt: string;
  versions: Record<string, string>;
  config: Record<string, unknown>;
  seed: number | null;
  workers: number;
  /** The CPUs of the machine that ran it (os.availableParallelism()), which caps the suggested worker count. */
  cpus?: number;
  target: string;
  /** After a merge, each slot is a lane that says which shard it came from. */
  slots: { slot: number; shard?: number; files: RecordedFile[] }[];
  rebuilds: (RebuildInfo & { incarnation: number; file: string; at: number })[];
  /** Sessions the application opened itself that the reset rule ended, like rebuilds of its connections. */
  sessionsEnded: (EndedSession & { incarnation: number; file: string; at: number })[];
  chaos: { file: string; slot: number; incarnation: number; fault: ChaosFault; title: string; at: number }[];
  /** Files listed whole as not run: they were never loaded, so their tests are unknown. */
  notRunFiles: { file: string; reason: string }[];
  /** Sessions a file left open on its slot's database (closed at the end of the run). */
  leaks: { file: string; slot: number; incarnation: number; count: number; applicationNames: string[] }[];
  outcome: RecordedOutcome;
  /** Which share of which plan this run was (--shard); merge checks the shards against it. */
  shard?: ShardRecord;
  /** A merged record: the records it was made from, in shard order. */
  merged?: { file: string; shard: number | null; total: number | null; createdAt: string; slots: number }[];
}

export interface ShardRecord {
  index: number;
  total: number;
  source: string;
  /** The fingerprint of the plan's inputs (files, durations, seed, n): shards of one plan share it. */
  plan: string;
  /** The whole partition, every shard's files, so a merge can name what a missing shard would have run. */
  partition: string[][];
}

/** The one fold of the run's outcomes: the summary, the exit code, --fail-zero and --until-fail all read it. */
export interface RecordedOutcome {
  passed: number;
  /** Failed tests, failed hooks and file failures (a load error, a crash outside a test, an escaped error). */
  failed: number;
  skipped: number;
  notRun: number;
  flaky: number;
  interrupted: boolean;
}

/** A run passes when nothing failed and, with --fail-on-flaky, no test needed a retry to pass. */
export function outcomePasses(o: RecordedOutcome, failOnFlaky: boolean): boolean {
  return o.failed === 0 && !(failOnFlaky && o.flaky > 0);
}

/** No test was found: none passed, failed, was skipped or was listed as not run (--fail-zero). */
export function noTestFound(o: RecordedOutcome): boolean {
  return o.passed + o.failed + o.skipped + o.notRun === 0;
}

// Every text of an error is cleaned: an assertion's actual and expected values (a connection string compared in a
// test, for one) are as likely to carry a password as its message.
// A test may throw a 5 MB message or a 200,000-key object: the record keeps the start of each text and a bounded
// slice of the extra data, so one runaway error cannot make the record (and every replay reading it) huge.
const TEXT_LIMIT = 16 * 1024;
const EXTRA_LIMIT = 64 * 1024;

function bounded(text: string): string {
  return text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT)}… [${text.length - TEXT_LIMIT} more characters]`;
}

function clean(err: SerializedError, redactor: Redactor): SerializedError {
  const out: SerializedError = { ...err, message: bounded(redactor.redact(err.message)) };
  for (const key of ['stack', 'actual', 'expected'] as const) {
    const text = err[key];
    if (text !== undefined) out[key] = bounded(redactor.redact(text));
  }
  if (err.cause !== undefined) out.cause = clean(err.cause, redactor);
  if (err.multiple !== undefined) out.multiple = err.multiple.map((e) => clean(e, redactor));
  if (err.extra !== undefined) {
    const extra = redactor.data(err.extra) as Record<string, unknown>;
    const size = JSON.stringify(extra).length;
    if (size <= EXTRA_LIMIT) {
      out.extra = extra;
    } else {
      out.extra = { truncated: `${Object.keys(extra).length} properties, ${size} characters as JSON: left out of the record` };
      delete out.own;
    }
  }
  return out;
}

/** Folds the event stream into a record while the run goes on. */
export class RecordBuilder {
  private readonly t0 = performance.now();
  private readonly files = new Map<string, { slot: number; entry: RecordedFile }>();
  readonly record: RunRecord;

  constructor(
    init: Pick<RunRecord, 'versions' | 'config' | 'seed' | 'workers' | 'cpus' | 'target' | 'shard'>,
    private readonly redactor: Redactor,
  ) {
    this.record = {
      format: RECORD_FORMAT,
      version: RECORD_VERSION,
      createdAt: new Date().toISOString(),
      ...init,
      slots: Array.from({ length: init.workers }, (_, i) => ({ slot: i + 1, files: [] })),
      rebuilds: [],
      sessionsEnded: [],
      chaos: [],
      notRunFiles: [],
      leaks: [],
      outcome: { passed: 0, failed: 0, skipped: 0, notRun: 0, flaky: 0, interrupted: false },
    };
  }

  private now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  private test(key: string, id: string): RecordedTest | undefined {
    return this.files.get(key)?.entry.tests.find((t) => t.id === id);
  }

  handle(event: RunEvent): void {
    const r = this.record;
    const o = r.outcome;
    switch (event.type) {
      case 'file:begin': {
        const entry: RecordedFile = { file: event.path, key: event.file, round: event.round, incarnation: event.incarnation, start: this.now(), end: null, tests: [], failures: [] };
        this.files.set(event.file, { slot: event.slot, entry });
        let slot = r.slots.find((s) => s.slot === event.slot);
        if (slot === undefined) r.slots.push((slot = { slot: event.slot, files: [] }));
        slot.files.push(entry);
        return;
      }
      case 'file:loaded': {
        const f = this.files.get(event.file);
        if (f === undefined) return;
        f.entry.tests = event.tests.map((t) => ({ id: t.id, title: t.titlePath.join(' '), state: 'notrun', start: null, end: null, generation: null, attempts: 0, flaky: false, ...(t.line !== undefined ? { line: t.line } : {}) }));
        return;
      }
      case 'test:begin': {
        const t = this.test(event.file, event.testId);
        if (t !== undefined && t.start === null) t.start = this.now();
        return;
      }
      case 'test:retry': {
        const t = this.test(event.file, event.testId);
        if (t === undefined) return;
        t.attempts += 1;
        t.failedOnDatabase = (t.failedOnDatabase ?? false) || event.usedDatabase;
        return;
      }
      case 'test:end': {
        const t = this.test(event.file, event.testId);
        if (event.state === 'passed') o.passed++;
        else if (event.state === 'failed') o.failed++;
        else o.skipped++;
        if (t === undefined) return;
        t.end = this.now();
        t.start ??= t.end;
        t.state = event.state;
        t.generation = event.generation;
        t.attempts = event.attempt + 1;
        t.flaky = event.state === 'passed' && event.attempt > 0;
        if (t.flaky) o.flaky++;
        if (event.error !== undefined) t.error = clean(event.error, this.redactor);
        return;
      }
      case 'test:notrun': {
        o.notRun++;
        if (event.testId === '*') r.notRunFiles.push({ file: event.file, reason: event.reason });
        const t = this.test(event.file, event.testId);
        if (t !== undefined) t.reason = event.reason;
        return;
      }
      case 'hook:fail':
      case 'file:fail': {
        o.failed++;
        const title = event.type === 'hook:fail' ? event.hook.title : event.title;
        this.files.get(event.file)?.entry.failures.push({ title, error: clean(event.error, this.redactor) });
        return;
      }
      case 'file:end': {
        const f = this.files.get(event.file);
        if (f !== undefined) f.entry.end = this.now();
        return;
      }
      case 'rebuild':
        r.rebuilds.push({ ...event.rebuild, incarnation: event.incarnation, message: this.redactor.redact(event.rebuild.message), file: event.file, at: this.now() });
        return;
      case 'session:ended':
        r.sessionsEnded.push({ ...event.session, applicationName: this.redactor.redact(event.session.applicationName), incarnation: event.incarnation, file: event.file, at: this.now() });
        return;
      case 'chaos':
        r.chaos.push({ file: event.file, slot: event.slot, incarnation: event.incarnation, fault: event.fault, title: event.title, at: this.now() });
        return;
      case 'leak':
        r.leaks.push({ file: event.file, slot: event.slot, incarnation: event.incarnation, count: event.count, applicationNames: event.applicationNames });
        return;
      case 'run:end':
        o.interrupted = event.interrupted;
        return;
      default:
        return;
    }
  }
}

/** Writes atomically, so a reader never sees half a record. */
export function writeRecord(file: string, record: RunRecord): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 1)}\n`);
  renameSync(tmp, file);
}

function recordError(file: string, problem: string, cause?: unknown): BulkheadError {
  return new BulkheadError('ERR_BULKHEAD_RECORD', `The run record ${file} ${problem}.`, { cause, exitCode: EXIT.usage });
}

export function readRecord(file: string): RunRecord {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw recordError(file, 'cannot be read; check the path (every run writes .bulkhead/last-run.json, and --record <file> writes another)', err);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw recordError(file, 'is not valid JSON (it may be truncated or corrupt); run the suite again to write a fresh one', err);
  }
  const r = data as Partial<RunRecord> | null;
  if (r === null || typeof r !== 'object' || r.format !== RECORD_FORMAT || typeof r.version !== 'number') {
    throw recordError(file, 'is not a bulkhead run record (no "format": "bulkhead-run" with a version)');
  }
  if (r.version > RECORD_VERSION) {
    throw recordError(file, `has format version ${r.version}, newer than this bulkhead understands (${RECORD_VERSION}); upgrade bulkhead to read it`);
  }
  if (!Array.isArray(r.slots) || typeof r.workers !== 'number') throw recordError(file, 'is missing its schedule ("slots"); it is corrupt');
  const problem = recordProblem(r);
  if (problem !== null) throw recordError(file, `is damaged: ${problem}; run the suite again to write a fresh one (or restore the file)`);
  // Records written before the not-run files, the leaks and the ended sessions were kept read as having none.
  return { ...r, notRunFiles: r.notRunFiles ?? [], leaks: r.leaks ?? [], sessionsEnded: r.sessionsEnded ?? [] } as RunRecord;
}
