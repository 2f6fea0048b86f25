// The JUnit document (--reporter junit[:file]), made from the run record so that a merged record (bulkhead merge)
// gives the same document as one run. One <testsuite> per run of a spec file; every test, failed hook and file
// failure a <testcase>, so the counts are the record's outcome: tests = passed + failed + skipped + not run,
// failures = failed, skipped = pending + not run. A file never loaded is one skipped <testcase> of its own.
import { createRequire } from 'node:module';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';

// Loaded when a document is written, not with every run: most runs write none, and the library costs ~90 ms to load.
const load = createRequire(import.meta.url);
import type { SerializedError } from '../protocol/messages.js';
import { REASON_TEXT } from '../protocol/messages.js';
import type { RecordedFile, RunRecord } from '../plan/record.js';

type Rebuild = RunRecord['rebuilds'][number];

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of a server error (a five-character code), not a Node code such as ECONNRESET. */
export function sqlstateOf(error: SerializedError | undefined): string | undefined {
  return error?.code !== undefined && SQLSTATE.test(error.code) ? error.code : undefined;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function properties(node: XMLBuilder, props: [string, string | number | undefined][]): void {
  const given = props.filter((p): p is [string, string | number] => p[1] !== undefined);
  if (given.length === 0) return;
  const list = node.ele('properties');
  for (const [name, value] of given) list.ele('property', { name, value: String(value) });
}

function failure(node: XMLBuilder, error: SerializedError | undefined): void {
  const e = error ?? { name: 'Error', message: 'failed' };
  const sqlstate = sqlstateOf(e);
  const diff = e.expected !== undefined && e.actual !== undefined ? `\nexpected: ${e.expected}\nactual: ${e.actual}` : '';
  const text = `${sqlstate !== undefined ? `SQLSTATE ${sqlstate}\n` : ''}${e.stack ?? `${e.name}: ${e.message}`}${diff}`;
  node.ele('failure', { type: e.name, message: e.message }).txt(text);
}

export function rebuildText(r: Rebuild): string {
  const sqlstate = r.sqlstate !== undefined ? ` (SQLSTATE ${r.sqlstate})` : '';
  return `connection ${r.generation} rebuilt after ${r.culprit.kind} "${r.culprit.title}": ${r.reasons.map((x) => REASON_TEXT[x]).join(', ')}${sqlstate}: ${r.message}`;
}

function suite(root: XMLBuilder, record: RunRecord, f: RecordedFile, lane: { slot: number; shard?: number }): void {
  const rebuilds = record.rebuilds.filter((r) => r.file === f.key && r.slot === lane.slot);
  const failed = f.tests.filter((t) => t.state === 'failed').length + f.failures.length;
  const skipped = f.tests.filter((t) => t.state === 'pending' || t.state === 'notrun').length;
  const start = Date.parse(record.createdAt) + f.start;
  const s = root.ele('testsuite', {
    name: f.round > 0 ? `${f.file} (round ${f.round + 1})` : f.file,
    file: f.file,
    tests: f.tests.length + f.failures.length,
    failures: failed,
    errors: 0,
    skipped,
    time: seconds((f.end ?? f.start) - f.start),
    timestamp: Number.isFinite(start) ? new Date(start).toISOString().slice(0, 19) : '',
  });
  properties(s, [
    ['bulkhead.slot', lane.slot],
    ['bulkhead.shard', lane.shard],
    ['bulkhead.incarnation', f.incarnation],
    ['bulkhead.round', f.round > 0 ? f.round + 1 : undefined],
    ['bulkhead.rebuilds', rebuilds.length],
  ]);
  for (const t of f.tests) {
    const c = s.ele('testcase', { name: t.title, classname: f.file, file: f.file, ...(t.line !== undefined ? { line: t.line } : {}), time: seconds(t.start !== null && t.end !== null ? t.end - t.start : 0) });
    const mine = rebuilds.filter((r) => r.culprit.testId === t.id);
    properties(c, [
      ['bulkhead.slot', lane.slot],
      ['bulkhead.connection', t.generation ?? undefined],
      ['bulkhead.sqlstate', sqlstateOf(t.error)],
      ['bulkhead.flaky', t.flaky ? `passed on attempt ${t.attempts}` : undefined],
      ...mine.map((r): [string, string] => ['bulkhead.rebuild', rebuildText(r)]),
    ]);
    if (t.state === 'failed') failure(c, t.error);
    else if (t.state === 'pending') c.ele('skipped');
    else if (t.state === 'notrun') c.ele('skipped', { message: `not run: ${t.reason ?? 'the run ended before it'}` });
  }
  for (const x of f.failures) {
    const c = s.ele('testcase', { name: x.title, classname: f.file, file: f.file, time: seconds(0) });
    properties(c, [['bulkhead.slot', lane.slot], ['bulkhead.sqlstate', sqlstateOf(x.error)]]);
    failure(c, x.error);
  }
}

export function junitXml(record: RunRecord): string {
  const o = record.outcome;
  const end = Math.max(0, ...record.slots.flatMap((s) => s.files.map((f) => f.end ?? f.start)));
  const { create } = load('xmlbuilder2') as typeof import('xmlbuilder2');
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const root = doc.ele('testsuites', { name: 'bulkhead', tests: o.passed + o.failed + o.skipped + o.notRun, failures: o.failed, errors: 0, skipped: o.skipped + o.notRun, time: seconds(end) });
  const runs = record.slots.flatMap((lane) => lane.files.map((f) => ({ f, lane })));
  // In the order the files started, across lanes (a merged record's lanes share one clock).
  runs.sort((a, b) => a.f.start - b.f.start || a.lane.slot - b.lane.slot);
  for (const { f, lane } of runs) suite(root, record, f, lane);
  for (const n of record.notRunFiles) {
    const s = root.ele('testsuite', { name: n.file, file: n.file, tests: 1, failures: 0, errors: 0, skipped: 1, time: seconds(0) });
    s.ele('testcase', { name: `${n.file} (not loaded)`, classname: n.file, file: n.file, time: seconds(0) }).ele('skipped', { message: `not run: ${n.reason}` });
  }
  return `${doc.end({ prettyPrint: true })}\n`;
}
