// How long each spec file takes, in seconds by root-relative path: the shape Knapsack and pytest-split use, so a
// team can cache or commit it. Every run updates .bulkhead/timings.json; --timings <file> reads another. The same
// durations order the queue (longest first) and balance the shards.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BulkheadError, EXIT } from '../errors.js';
import type { RunRecord } from './record.js';

export type Timings = ReadonlyMap<string, number>;

export const TIMINGS_FILE = path.join('.bulkhead', 'timings.json');

function timingsError(file: string, problem: string, cause?: unknown): BulkheadError {
  return new BulkheadError('ERR_BULKHEAD_TIMINGS', `The timings file ${file} ${problem}.`, { cause, exitCode: EXIT.usage });
}

/** Parses a timings document; every value must be a non-negative number of seconds. */
export function parseTimings(text: string, file: string): Timings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw timingsError(file, 'is not valid JSON; it must be an object of { "<spec path>": seconds }, as `bulkhead merge` writes it', err);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw timingsError(file, 'must be a JSON object of { "<spec path>": seconds }, for example { "test/users.spec.ts": 12.5 }');
  }
  const out = new Map<string, number>();
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw timingsError(file, `gives "${key}" the value ${JSON.stringify(value)}; every value must be a number of seconds (0 or more)`);
    }
    out.set(normalize(key), value);
  }
  return out;
}

/** `./test/a.js` and `test\a.js` name the same file as `test/a.js`. */
function normalize(key: string): string {
  return path.posix.normalize(key.replaceAll('\\', '/')).replace(/^\.\//, '');
}

/** --timings <file> must exist; the default file is a cache: absent or unreadable, nothing is known. */
export function readTimings(root: string, given: string | null): Timings {
  if (given !== null) {
    let text: string;
    try {
      text = readFileSync(given, 'utf8');
    } catch (err) {
      throw timingsError(given, 'cannot be read; check the path (every run writes .bulkhead/timings.json, and `bulkhead merge` writes one for all shards)', err);
    }
    return parseTimings(text, given);
  }
  const file = path.join(root, TIMINGS_FILE);
  if (!existsSync(file)) return new Map();
  try {
    return parseTimings(readFileSync(file, 'utf8'), file);
  } catch {
    return new Map();
  }
}

/** What a run measured: each file's wall time on its slot, the rounds of --repeat averaged. */
export function measuredTimings(record: RunRecord): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const slot of record.slots) {
    for (const f of slot.files) {
      if (f.end === null) continue;
      const s = sums.get(f.file) ?? { total: 0, n: 0 };
      sums.set(f.file, { total: s.total + (f.end - f.start) / 1000, n: s.n + 1 });
    }
  }
  return new Map([...sums].map(([file, s]) => [file, round(s.total / s.n)]));
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/** The known timings, with what a run measured replacing what it re-measured (a partial run keeps the others). */
export function updatedTimings(known: Timings, measured: Timings): Map<string, number> {
  const out = new Map(known);
  for (const [file, seconds] of measured) out.set(file, seconds);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function writeTimings(file: string, timings: Timings): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(timings), null, 1)}\n`);
  renameSync(tmp, file);
}

/**
 * The weight of each file: its recorded seconds; a file with no record weighs the median of the known ones, so a new
 * file neither jumps the queue nor waits behind everything. With nothing known every file weighs the same (1).
 */
export function weigh(files: readonly string[], timings: Timings): { weights: Map<string, number>; known: number } {
  const known = files.filter((f) => timings.has(f));
  const values = known.map((f) => timings.get(f) as number).sort((a, b) => a - b);
  const mid = values.length === 0 ? 1 : values.length % 2 === 1 ? (values[(values.length - 1) / 2] as number) : ((values[values.length / 2 - 1] as number) + (values[values.length / 2] as number)) / 2;
  return { weights: new Map(files.map((f) => [f, timings.get(f) ?? mid])), known: known.length };
}
