// `bulkhead merge <records...>`: one result from the shards of a plan. It prints the combined summary, writes the
// combined record (.bulkhead/last-run.json, so --last-failed and replay work on it, and --record) and the durations
// of every file for the next plan (--timings, default .bulkhead/timings.json).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, errors } from '../errors.js';
import { mergeRecords } from '../plan/merge.js';
import { outcomePasses, readRecord, writeRecord } from '../plan/record.js';
import { TIMINGS_FILE, measuredTimings, readTimings, updatedTimings, writeTimings } from '../plan/timings.js';
import { renderSummary } from '../reporters/summary.js';
import { LAST_RUN } from '../run/session.js';
import { takeBulkheadFlags } from './flags.js';

/** What `bulkhead merge` was told: the records, and where to write the combined record and the durations. */
export function mergeArgs(argv: readonly string[]): { records: string[]; record?: string; timings?: string } {
  const { flags, rest } = takeBulkheadFlags(['merge', ...argv]);
  const given = Object.entries(flags).filter(([k, v]) => !['command', 'record', 'timings'].includes(k) && v !== false && v !== undefined);
  const unknown = [...rest.filter((a) => a.startsWith('-')), ...given.map(([k]) => k)];
  if (unknown.length > 0) throw errors.usage(`"bulkhead merge" does not take ${unknown.join(', ')}; it takes run records, --record <file> and --timings <file>.`);
  if (rest.length === 0) throw errors.usage('"bulkhead merge" needs the run records of the shards, for example: bulkhead merge shard-1.json shard-2.json shard-3.json.');
  return { records: rest, ...(flags.record !== undefined ? { record: flags.record } : {}), ...(flags.timings !== undefined ? { timings: flags.timings } : {}) };
}

export function mergeCommand(argv: readonly string[], out: NodeJS.WritableStream, root = process.cwd()): number {
  const flags = mergeArgs(argv);
  const inputs = flags.records.map((file) => ({ file, record: readRecord(path.resolve(root, file)) }));
  const { record, problems, describe } = mergeRecords(inputs);
  writeRecord(path.join(root, LAST_RUN), record);
  if (flags.record !== undefined) writeRecord(path.resolve(root, flags.record), record);
  // What the shards measured updates what was known: a file a missing shard would have run keeps its old duration.
  const timings = path.resolve(root, flags.timings ?? TIMINGS_FILE);
  const measured = measuredTimings(record);
  writeTimings(timings, updatedTimings(existsSync(timings) ? readTimings(root, timings) : new Map(), measured));
  out.write(`bulkhead: merged ${describe}; durations of ${measured.size} file(s) written to ${path.relative(root, timings) || timings}\n`);
  for (const p of problems) out.write(`bulkhead: merge: ${p}\n`);
  if (problems.length === 0 && record.merged?.some((m) => m.shard !== null)) out.write('bulkhead: every planned file ran in exactly one shard, and every test once\n');
  out.write(renderSummary(record, { failOnFlaky: false }));
  return problems.length > 0 || !outcomePasses(record.outcome, false) ? EXIT.failed : EXIT.ok;
}
