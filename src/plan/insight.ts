// Where a run's time went, from its record alone: the slowest files and tests, the share of the workers' time spent
// idle, and the worker count worth asking for next time. Pure, so the closing summary, GitHub's step summary, the
// HTML report and `bulkhead merge` all show the same numbers.
//
// The suggestion replays the queue on paper: the recorded duration of every run of a file (its load included),
// packed longest first onto w slots by the shards' packing (`partition`, shard.ts), which is what the queue does
// when each free slot takes the longest file left. The smallest w whose predicted wall is within SLACK of the best
// any count could reach is the suggestion. With unlimited workers the best is the longest file, so a suite whose
// longest file is a third of the total gains nothing past 3 workers; the count is capped at the CPUs of the machine
// that ran it (bulkhead's default -w), since durations measured there say nothing about more threads than cores.
// Durations measured at one worker count are taken to hold at another: on a CPU-bound suite fewer workers make
// each file faster, more make it slower, so the prediction is a guide, not a promise.
import type { RecordedFile, RecordedTest, RunRecord } from './record.js';
import { partition } from './shard.js';

/** How much slower than the best reachable wall a suggested count may be: 10%, so a worker must earn its keep. */
export const SLACK = 0.1;
/** How many slowest files and tests are named. */
export const TOP = 5;

export interface SlowFile {
  file: string;
  /** Seconds from its dispatch to its end (its load included); the mean over its runs under --repeat. */
  seconds: number;
  runs: number;
}

export interface SlowTest {
  file: string;
  title: string;
  /** Seconds from its first attempt's start to its end (retries included); the mean over its runs. */
  seconds: number;
  runs: number;
}

export interface Suggestion {
  workers: number;
  /** The predicted wall of the test phase with that many workers (per shard after a merge), in seconds. */
  seconds: number;
  /** The same prediction at the recorded count, so the two compare like with like. */
  current: number;
  /** 'longest': the longest file bounds the run; 'cpus': the machine's CPUs do, before the longest file would. */
  bound: 'longest' | 'cpus';
  longest: { file: string; seconds: number };
  /** The clause that says why, for the summaries. */
  why: string;
}

export interface Insight {
  /** The TOP slowest files (finished runs only), slowest first. */
  files: SlowFile[];
  /** The TOP slowest tests over mocha's slow threshold (a 3 ms test is not worth naming), slowest first. */
  tests: SlowTest[];
  /** Seconds from the first file's start to the last one's end; after a merge, the longest shard's. */
  wall: number;
  /** The share of the lanes' time (lanes × wall, per shard) with no file on them, 0 to 1; null when nothing ran. */
  idle: number | null;
  /** Worker lanes: the run's workers, or every shard's after a merge. */
  lanes: number;
  /** The records a merged record was made of (1 for a run): the suggestion is then per shard. */
  groups: number;
  /** What a merged record's records were: shards of one plan, or whole runs. */
  kind: 'run' | 'shards' | 'runs';
  /** The workers each group ran with, when all ran with the same count (the count a suggestion compares with). */
  now: number | null;
  suggestion: Suggestion | null;
  /** Why there is no suggestion, when there is none. */
  withheld: string | null;
}

/** mocha's slow threshold as the run's configuration had it (75 ms by default). */
export function slowThreshold(record: RunRecord): number {
  const mocha = record.config['mocha'] as { slow?: unknown } | undefined;
  return typeof mocha?.slow === 'number' ? mocha.slow : 75;
}

/** When a file's run stopped: its end, or for one cut off (an interrupted run) the last thing seen in it. */
function lastSeen(f: RecordedFile): number {
  if (f.end !== null) return f.end;
  return Math.max(f.start, most(f.tests.map((t) => t.end ?? t.start ?? f.start)));
}

/**
 * The lanes of each record a merge was made of (merge.ts numbers each record's lanes on after the previous one's),
 * or of the one run.
 */
function groupsOf(record: RunRecord): RunRecord['slots'][] {
  const merged = record.merged;
  if (merged === undefined || merged.length === 0) return [record.slots];
  const out: RunRecord['slots'][] = merged.map(() => []);
  const last: number[] = [];
  merged.reduce((offset, m) => (last.push(offset + m.slots), offset + m.slots), 0);
  for (const s of record.slots) {
    const g = last.findIndex((n) => s.slot <= n);
    out[g < 0 ? merged.length - 1 : g]?.push(s);
  }
  return out.filter((g) => g.length > 0);
}

/** The mean of each key's values, slowest first, the first TOP over `over`; ties in key order, so the list is stable. */
function slowest<T>(entries: readonly { key: string; item: T; seconds: number }[], over = -1): (T & { seconds: number; runs: number })[] {
  const by = new Map<string, { item: T; total: number; runs: number }>();
  for (const e of entries) {
    const x = by.get(e.key);
    if (x === undefined) by.set(e.key, { item: e.item, total: e.seconds, runs: 1 });
    else by.set(e.key, { ...x, total: x.total + e.seconds, runs: x.runs + 1 });
  }
  return [...by]
    .map(([key, x]) => ({ key, value: { ...x.item, seconds: round(x.total / x.runs), runs: x.runs } }))
    .filter((x) => x.value.seconds > over)
    .sort((a, b) => b.value.seconds - a.value.seconds || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, TOP)
    .map((x) => x.value);
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;
const ran = (t: RecordedTest): t is RecordedTest & { start: number; end: number } => t.state !== 'notrun' && t.start !== null && t.end !== null;

/** One group's runs as `partition` takes them, named in its own order (longest first), so its sort has no work. */
interface Packable {
  ids: string[];
  weights: Map<string, number>;
}

function packable(g: readonly number[]): Packable {
  const sorted = [...g].sort((a, b) => b - a);
  const width = String(sorted.length).length;
  const ids = sorted.map((_, i) => String(i).padStart(width, '0'));
  return { ids, weights: new Map(ids.map((id, i) => [id, sorted[i] as number])) };
}

/** The predicted wall with w workers per group: each group's runs packed longest first, the longest group's load. */
function predicted(jobs: readonly Packable[], w: number): number {
  let worst = 0;
  for (const g of jobs) {
    if (g.ids.length === 0) continue;
    worst = Math.max(worst, most(partition(g.ids, g.weights, Math.min(w, g.ids.length)).loads));
  }
  return worst;
}

const most = (values: Iterable<number>): number => {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
};
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Lower than any packing onto w slots can go: the longest run, and each group's total shared evenly. */
function floor(jobs: readonly number[][], w: number): number {
  return most(jobs.map((g) => Math.max(most(g), sum(g) / w)));
}

/** How many counts after the first one the floor allows are tried one by one before bisecting the rest. */
const SCAN = 64;

/**
 * The smallest w <= cap whose packing is within `goal` (cap's is). No count below the first whose floor allows it
 * can be; from there each count is tried in turn, which is exact. LPT packing is all but monotone in w (a rare
 * anomaly makes one more slot a little slower), so past SCAN counts (a suite of many equal files, nearly always)
 * the rest are bisected, which keeps `bulkhead merge` of 10,000 files quick.
 */
function smallest(jobs: readonly number[][], packs: readonly Packable[], cap: number, goal: number): number {
  let w = Math.max(1, ...jobs.map((g) => Math.ceil(sum(g) / goal - 1e-9)));
  while (w < cap && floor(jobs, w) > goal) w++;
  for (const end = Math.min(cap, w + SCAN); w < end; w++) if (predicted(packs, w) <= goal) return w;
  let [lo, hi] = [w - 1, cap];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (predicted(packs, mid) <= goal) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Seconds as the summaries print them: "0.42 s", "3.10 s", "34.2 s". */
export const seconds = (s: number): string => `${s >= 10 ? s.toFixed(1) : s.toFixed(2)} s`;

function suggest(record: RunRecord, groups: RunRecord['slots'][]): { suggestion: Suggestion | null; withheld: string | null } {
  if (record.outcome.interrupted) return { suggestion: null, withheld: 'the run was interrupted, so its record lacks the files it did not reach' };
  if (record.notRunFiles.length > 0) return { suggestion: null, withheld: `${record.notRunFiles.length} file(s) did not run, so their durations are unknown` };
  const runs = groups.map((g) => g.flatMap((s) => s.files.filter((f) => f.end !== null).map((f) => ({ file: f.file, seconds: ((f.end as number) - f.start) / 1000 }))));
  const all = runs.flat();
  if (all.length === 0) return { suggestion: null, withheld: 'no file finished' };
  const longest = all.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  const jobs = runs.map((g) => g.map((r) => r.seconds));
  const packs = jobs.map(packable);
  const widest = most(jobs.map((g) => g.length));
  const cpus = typeof record.cpus === 'number' && Number.isSafeInteger(record.cpus) && record.cpus > 0 ? record.cpus : null;
  const cap = Math.min(widest, cpus ?? widest);
  const goal = predicted(packs, cap) * (1 + SLACK);
  const workers = smallest(jobs, packs, cap, goal);
  const at = predicted(packs, workers);
  const current = most(packs.map((g, i) => predicted([g], groups[i]?.length ?? 1)));
  const byLongest = at <= longest.seconds * (1 + SLACK);
  const total = most(jobs.map(sum));
  const why = byLongest
    ? `the longest file, ${longest.file} ${seconds(longest.seconds)}, bounds the run`
    : `the ${cpus} CPUs of the machine that ran it bound it (more could gain up to about -w ${Math.ceil(total / Math.max(longest.seconds, 1e-9))})`;
  return {
    suggestion: { workers, seconds: round(at), current: round(current), bound: byLongest ? 'longest' : 'cpus', longest: { file: longest.file, seconds: round(longest.seconds) }, why },
    withheld: null,
  };
}

export function insight(record: RunRecord): Insight {
  const groups = groupsOf(record);
  const files = record.slots.flatMap((s) => s.files);
  const slow = slowThreshold(record) / 1000;
  let wall = 0;
  let busy = 0;
  let capacity = 0;
  for (const g of groups) {
    const spans = g.flatMap((s) => s.files.map((f) => ({ start: f.start, end: lastSeen(f) })));
    if (spans.length === 0) continue;
    const w = (most(spans.map((x) => x.end)) - spans.reduce((m, x) => Math.min(m, x.start), Infinity)) / 1000;
    wall = Math.max(wall, w);
    busy += spans.reduce((n, x) => n + (x.end - x.start) / 1000, 0);
    capacity += g.length * w;
  }
  const finished = files.filter((f) => f.end !== null);
  const tests = files.flatMap((f) => f.tests.filter(ran).map((t) => ({ key: `${f.file}\u0000${t.title}`, item: { file: f.file, title: t.title }, seconds: (t.end - t.start) / 1000 })));
  return {
    files: slowest(finished.map((f) => ({ key: f.file, item: { file: f.file }, seconds: ((f.end as number) - f.start) / 1000 }))),
    tests: slowest(tests, slow),
    wall: round(wall),
    idle: capacity > 0 ? Math.min(1, Math.max(0, 1 - busy / capacity)) : null,
    lanes: record.slots.length,
    groups: groups.length,
    kind: record.merged === undefined ? 'run' : record.merged.some((m) => m.shard !== null) ? 'shards' : 'runs',
    now: groups.every((g) => g.length === groups[0]?.length) ? (groups[0]?.length ?? null) : null,
    ...suggest(record, groups),
  };
}

/**
 * The line on time and workers, shared by the summary, GitHub's step summary and the HTML report: "12.3 s on 4
 * workers, 38% of it idle; suggested -w 2 (about 12.1 s; about 12.1 s with 4): the longest file, ..., bounds the run".
 */
export function workersText(x: Insight): string {
  const whole = x.groups > 1 ? ` (the longest of ${x.groups} ${x.kind})` : '';
  const on = x.groups > 1 ? `${x.lanes} lanes` : `${x.lanes} worker${x.lanes === 1 ? '' : 's'}`;
  const idle = x.idle === null ? '' : `, ${Math.round(x.idle * 100)}% of it idle`;
  const s = x.suggestion;
  if (s === null) return `${seconds(x.wall)}${whole} on ${on}${idle}${x.withheld !== null ? `; no -w suggestion: ${x.withheld}` : ''}`;
  const per = x.groups > 1 ? ` per ${x.kind === 'shards' ? 'shard' : 'run'}` : '';
  const compared = x.now === null ? '' : x.now === s.workers ? ', as now' : `; about ${seconds(s.current)} with ${x.now}`;
  return `${seconds(x.wall)}${whole} on ${on}${idle}; suggested -w ${s.workers}${per} (about ${seconds(s.seconds)}${compared}): ${s.why}`;
}
