// The closing summary, rendered from the finished run record (the one fold of the run's outcomes): rebuilds per
// slot, flaky tests, injected faults, leaks, the tests that never ran, where the time went (plan/insight.ts), and a
// last line that reads exactly "N passed, N failed" (", N skipped" when any were skipped).
import type { Config } from '../config/types.js';
import type { RunRecord } from '../plan/record.js';
import { parseRunKey } from '../plan/schedule.js';
import { insight, seconds, workersText } from '../plan/insight.js';
import { SESSION_REASON_TEXT, describeReasons } from '../protocol/messages.js';

export interface SummaryOptions {
  /** --fail-on-flaky: the flaky line says that they fail the run. */
  failOnFlaky: boolean;
  /** The leak policy (config key leaks): 'fail' says that the leaks fail the run. */
  leaks?: 'report' | 'fail' | 'ignore';
  /** --chaos was on: a run it hit nowhere says so. */
  chaos?: boolean;
  /** Plain runs name the bisect command for a flaky test; replay and bisect write other records. */
  command?: Config['command'];
}

/** Where every plain run writes its record (run/session.ts's LAST_RUN, relative to the project root). */
const LAST_RUN = '.bulkhead/last-run.json';

export function renderSummary(record: RunRecord, options: SummaryOptions): string {
  const o = record.outcome;
  const lines: string[] = [''];
  const perSlot = Array.from({ length: record.workers }, (_, i) => `w${i + 1}: ${record.rebuilds.filter((r) => r.slot === i + 1).length}`);
  lines.push(`connection rebuilds: ${record.rebuilds.length} (${perSlot.join(', ')})`);
  for (const r of record.rebuilds) {
    // The record holds the message with passwords already removed (a server error may quote a connection string).
    const what = r.sqlstate !== undefined ? `${r.sqlstate} ${r.message}` : r.message;
    // Without a fault to quote, the reasons already say it all.
    const detail = what === r.reasons.join(', ') ? '' : ` (${firstLine(what)})`;
    lines.push(`  w${r.slot} gen ${r.generation}${thread(r.incarnation, ' (', ')')} after ${r.culprit.kind} "${r.culprit.title}": ${describeReasons(r.reasons)}${detail}`);
  }
  lines.push(...endedSessions(record));
  const flaky = byFile(record).flatMap((f) => f.tests.filter((t) => t.flaky).map((t) => ({ file: f.key, title: t.title, attempts: t.attempts, onDatabase: t.failedOnDatabase !== false })));
  if (flaky.length > 0) {
    lines.push(`flaky: ${flaky.length}${options.failOnFlaky ? ' (--fail-on-flaky: the run fails)' : ''}`);
    for (const f of flaky) lines.push(`  ${f.file}: ${f.title} (passed on attempt ${f.attempts})`);
    lines.push(...flakyHint(flaky, options.command ?? 'run'));
  }
  if (options.chaos === true && record.chaos.length === 0 && o.passed + o.failed > 0) {
    lines.push('injected faults: 0 (--chaos hit nothing: no query a test sent through db() or the project\'s own pg drew a fault; raise the probabilities, or check that the tests query through pg, which chaos patches, rather than another driver)');
  }
  if (record.chaos.length > 0) {
    lines.push(`injected faults: ${record.chaos.length}`);
    for (const c of record.chaos) lines.push(`  ${c.fault} on w${c.slot}${thread(c.incarnation, ' (', ')')} in ${c.file}: ${c.title}`);
  }
  if (record.leaks.length > 0) {
    const fails = options.leaks === 'fail' ? '; leaks: \'fail\' fails the run' : '';
    lines.push(`leaked connections: ${record.leaks.reduce((n, l) => n + l.count, 0)} (still open when the worker closed, after its afterAll hooks; bulkhead ended them${fails})`);
    for (const l of record.leaks) lines.push(`  w${l.slot}${thread(l.incarnation, ' (', ')')}: ${l.count} session(s) left open [${l.applicationNames.join(', ') || 'no application_name'}], after ${l.file || 'no file'}`);
  }
  const notRun = notRunList(record);
  if (notRun.length > 0) {
    lines.push(`not run: ${notRun.length}`);
    for (const n of notRun) lines.push(`  ${n.file}: ${n.title} (${n.reason})`);
  }
  lines.push(...timeLines(record));
  if (record.seed !== null) lines.push(`seed: ${record.seed} (reproduce the order with --shuffle=${record.seed})`);
  lines.push(`${o.passed} passed, ${o.failed} failed${o.skipped > 0 ? `, ${o.skipped} skipped` : ''}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Below a second of tests nothing about workers is worth a line (the per-worker start costs about as much), so a
 * short run keeps its summary quiet; past that, the slowest files, the tests over mocha's slow threshold, and the
 * time line with the suggested -w.
 */
export const QUIET_BELOW_SECONDS = 1;

function timeLines(record: RunRecord): string[] {
  const x = insight(record);
  if (x.files.length === 0 || x.wall < QUIET_BELOW_SECONDS) return [];
  // --repeat: every run of a file counts, so each figure is a mean; said once when all have the same count.
  const rounds = new Set([...x.files, ...x.tests].map((f) => f.runs));
  const once = rounds.size === 1 && !rounds.has(1) ? ` (mean of ${[...rounds][0]} runs)` : '';
  const mean = (runs: number): string => (once === '' && runs > 1 ? ` (mean of ${runs})` : '');
  const lines = [`slowest files${once}: ${x.files.map((f) => `${f.file} ${seconds(f.seconds)}${mean(f.runs)}`).join(', ')}`];
  if (x.tests.length > 0) lines.push(`slowest tests${once}:`, ...x.tests.map((t) => `  ${seconds(t.seconds)} ${t.file}: ${t.title}${mean(t.runs)}`));
  lines.push(`time: ${workersText(x)}`);
  return lines;
}

/** The application's own sessions the reset rule ended, each with the test that left it; none, no lines. */
function endedSessions(record: RunRecord): string[] {
  const ended = record.sessionsEnded;
  if (ended.length === 0) return [];
  const lines = [`application sessions ended: ${ended.length} (the reset rule, applied to the application's own connections)`];
  for (const e of ended) {
    const why = e.reasons.map((r) => SESSION_REASON_TEXT[r]).join(', ');
    lines.push(`  w${e.slot}${thread(e.incarnation, ' (', ')')} pid ${e.pid} [${e.applicationName || 'no application_name'}] after ${e.culprit.kind} "${e.culprit.title}": ${why} (${e.state})`);
    if (e.heldAcrossTests) {
      lines.push('    held across tests (a module-level pg.Client, or a pool client never released): no pool replaces it, so its next query fails.');
      lines.push('    Check a client out of a pg.Pool in each test and release it, or open the client in beforeEach and end it in afterEach.');
    }
  }
  return lines;
}

/**
 * A retry runs on a fresh connection (workers/hooks.ts), so a test whose failing attempt used the database and then
 * passed was most likely failed by its session: state an earlier test left on the worker's connection. One whose
 * failing attempt used none was not cured by the connection: timing, or state an earlier test left in the worker.
 * bisect finds that earlier test either way.
 */
function flakyHint(flaky: readonly { title: string; onDatabase: boolean }[], command: Config['command']): string[] {
  const onDb = flaky.filter((f) => f.onDatabase).length;
  const them = (n: number): string => (n === flaky.length ? (n === 1 ? 'it' : 'them') : `${n} of them`);
  const causes: string[] = [];
  if (onDb > 0) causes.push(`  a fresh connection cured ${them(onDb)}: each retry runs on a new connection, so the failing attempt most likely met session state an earlier test left (SET, a temporary table, an open transaction, a lock)`);
  if (onDb < flaky.length) causes.push(`  ${onDb === 0 && flaky.length === 1 ? 'it' : onDb === 0 ? 'they' : `${flaky.length - onDb} of them`} used no database connection in the attempt that failed, so the connection was not the cause: most likely timing, or state an earlier test left in the worker (a module-level variable, a global, a stub)`);
  const last = causes.length - 1;
  if (command !== 'run') return causes.map((c, i) => (i === last ? `${c}; bisect the record of the run that showed it.` : c));
  return [...causes.map((c, i) => (i === last ? `${c}; to find that test:` : c)), ...flaky.map((f) => `    bulkhead bisect ${LAST_RUN} --test ${shellQuote(f.title)}`)];
}

/** A title as one shell word: single quotes, with any single quote in it closed, escaped and reopened. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where a line names a worker ("w1"), which of the slot's threads it was, once the slot's thread was replaced
 * ("w1 gen 4 (thread 2)"); nothing on the slot's first thread. Generations count per slot, across its threads.
 */
function thread(incarnation: number, before: string, after: string): string {
  return incarnation > 1 ? `${before}thread ${incarnation}${after}` : '';
}

/** The runs of files in the record, by path and then round, so the lists do not depend on which slot ran what. */
function byFile(record: RunRecord): RunRecord['slots'][number]['files'] {
  return record.slots.flatMap((s) => s.files).sort((a, b) => compareKeys(a.key, b.key));
}

function compareKeys(a: string, b: string): number {
  const x = parseRunKey(a);
  const y = parseRunKey(b);
  return x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : x.round - y.round;
}

/** Every test that did not run, with its reason; a file never loaded is one entry for all its tests. */
function notRunList(record: RunRecord): { file: string; title: string; reason: string }[] {
  const out: { file: string; title: string; reason: string }[] = [];
  for (const f of record.notRunFiles) out.push({ file: f.file, title: '(every test in the file)', reason: f.reason });
  for (const f of byFile(record)) {
    for (const t of f.tests) if (t.state === 'notrun' && t.reason !== undefined) out.push({ file: f.key, title: t.title, reason: t.reason });
  }
  // Stable: within one file the tests keep their order.
  return out.sort((a, b) => compareKeys(a.file, b.file));
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
