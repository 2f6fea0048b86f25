// `bulkhead merge`: the records of the shards of one plan folded into one record, with proof that the shards
// together ran every planned file once and every test of it once. Pure: reading and writing files is the CLI's.
import type { RecordedFile, RunRecord } from './record.js';

export interface MergeInput {
  /** Where the record came from, to name it in problems. */
  file: string;
  record: RunRecord;
}

export interface MergeResult {
  record: RunRecord;
  /** Every way the shards fall short of "each planned test exactly once", by name; empty when they do not. */
  problems: string[];
  /** What the shards were: "3 shards of plan 1a2b…", for the closing line. */
  describe: string;
}

const listed = (items: readonly string[], max = 8): string => (items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`);

/** Problems with the set of shards: all of one plan, each index once, none missing. */
function checkShards(inputs: readonly MergeInput[]): string[] {
  const sharded = inputs.filter((i) => i.record.shard !== undefined);
  if (sharded.length === 0) return [];
  if (sharded.length < inputs.length) {
    return [`${listed(inputs.filter((i) => i.record.shard === undefined).map((i) => i.file))} ran without --shard, but ${listed(sharded.map((i) => i.file))} ran with it: merge the shards of one plan, or only whole runs`];
  }
  const first = sharded[0] as MergeInput;
  const plan = first.record.shard?.plan;
  const total = first.record.shard?.total ?? 0;
  const problems: string[] = [];
  for (const i of sharded.slice(1)) {
    if (i.record.shard?.plan !== plan || i.record.shard?.total !== total) {
      problems.push(`${i.file} belongs to another plan than ${first.file} (different spec files, durations, seed or shard count): every shard must be planned from the same inputs, so give each job the same --timings file and seed`);
    }
  }
  if (problems.length > 0) return problems;
  const partition = first.record.shard?.partition ?? [];
  for (let index = 1; index <= total; index++) {
    const mine = sharded.filter((i) => i.record.shard?.index === index);
    if (mine.length > 1) problems.push(`shard ${index}/${total} was given twice (${listed(mine.map((i) => i.file))}): its tests would count twice`);
    if (mine.length === 0) {
      const files = partition[index - 1] ?? [];
      problems.push(`shard ${index}/${total} is missing: its ${files.length} file(s) did not run: ${listed(files)}`);
    }
  }
  return problems;
}

/** Every file a record accounts for: run (in a slot) or listed whole as not run. */
function accountedFiles(record: RunRecord): Set<string> {
  return new Set([...record.slots.flatMap((s) => s.files.filter((f) => f.round === 0).map((f) => f.file)), ...record.notRunFiles.map((f) => f.file)]);
}

/** Problems with the files and tests: each planned file accounted for by its shard, and no test counted twice. */
function checkTests(inputs: readonly MergeInput[]): string[] {
  const problems: string[] = [];
  for (const { file, record } of inputs) {
    const planned = record.shard?.partition[record.shard.index - 1];
    if (planned === undefined) continue;
    const seen = accountedFiles(record);
    const missing = planned.filter((f) => !seen.has(f));
    if (missing.length > 0) problems.push(`${file} (shard ${record.shard?.index}/${record.shard?.total}) has no result for ${listed(missing)}, which its plan gave it`);
  }
  const owners = new Map<string, string[]>();
  for (const { file, record } of inputs) {
    for (const slot of record.slots) {
      for (const f of slot.files) for (const t of f.tests) owners.set(`${f.key}\u0000${t.id}\u0000${t.title}`, [...(owners.get(`${f.key}\u0000${t.id}\u0000${t.title}`) ?? []), file]);
    }
  }
  const doubled = [...owners].filter(([, files]) => files.length > 1).map(([key, files]) => {
    const [path, , title] = key.split('\u0000');
    return `"${title}" (${path}) in ${listed(files)}`;
  });
  if (doubled.length > 0) problems.push(`${doubled.length} test(s) ran more than once: ${listed(doubled, 5)}`);
  return problems;
}

/** Times in a record count from its own start; merged, they count from the earliest shard's start. */
function shifted(f: RecordedFile, by: number): RecordedFile {
  const at = (t: number | null): number | null => (t === null ? null : Math.round((t + by) * 10) / 10);
  return { ...f, start: f.start + by, end: at(f.end), tests: f.tests.map((t) => ({ ...t, start: at(t.start), end: at(t.end) })) };
}

/** The combined record: each shard's slots become lanes of their own, numbered on after the previous shard's. */
function combine(inputs: readonly MergeInput[]): RunRecord {
  const ordered = [...inputs].sort((a, b) => (a.record.shard?.index ?? 0) - (b.record.shard?.index ?? 0));
  const t0 = Math.min(...ordered.map((i) => Date.parse(i.record.createdAt)));
  const first = ordered[0]?.record as RunRecord;
  const out: RunRecord = {
    ...first,
    createdAt: new Date(t0).toISOString(),
    workers: 0,
    target: [...new Set(ordered.map((i) => i.record.target))].join(', '),
    slots: [],
    rebuilds: [],
    sessionsEnded: [],
    chaos: [],
    notRunFiles: [],
    leaks: [],
    outcome: { passed: 0, failed: 0, skipped: 0, notRun: 0, flaky: 0, interrupted: false },
    merged: ordered.map((i) => ({ file: i.file, shard: i.record.shard?.index ?? null, total: i.record.shard?.total ?? null, createdAt: i.record.createdAt, slots: i.record.workers })),
  };
  delete out.shard;
  // Each shard may have run on a machine of its own: the suggestion per shard is capped by the smallest.
  const cpus = ordered.flatMap((i) => (typeof i.record.cpus === 'number' ? [i.record.cpus] : []));
  if (cpus.length > 0) out.cpus = Math.min(...cpus);
  else delete out.cpus;
  for (const { record } of ordered) {
    const offset = out.workers;
    const by = Date.parse(record.createdAt) - t0;
    const lane = (slot: number): number => slot + offset;
    out.slots.push(...record.slots.map((s) => ({ slot: lane(s.slot), ...(record.shard !== undefined ? { shard: record.shard.index } : {}), files: s.files.map((f) => shifted(f, by)) })));
    out.rebuilds.push(...record.rebuilds.map((r) => ({ ...r, slot: lane(r.slot), at: r.at + by })));
    out.sessionsEnded.push(...(record.sessionsEnded ?? []).map((e) => ({ ...e, slot: lane(e.slot), at: e.at + by })));
    out.chaos.push(...record.chaos.map((c) => ({ ...c, slot: lane(c.slot), at: c.at + by })));
    out.leaks.push(...record.leaks.map((l) => ({ ...l, slot: lane(l.slot) })));
    out.notRunFiles.push(...record.notRunFiles);
    out.workers += record.workers;
    const o = out.outcome;
    const r = record.outcome;
    out.outcome = { passed: o.passed + r.passed, failed: o.failed + r.failed, skipped: o.skipped + r.skipped, notRun: o.notRun + r.notRun, flaky: o.flaky + r.flaky, interrupted: o.interrupted || r.interrupted };
  }
  return out;
}

export function mergeRecords(inputs: readonly MergeInput[]): MergeResult {
  const problems = [...checkShards(inputs), ...checkTests(inputs)];
  const record = combine(inputs);
  const shard = inputs[0]?.record.shard;
  const tests = record.slots.reduce((n, s) => n + s.files.reduce((m, f) => m + f.tests.length, 0), 0);
  const describe =
    shard !== undefined ? `${inputs.length} of ${shard.total} shard(s) of plan ${shard.plan}, ${record.workers} lanes, ${tests} tests` : `${inputs.length} run(s), ${record.workers} lanes, ${tests} tests`;
  return { record, problems, describe };
}
