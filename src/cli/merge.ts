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
import { parseReporter } from '../config/reporters.js';
import type { ReporterChoice } from '../config/types.js';
import { RECORD_REPORTERS, writeDocument } from '../reporters/set.js';
import { githubTarget, reportToGitHub } from '../reporters/github.js';

/** --reporter values (`-R x`, `--reporter x`, `--reporter=x`) taken out of argv. */
function takeReporters(argv: readonly string[]): { reporters: string[]; rest: string[] } {
  const reporters: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--reporter=')) reporters.push(arg.slice('--reporter='.length));
    else if ((arg === '--reporter' || arg === '-R') && argv[i + 1] !== undefined) reporters.push(argv[++i] as string);
    else rest.push(arg);
  }
  return { reporters, rest };
}

export interface MergeArgs {
  records: string[];
  record?: string;
  timings?: string;
  /** bulkhead's own reporters, written from the combined record. */
  reporters: ReporterChoice[];
}

/** What `bulkhead merge` was told: the records, where to write the combined record and the durations, reporters. */
export function mergeArgs(argv: readonly string[], root = process.cwd()): MergeArgs {
  const taken = takeReporters(argv);
  const reporters = taken.reporters.map((r) => parseReporter(r, root));
  const live = reporters.find((r) => RECORD_REPORTERS[r.name] === undefined);
  if (live !== undefined) throw errors.usage(`"bulkhead merge" writes only the reporters made from a run record (${Object.keys(RECORD_REPORTERS).join(', ')}), not "${live.name}": mocha's reporters need the events of a run. Write it with --reporter junit:<file>.`);
  const toStdout = reporters.find((r) => r.file === null);
  if (toStdout !== undefined) throw errors.usage(`"bulkhead merge" prints its own lines on stdout, so --reporter ${toStdout.name} needs a file: --reporter ${toStdout.name}:reports/${toStdout.name}.xml.`);
  const { flags, rest } = takeBulkheadFlags(['merge', ...taken.rest]);
  const given = Object.entries(flags).filter(([k, v]) => !['command', 'record', 'timings'].includes(k) && v !== false && v !== undefined);
  const unknown = [...rest.filter((a) => a.startsWith('-')), ...given.map(([k]) => k)];
  if (unknown.length > 0) throw errors.usage(`"bulkhead merge" does not take ${unknown.join(', ')}; it takes run records, --record <file>, --timings <file> and --reporter junit[:<file>].`);
  if (rest.length === 0) throw errors.usage('"bulkhead merge" needs the run records of the shards, for example: bulkhead merge shard-1.json shard-2.json shard-3.json.');
  return { records: rest, reporters, ...(flags.record !== undefined ? { record: flags.record } : {}), ...(flags.timings !== undefined ? { timings: flags.timings } : {}) };
}

export function mergeCommand(argv: readonly string[], out: NodeJS.WritableStream, root = process.cwd(), env: NodeJS.ProcessEnv = process.env): number {
  const flags = mergeArgs(argv, root);
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
  for (const choice of flags.reporters) writeDocument(choice, (RECORD_REPORTERS[choice.name] as (r: typeof record) => string)(record), out);
  const gh = githubTarget(env);
  if (gh !== null) reportToGitHub(record, root, gh, out, `bulkhead replay ${path.relative(root, flags.record !== undefined ? path.resolve(root, flags.record) : path.join(root, LAST_RUN))}`);
  out.write(renderSummary(record, { failOnFlaky: false }));
  return problems.length > 0 || !outcomePasses(record.outcome, false) ? EXIT.failed : EXIT.ok;
}
