// The shards suite (issue 12): a skewed, timer-bound fixture split into 4 shards that run one after another, once
// balanced by the durations a full run recorded (--timings) and once by count (no durations known), so the realised
// spread (max shard wall ÷ mean) of each stands next to the spread its partition predicted.
// - Each shard runs at -w 1: its wall is then its files' sum plus the runner's start, so the spread measures the
//   partition alone, not how a shard orders files among its own workers (the timers suite measures that).
// - Count-balanced is bulkhead's own fallback: with no duration known every file weighs the same and the files are
//   dealt round-robin in path order. Every file has the same number of tests, so splitting by files is splitting by
//   tests (the issue's "their test count when none is known" would give the same partition here).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { partition } from '../../src/plan/shard.js';
import { weigh } from '../../src/plan/timings.js';
import type { RunRecord } from '../../src/plan/record.js';
import type { RoundContext } from './rounds.js';
import { describe as describeRun } from './rounds.js';
import { runOnce, runner } from './runners.js';
import type { Runner, RunSample } from './runners.js';
import type { Suite } from './suites.js';

export const SHARDS = 4;
export const TESTS_PER_FILE = 4;

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * 36 files × 4 tests: two files of 4 × 700 ms, 34 of 4 × 50 ms (12.4 s of timers in all; ideal share 3.1 s at 4
 * shards). A long file stays under the ideal share, so a duration split can reach it; dealt by count, the two long
 * files land on two shards that also get 8 short files each, about 1.4 × the mean. The long files sit next to each
 * other a third of the way along the path order, as a folder of slow specs would, which is the count split's best
 * case: dealt round-robin they go to two shards, never one.
 */
export function shardsSuite({ files = 36, longMs = 700, shortMs = 50 } = {}): Suite & { seconds: Record<string, number> } {
  const out: Record<string, string> = {};
  const seconds: Record<string, number> = {};
  const long = Math.floor(files / 3);
  for (let f = 0; f < files; f++) {
    const name = `shards/f${pad(f)}.spec.js`;
    const ms = f === long || f === long + 1 ? longMs : shortMs;
    seconds[name] = (TESTS_PER_FILE * ms) / 1000;
    out[name] = `import { expect } from 'chai';
import { started } from '../support/mark.js';

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe(${JSON.stringify(name)}, function () {
  for (let t = 0; t < ${TESTS_PER_FILE}; t++) {
    it('waits for a reply ' + t, async function () {
      started();
      const at = Date.now();
      await wait(${ms});
      expect(Date.now() - at).to.be.at.least(${ms - 5});
    });
  }
});
`;
  }
  return { name: 'shards', glob: 'shards/*.spec.js', files: out, tests: files * TESTS_PER_FILE, designedFailures: 0, seconds };
}

export type Balance = 'duration' | 'count';

export interface ShardSample {
  round: number;
  balance: Balance;
  /** 1-based, as --shard i/n. */
  index: number;
  files: number;
  /** The shard's share by the full run's measured durations: its predicted load, seconds. */
  predictedS: number;
  wallMs: number;
  valid: boolean;
  problem?: string;
  run: RunSample;
}

export interface ShardsResult {
  /** The full run whose measured durations are the timings file (and the predictions of both splits). */
  full: RunSample | null;
  timings: Record<string, number>;
  partitions: Record<Balance, string[][]>;
  samples: ShardSample[];
}

const sum = (files: readonly string[], t: Record<string, number>): number => files.reduce((a, f) => a + (t[f] ?? 0), 0);

/** Reads what the run's record says about its shard: the whole partition and the files it ran. */
function readShard(file: string): { partition: string[][]; ran: string[] } | null {
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    if (rec.shard === undefined) return null;
    return { partition: rec.shard.partition, ran: rec.slots.flatMap((s) => s.files.map((f) => f.file)).sort() };
  } catch {
    return null;
  }
}

/**
 * 1. One full run at -w 2 (it writes .bulkhead/timings.json, as every run does); its entries for this suite become
 *    the timings file, as a team caches it. 2. `rounds` rounds of the 8 shard runs, duration and count interleaved
 *    per shard (D1 C1 D2 C2 …, the direction alternating per round) so drift lands on both alike.
 */
export async function runShards(ctx: RoundContext, suite: Suite, rounds: number): Promise<ShardsResult> {
  const rels = Object.keys(suite.files).sort();
  const result: ShardsResult = { full: null, timings: {}, partitions: { duration: [], count: [] }, samples: [] };
  result.full = await runOnce(ctx.project, runner('bulkhead-w2'), suite, -1, ctx.env);
  ctx.progress(`  [shards full run, for the timings] ${describeRun(result.full, 'bulkhead -w 2')}`);
  if (!result.full.valid) return result;
  const cache = JSON.parse(readFileSync(path.join(ctx.project.dir, '.bulkhead', 'timings.json'), 'utf8')) as Record<string, number>;
  result.timings = Object.fromEntries(rels.filter((f) => cache[f] !== undefined).map((f) => [f, cache[f] as number]));
  if (Object.keys(result.timings).length !== rels.length) {
    result.full = { ...result.full, valid: false, problem: `the run recorded durations for ${Object.keys(result.timings).length} of ${rels.length} files` };
    return result;
  }
  const files: Record<Balance, string> = { duration: path.join(ctx.project.out, 'shards-timings.json'), count: path.join(ctx.project.out, 'shards-none.json') };
  writeFileSync(files.duration, `${JSON.stringify(result.timings, null, 1)}\n`);
  // An empty timings file rather than none: without --timings a run reads .bulkhead/timings.json, which the full
  // run has just filled. With nothing known every file weighs 1 (see weigh()).
  writeFileSync(files.count, '{}\n');
  // The partitions the CLI should make, computed here with its own functions to know each shard's test count; every
  // shard's record is checked against them, so a build that partitions otherwise is caught, not mismeasured.
  result.partitions.duration = partition(rels, weigh(rels, new Map(Object.entries(result.timings))).weights, SHARDS).shards;
  result.partitions.count = partition(rels, weigh(rels, new Map()).weights, SHARDS).shards;

  for (let round = 0; round < rounds && !ctx.stopped(); round++) {
    const order = Array.from({ length: SHARDS }, (_, i) => i + 1);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      for (const balance of (round % 2 === 0 ? ['duration', 'count'] : ['count', 'duration']) as Balance[]) {
        if (ctx.stopped()) break;
        const mine = result.partitions[balance][index - 1] ?? [];
        const record = path.join(ctx.project.out, `shard-${balance}-${round}-${index}.json`);
        const r: Runner = { ...runner('bulkhead-w1'), id: `bulkhead-w1-shard-${balance[0]}${index}`, args: ['--shard', `${index}/${SHARDS}`, '--timings', files[balance], '--record', record] };
        const run = await runOnce(ctx.project, r, { ...suite, tests: mine.length * TESTS_PER_FILE }, round, ctx.env);
        const got = readShard(record);
        const problems = [run.valid ? null : (run.problem ?? 'invalid run')];
        if (got === null) problems.push('no shard in its run record');
        else if (JSON.stringify(got.partition) !== JSON.stringify(result.partitions[balance])) problems.push('the CLI partitioned otherwise than predicted');
        else if (JSON.stringify(got.ran) !== JSON.stringify(mine)) problems.push(`ran ${got.ran.length} files, not its ${mine.length}`);
        const problem = problems.filter((p) => p !== null).join('; ');
        const sample: ShardSample = { round, balance, index, files: mine.length, predictedS: sum(mine, result.timings), wallMs: run.wallMs, valid: problem === '', ...(problem !== '' ? { problem } : {}), run };
        result.samples.push(sample);
        ctx.progress(`  [shards ${round + 1}/${rounds}] ${`${balance} ${index}/${SHARDS}`.padEnd(12)} ${String(mine.length).padStart(2)} files, predicted ${sample.predictedS.toFixed(2)} s, wall ${(run.wallMs / 1000).toFixed(2)} s${sample.valid ? '' : `  INVALID: ${problem}`}`);
      }
    }
  }
  return result;
}
