// The markdown report: one table of medians and ratios, then cascades, rebuild latency, provisioning, shards, the
// scaling curve and the targets, and the method text. Everything here is rendered from the JSON record, so the two
// never disagree; the files are written whole or not at all.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CascadeRow, LatencyRow, ProvisionRow, ShardRow, Target, WallRow } from './summary.js';
import { RSS_METHOD } from './runners.js';
import { fmt, ratio } from './stats.js';

export const METHOD = [
  'Every spec file is byte-identical for every runner. `support/db.js` is bulkhead\'s `db()` under bulkhead and, under mocha, one lazily created shared `pg.Client` per process (never rebuilt; a no-op `error` listener so a dropped socket fails tests rather than crashing the process). Serial mocha closes it once in a root `afterAll`; mocha --parallel workers exit with it open, as they do for users today.',
  'Runners share the flags `--reporter json --timeout 20000`; mocha gets `--require support/hooks.js` (the close above). The json report is parsed: a run that did not run every test, or failed outside the designed failures, is left out of the medians and listed.',
  'Wall time: spawn to exit, measured in the bench process. Time to first test: spawn to the earliest stamp the first test of any process or thread writes (Date.now(), same clock).',
  `Peak RSS: ${RSS_METHOD}. bulkhead is one process, so its figure covers the main thread and every worker and is divided by the worker count; mocha --parallel workers are processes, so its figure is the largest single process (already per worker). The marginal cost of one more bulkhead worker is the slope between -w 1 and -w 8.`,
  'Rebuild: the fixture breaks its connection (open transaction, aborted transaction, SQL error, terminated backend) and the next test times from the end of the break to its fresh db(): discard + reconnect + the hooks between. Bare connects run in the bench process after each fixture run, on the same server and database.',
  'Provisioning: a template with the suites\' tables, 20 more tables with an index each and 2,000 rows, cloned per slot with `CREATE DATABASE … TEMPLATE` one at a time and all at once; every clone is dropped.',
  'Shards: each shard is a separate `bulkhead -w 1 --shard i/4` process, run one after another; its wall time is spawn to exit (the runner\'s start included, as a CI job pays it). Duration-balanced shards read the timings file a full run of the suite wrote; count-balanced ones an empty one. A round\'s spread counts only when all four shards ran every test of their share and their run records show the predicted partition.',
  'The server is shared with other work on this machine: only ratios taken in the same run are meaningful.',
];

export interface BenchRecord {
  date: string;
  mode: 'quick' | 'full';
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; os: string; node: string; postgres: string };
  bulkhead: { commit: string; dirty: boolean };
  rounds: { timing: number; cascade: number; rebuild: number; provisioning: number; shards: number };
  method: string[];
  summary: {
    wall: WallRow[];
    cascade: CascadeRow[];
    rebuild: LatencyRow[];
    provisioning: ProvisionRow[];
    /** The shards suite: duration- and count-balanced, predicted and realised spreads (empty when not run). */
    shards: ShardRow[];
    targets: Target[];
    marginalRssPerWorkerMb: number | null;
  };
  invalid: { suite: string; runner: string; round: number; problem: string }[];
  leftovers: { databases: string[]; sessions: number };
}

const s = (ms: number | null): string => fmt(ms === null ? null : ms / 1000, 2);
const x = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function bar(value: number | null, scale: number): string {
  if (value === null || scale <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((value / scale) * 40)));
}

export function renderMarkdown(rec: BenchRecord): string {
  const out: string[] = [];
  const m = rec.machine;
  out.push(`# bulkhead bench — ${rec.date} (${rec.mode})`, '');
  out.push(`Reproduce: \`${rec.command}\`  `);
  out.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.os}; Node ${m.node}; PostgreSQL ${m.postgres} (shared local server)  `);
  out.push(`bulkhead: ${rec.bulkhead.commit}${rec.bulkhead.dirty ? ' + uncommitted changes' : ''} (dist/ snapshot taken at the start of the run)  `);
  out.push(`Rounds: ${rec.rounds.timing} per timing suite (runners interleaved, direction alternating per round), cascade ${rec.rounds.cascade}, rebuild ${rec.rounds.rebuild}, provisioning ${rec.rounds.provisioning}, shards ${rec.rounds.shards}`, '');

  out.push('## Wall time: medians and ratios', '');
  out.push(table(
    ['suite', 'runner', 'median s', 'min–max s', '× mocha serial', '× mocha --parallel (same jobs)', 'first test ms', 'CPU s', 'peak RSS MB', 'RSS / worker MB', 'load avg', 'valid runs'],
    rec.summary.wall.map((r) => [r.suite, r.label, s(r.medianMs), `${s(r.minMs)}–${s(r.maxMs)}`, x(r.vsSerial), x(r.vsParallel), fmt(r.firstTestMs, 0), fmt(r.cpuS), fmt(r.peakRssMb, 0), fmt(r.rssPerWorkerMb, 0), fmt(r.load1, 1), `${r.valid}/${r.runs}`]),
  ), '');
  out.push(`Marginal RSS per extra bulkhead worker (DB-bound, (-w 8 − -w 1) / 7): ${fmt(rec.summary.marginalRssPerWorkerMb, 1)} MB`, '');

  out.push('## Targets', '');
  out.push(table(['target', 'goal', 'measured', 'status'], rec.summary.targets.map((t) => [t.name, t.goal, t.measured === null ? '—' : `${fmt(t.measured, t.digits)}${t.unit}`, t.status])), '');

  out.push('## Cascade suite: failures caused by an earlier test', '');
  out.push('12 files × 10 tests; 12 tests poison their connection (6 fail themselves: the root failures; 6 pass and leave it broken). Any other failure is a cascade.', '');
  out.push(table(['runner', 'runs', 'cascaded failures (median)', 'min–max', 'root failures', 'tests not run', 'wall s'],
    rec.summary.cascade.map((r) => [r.label, String(r.runs), fmt(r.cascadedMedian, 0), `${fmt(r.cascadedMin, 0)}–${fmt(r.cascadedMax, 0)}`, fmt(r.rootFailures, 0), fmt(r.notRun, 0), s(r.wallMs)])), '');

  out.push('## Connection rebuild latency', '');
  out.push(table(['measure', 'n', 'median ms', 'p95 ms', '× bare connect', 'note'],
    rec.summary.rebuild.map((r) => [r.what, String(r.n), fmt(r.medianMs), fmt(r.p95Ms), x(r.vsBareConnect), r.note ?? ''])), '');

  out.push('## Provisioning: per-slot database clones', '');
  out.push('bulkhead per slot: the wall time of all its slot clones (its `--verbose` line; without a setup they are cloned straight from the target) divided by the slots, against the same template.', '');
  out.push(table(['slots', 'bulkhead per slot ms', 'bare clone per slot ms (one at a time)', '× bare (one at a time)', 'bare clones at once: wall ms', 'per slot ms'],
    rec.summary.provisioning.map((r) => [String(r.slots), fmt(r.bulkheadPerSlotMs, 1), fmt(r.bareSequentialPerSlotMs, 1), x(ratio(r.bulkheadPerSlotMs, r.bareSequentialPerSlotMs)), fmt(r.bareConcurrentWallMs, 1), fmt(r.bareConcurrentPerSlotMs, 1)])), '');

  if (rec.summary.shards.length > 0 && rec.summary.shards.some((r) => r.rounds > 0)) {
    out.push('## Shards: 4 shards of a skewed suite, one after another (issue 12)', '');
    out.push('36 timer-bound files × 4 tests, two of them 14× longer than the rest; each shard `bulkhead -w 1 --shard i/4`. Duration-balanced: `--timings` from a full run. Count-balanced: an empty timings file, so no duration is known and bulkhead deals the files round-robin by count (every file has 4 tests: by files is by tests). Spread = max shard ÷ mean; predicted from the partition and the full run\'s durations.', '');
    out.push(table(['balance', 'files per shard', 'predicted load per shard s', 'predicted spread', 'wall per shard s (median)', 'realised spread (median)', 'valid rounds'],
      rec.summary.shards.map((r) => [r.balance, r.files.join(' / '), r.predictedS.map((v) => v.toFixed(2)).join(' / '), x(r.predictedSpread), r.wallMs.map(s).join(' / '), x(r.realisedSpread), `${r.validRounds}/${r.rounds}`])), '');
  }

  out.push('## Scaling: workers against wall time (median)', '');
  for (const suite of [...new Set(rec.summary.wall.map((r) => r.suite))]) {
    const rows = rec.summary.wall.filter((r) => r.suite === suite && r.runner.startsWith('bulkhead-'));
    const serial = rec.summary.wall.find((r) => r.suite === suite && r.runner === 'mocha-serial')?.medianMs ?? null;
    const scale = Math.max(serial ?? 0, ...rows.map((r) => r.medianMs ?? 0));
    out.push(`${suite}:`, '```');
    if (serial !== null) out.push(`${'mocha serial'.padEnd(14)}${s(serial).padStart(6)} s ${bar(serial, scale)}`);
    for (const r of rows) out.push(`${`bulkhead -w ${r.workers}`.padEnd(14)}${s(r.medianMs).padStart(6)} s ${bar(r.medianMs, scale)}`);
    out.push('```', '');
  }

  out.push('## Method', '');
  for (const line of rec.method) out.push(`- ${line}`);
  out.push('');
  if (rec.invalid.length > 0) {
    out.push('## Runs left out of the medians', '');
    for (const i of rec.invalid) out.push(`- ${i.suite} / ${i.runner} round ${i.round}: ${i.problem.replace(/\n/g, ' ')}`);
    out.push('');
  }
  out.push(`Server left clean: ${rec.leftovers.databases.length === 0 && rec.leftovers.sessions === 0 ? 'yes' : `NO (${rec.leftovers.databases.join(', ')}; ${rec.leftovers.sessions} session(s))`}`, '');
  return out.join('\n');
}

/** The results' base name for the date, with -2, -3, … when that day already has results there. */
export function uniqueBase(dir: string, date: string): string {
  let base = path.join(dir, date);
  for (let n = 2; existsSync(`${base}.json`) || existsSync(`${base}.md`); n++) base = path.join(dir, `${date}-${n}`);
  return base;
}

/** Written whole or not at all: an interrupted write never leaves half a result where results are kept. */
export function writeAtomic(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}
