// Which of the discovered files this job runs and in what weight: the durations known for them, and the job's
// shard of the plan. run and list share it, so `bulkhead list --shard 2/3` prints exactly what `--shard 2/3` runs.
import type { Config } from '../config/types.js';
import type { SpecFile } from './discover.js';
import type { ShardRecord } from './record.js';
import { partition, planFingerprint } from './shard.js';
import { readTimings, weigh } from './timings.js';
import type { Timings } from './timings.js';

export interface Selection {
  files: SpecFile[];
  /** Seconds per file (unknown files weigh the median), or empty when nothing is recorded: path order then. */
  weights: Map<string, number>;
  /** What the durations file said, for the next run's update. */
  timings: Timings;
  shard: ShardRecord | null;
  /** The start line's words for the shard: which one, from where, its predicted share. */
  describe: string | null;
}

export function select(config: Config, discovered: readonly SpecFile[]): Selection {
  const timings = readTimings(config.root, config.timings);
  const rels = discovered.map((f) => f.rel);
  const { weights, known } = weigh(rels, timings);
  const ordered = known > 0 ? weights : new Map<string, number>();
  if (config.shard === null) return { files: [...discovered], weights: ordered, timings, shard: null, describe: null };
  const { index, total, source } = config.shard;
  const { shards, loads } = partition(rels, weights, total);
  const mine = new Set(shards[index - 1]);
  const load = loads[index - 1] ?? 0;
  const sum = loads.reduce((a, b) => a + b, 0);
  const share = sum === 0 ? 0 : Math.round((load / sum) * 100);
  const basis = known > 0 ? `predicted ${share}% of the recorded ${seconds(sum)}` : 'no durations recorded yet, so split by count';
  return {
    files: discovered.filter((f) => mine.has(f.rel)),
    weights: ordered,
    timings,
    shard: { index, total, source, plan: planFingerprint(rels, weights, config.seed, total), partition: shards },
    describe: `shard ${index}/${total} (from ${source}): ${mine.size} of ${rels.length} files, ${basis}`,
  };
}

const seconds = (s: number): string => (s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`);
