// --shard i/n: which share of the planned files this job runs, and where i/n came from. The partition is
// longest-processing-time bin-packing over the recorded durations, computed from a sorted file list, so every job
// of a CI matrix computes the same partition whatever order its file system lists the files in.
import { createHash } from 'node:crypto';
import { BulkheadError, EXIT } from '../errors.js';

export interface Shard {
  /** 1-based, as `--shard 2/3` says it. */
  index: number;
  total: number;
  /** Where i/n came from: "--shard", "BULKHEAD_SHARD", "CI_NODE_INDEX/CI_NODE_TOTAL", ... */
  source: string;
}

function shardError(problem: string): BulkheadError {
  return new BulkheadError('ERR_BULKHEAD_SHARD', `${problem} A shard is written i/n with 1 <= i <= n, for example --shard 2/3 (the second of three).`, { exitCode: EXIT.usage });
}

function checked(index: number, total: number, source: string, shown: string): Shard {
  if (!Number.isSafeInteger(total) || total < 1) throw shardError(`${source} gives the shard total "${shown}", which is not a positive whole number.`);
  if (!Number.isSafeInteger(index) || index < 1 || index > total) throw shardError(`${source} gives the shard "${shown}": the index must lie between 1 and the total ${total}.`);
  return { index, total, source };
}

/** `i/n` as the flag and BULKHEAD_SHARD write it. */
export function parseShard(text: string, source: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw shardError(`${source} is "${text}", which is not of the form i/n.`);
  return checked(Number(m[1]), Number(m[2]), source, text);
}

const whole = (value: string, name: string): number => {
  if (!/^\s*\d+\s*$/.test(value)) throw shardError(`${name} is "${value}", which is not a whole number.`);
  return Number(value);
};

/**
 * The CI engines' own parallel-job variables, each with its own index base: an off-by-one here runs one shard twice
 * and another never. Kubernetes Indexed Jobs give only the index; the total comes from BULKHEAD_SHARD_TOTAL or the
 * config's `shards`.
 */
const ENGINES: readonly { index: string; total: string; base: 0 | 1 }[] = [
  { index: 'CI_NODE_INDEX', total: 'CI_NODE_TOTAL', base: 1 },
  { index: 'CIRCLE_NODE_INDEX', total: 'CIRCLE_NODE_TOTAL', base: 0 },
  { index: 'BUILDKITE_PARALLEL_JOB', total: 'BUILDKITE_PARALLEL_JOB_COUNT', base: 0 },
  { index: 'JOB_COMPLETION_INDEX', total: 'BULKHEAD_SHARD_TOTAL', base: 0 },
];

/** The flag wins over the environment; BULKHEAD_SHARD over an engine's variables. Null: the whole plan. */
export function detectShard(flag: string | undefined, env: NodeJS.ProcessEnv, configTotal: number | undefined): Shard | null {
  if (flag !== undefined) return parseShard(flag, '--shard');
  const explicit = env['BULKHEAD_SHARD'];
  if (explicit !== undefined && explicit !== '') return parseShard(explicit, 'BULKHEAD_SHARD');
  for (const e of ENGINES) {
    const index = env[e.index];
    if (index === undefined || index === '') continue;
    const totalText = env[e.total] ?? (e.index === 'JOB_COMPLETION_INDEX' && configTotal !== undefined ? String(configTotal) : undefined);
    if (totalText === undefined || totalText === '') {
      // GitLab sets CI_NODE_INDEX only for `parallel:` jobs, with the total beside it; a lone index is a broken setup.
      throw shardError(`${e.index} is set (${index}) but ${e.total} is not, so the number of shards is unknown${e.index === 'JOB_COMPLETION_INDEX' ? ' (set BULKHEAD_SHARD_TOTAL to the Job\'s completions, or `shards` in bulkhead.config)' : ''}.`);
    }
    const i = whole(index, e.index);
    const total = whole(totalText, e.total);
    if (total >= 1 && (i < e.base || i > total - 1 + e.base)) {
      throw shardError(`${e.index}=${index} is out of range: the engine counts from ${e.base}, so with ${e.total}=${totalText} it must lie between ${e.base} and ${total - 1 + e.base}.`);
    }
    return checked(i + (1 - e.base), total, `${e.index}/${e.total}`, `${index} of ${totalText}`);
  }
  return null;
}

/**
 * Longest first onto the least-loaded shard (ties to the lower shard; files of equal weight in path order). With
 * every weight equal this deals files round-robin, which is splitting by count. The same packing predicts the
 * queue's wall time for another worker count (plan/insight.ts), which tries many n: the least-loaded shard comes
 * from a heap ordered by (load, index), so a pick is log n and the tie rule is the linear scan's.
 */
export function partition(files: readonly string[], weights: ReadonlyMap<string, number>, n: number): { shards: string[][]; loads: number[] } {
  const sorted = [...files].sort((a, b) => (weights.get(b) ?? 0) - (weights.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  const shards: string[][] = Array.from({ length: n }, () => []);
  const loads: number[] = Array.from({ length: n }, () => 0);
  const heap = new LeastLoaded(loads);
  for (const file of sorted) {
    const best = heap.least();
    shards[best]?.push(file);
    loads[best] = (loads[best] as number) + (weights.get(file) ?? 0);
    heap.grew();
  }
  // Each shard runs its files in path order of its own; the queue orders them again by weight.
  return { shards: shards.map((s) => s.sort()), loads };
}

/** Splitting by count, for comparison: the sorted list cut into n contiguous runs of near-equal length. */
export function partitionByCount(files: readonly string[], weights: ReadonlyMap<string, number>, n: number): number[] {
  const sorted = [...files].sort();
  const size = Math.ceil(sorted.length / n);
  return Array.from({ length: n }, (_, i) => sorted.slice(i * size, (i + 1) * size).reduce((sum, f) => sum + (weights.get(f) ?? 0), 0));
}

/**
 * What makes two shards parts of one plan: the sorted file list, the weights they were packed by, the seed and n.
 * Merge refuses records whose fingerprints differ: their partitions may overlap or leave files out.
 */
export function planFingerprint(files: readonly string[], weights: ReadonlyMap<string, number>, seed: number | null, n: number): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ files: [...files].sort().map((f) => [f, weights.get(f) ?? 0]), seed, n }));
  return h.digest('hex').slice(0, 16);
}

/** A binary min-heap of shard indexes by (load, index) over `loads`, which the caller grows at the top only. */
class LeastLoaded {
  private readonly order: number[];

  constructor(private readonly loads: readonly number[]) {
    // All loads start equal, so index order is already a heap.
    this.order = loads.map((_, i) => i);
  }

  private before(a: number, b: number): boolean {
    const x = this.loads[a] as number;
    const y = this.loads[b] as number;
    return x < y || (x === y && a < b);
  }

  least(): number {
    return this.order[0] as number;
  }

  /** The top's load grew: sift it down to its place. */
  grew(): void {
    const h = this.order;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l] as number, h[m] as number)) m = l;
      if (r < h.length && this.before(h[r] as number, h[m] as number)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as number, h[i] as number];
      i = m;
    }
  }
}
