// Raw samples -> the figures the issue asks for: medians and ratios per suite and runner, cascades, rebuild
// latency against a bare connect, provisioning against a bare clone, the scaling curve, and the targets.
import { RUNNERS } from './runners.js';
import type { RunSample } from './runners.js';
import type { CloneSample } from './server.js';
import type { Balance, ShardSample } from './shards.js';
import { max, median, min, p95, ratio } from './stats.js';

export interface RebuildSample {
  kind: string;
  /** End of the breaking test -> the next test's db() resolved: discard + reconnect + the hooks between. */
  total: number;
  /** The next test's db() call alone. */
  dbCall: number;
  /** The connection handed out was a new backend (false: bulkhead handed out the broken one). */
  rebuilt: boolean;
  /** Its first query worked. */
  usable: boolean;
}

export interface WallRow {
  suite: string;
  runner: string;
  label: string;
  workers: number;
  runs: number;
  valid: number;
  medianMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  vsSerial: number | null;
  /** Against mocha --parallel at the same job count (bulkhead -w 2 and -w 4 only). */
  vsParallel: number | null;
  firstTestMs: number | null;
  /** CPU seconds (user + system) of the run: steadier than wall time on a shared machine. */
  cpuS: number | null;
  /** Median 1-minute load average when the runs started. */
  load1: number | null;
  peakRssMb: number | null;
  /** Peak RSS divided by worker threads (bulkhead) or of the largest process (mocha: one per worker). */
  rssPerWorkerMb: number | null;
}

export function wallRows(samples: readonly RunSample[], suite: string): WallRow[] {
  const of = (id: string): RunSample[] => samples.filter((s) => s.suite === suite && s.runner === id);
  const med = (id: string): number | null => median(of(id).filter((s) => s.valid).map((s) => s.wallMs));
  const serial = med('mocha-serial');
  return RUNNERS.filter((r) => of(r.id).length > 0).map((r) => {
    const all = of(r.id);
    const valid = all.filter((s) => s.valid);
    const wall = valid.map((s) => s.wallMs);
    const m = median(wall);
    const rss = median(valid.flatMap((s) => (s.peakRssKb === null ? [] : [s.peakRssKb / 1024])));
    const parallel = r.kind === 'bulkhead' && RUNNERS.some((x) => x.id === `mocha-j${r.workers}`) ? med(`mocha-j${r.workers}`) : null;
    return {
      suite, runner: r.id, label: r.label, workers: r.workers, runs: all.length, valid: valid.length,
      medianMs: m, minMs: min(wall), maxMs: max(wall),
      vsSerial: r.id === 'mocha-serial' ? null : ratio(m, serial),
      vsParallel: ratio(m, parallel),
      firstTestMs: median(valid.flatMap((s) => (s.firstTestMs === null ? [] : [s.firstTestMs]))),
      cpuS: median(valid.flatMap((s) => (s.cpuS === null ? [] : [s.cpuS]))),
      load1: median(all.map((s) => s.load1)),
      peakRssMb: rss,
      rssPerWorkerMb: rss === null ? null : r.kind === 'bulkhead' ? rss / r.workers : rss,
    };
  });
}

export interface CascadeRow {
  runner: string;
  label: string;
  runs: number;
  cascadedMedian: number | null;
  cascadedMin: number | null;
  cascadedMax: number | null;
  rootFailures: number | null;
  notRun: number | null;
  wallMs: number | null;
}

export function cascadeRows(samples: readonly RunSample[]): CascadeRow[] {
  return RUNNERS.flatMap((r) => {
    const s = samples.filter((x) => x.suite === 'cascade' && x.runner === r.id && x.problem?.startsWith('no json') !== true);
    if (s.length === 0) return [];
    const c = s.map((x) => x.cascaded);
    return [{
      runner: r.id, label: r.label, runs: s.length,
      cascadedMedian: median(c), cascadedMin: min(c), cascadedMax: max(c),
      rootFailures: median(s.map((x) => x.rootFailures)), notRun: median(s.map((x) => x.notRun)), wallMs: median(s.map((x) => x.wallMs)),
    }];
  });
}

export interface LatencyRow {
  what: string;
  n: number;
  medianMs: number | null;
  p95Ms: number | null;
  vsBareConnect: number | null;
  note?: string;
}

export function rebuildRows(rebuild: readonly RebuildSample[], bare: { connect: number[]; closeAndConnect: number[] }): LatencyRow[] {
  const bareMedian = median(bare.connect);
  const row = (what: string, values: number[], note?: string): LatencyRow => ({
    what, n: values.length, medianMs: median(values), p95Ms: p95(values), vsBareConnect: ratio(median(values), bareMedian), ...(note !== undefined ? { note } : {}),
  });
  const good = rebuild.filter((s) => s.rebuilt);
  const rows = [
    row('bare `new pg.Client().connect()` (bench process)', bare.connect),
    row('bare `end()` + `connect()` (bench process)', bare.closeAndConnect),
    row('bulkhead rebuild, all kinds: break -> fresh db()', good.map((s) => s.total)),
    row('bulkhead rebuild, all kinds: the db() call alone', good.map((s) => s.dbCall)),
  ];
  for (const kind of [...new Set(rebuild.map((s) => s.kind))]) {
    const all = rebuild.filter((s) => s.kind === kind);
    const missed = all.filter((s) => !s.rebuilt).length;
    rows.push(row(`  after ${kind}: break -> fresh db()`, all.filter((s) => s.rebuilt).map((s) => s.total), missed > 0 ? `${missed}/${all.length} times db() handed out the broken connection` : undefined));
  }
  return rows;
}

export interface ProvisionRow {
  slots: number;
  /** bulkhead's wall time for all slots, divided by the slots. */
  bulkheadPerSlotMs: number | null;
  bareSequentialPerSlotMs: number | null;
  bareConcurrentPerSlotMs: number | null;
  bareConcurrentWallMs: number | null;
}

const perSlot = (wall: number | null, slots: number): number | null => (wall === null ? null : wall / slots);

export function provisionRows(samples: readonly CloneSample[]): ProvisionRow[] {
  return [...new Set(samples.map((s) => s.slots))].map((slots) => {
    const s = samples.filter((x) => x.slots === slots);
    const wall = median(s.map((x) => x.concurrentWall));
    return {
      slots, bulkheadPerSlotMs: perSlot(median(s.flatMap((x) => (x.bulkheadWall === null ? [] : [x.bulkheadWall]))), slots),
      bareSequentialPerSlotMs: median(s.flatMap((x) => x.sequential)),
      bareConcurrentPerSlotMs: perSlot(wall, slots), bareConcurrentWallMs: wall,
    };
  });
}

export interface Target {
  name: string;
  goal: string;
  measured: number | null;
  limit: number | null;
  unit: string;
  /** Decimals to show: 2 for ratios and MB, 0 for counts. */
  digits: number;
  /** met / missed / not measured (with why). */
  status: string;
}

export function target(name: string, goal: string, measured: number | null, limit: number | null, unit: string, why?: string, digits = 2): Target {
  let status = why ?? 'not measured';
  if (measured !== null && limit !== null) {
    if (limit === 0) status = measured <= 0 ? 'met' : 'missed';
    else status = measured <= limit ? `met (${(((limit - measured) / limit) * 100).toFixed(0)}% under)` : `missed by ${(((measured - limit) / limit) * 100).toFixed(0)}%`;
  }
  return { name, goal, measured, limit, unit, digits, status };
}

export interface ShardRow {
  balance: Balance;
  /** Files per shard, shard 1 first. */
  files: number[];
  /** Each shard's predicted load (the full run's durations of its files), seconds. */
  predictedS: number[];
  /** Max predicted load ÷ mean: the spread the partition promises. */
  predictedSpread: number | null;
  /** Median wall time per shard over the rounds, ms. */
  wallMs: (number | null)[];
  /** Max shard wall ÷ mean, per round with all shards valid; the median of those. */
  realisedSpread: number | null;
  rounds: number;
  validRounds: number;
}

const spread = (values: readonly number[]): number | null => (values.length === 0 ? null : ratio(Math.max(...values), values.reduce((a, b) => a + b, 0) / values.length));

export function shardRows(samples: readonly ShardSample[], shards: number): ShardRow[] {
  return (['duration', 'count'] as const).map((balance) => {
    const of = samples.filter((s) => s.balance === balance);
    const rounds = [...new Set(of.map((s) => s.round))];
    const indices = Array.from({ length: shards }, (_, i) => i + 1);
    const first = (i: number): ShardSample | undefined => of.find((s) => s.index === i);
    const predicted = indices.map((i) => first(i)?.predictedS ?? 0);
    // A round counts only when all its shards ran validly: a spread over three shards would flatter.
    const complete = rounds.map((r) => of.filter((s) => s.round === r && s.valid)).filter((rs) => rs.length === shards);
    return {
      balance, files: indices.map((i) => first(i)?.files ?? 0), predictedS: predicted,
      predictedSpread: of.length === 0 ? null : spread(predicted),
      wallMs: indices.map((i) => median(of.filter((s) => s.index === i && s.valid).map((s) => s.wallMs))),
      realisedSpread: median(complete.flatMap((rs) => { const v = spread(rs.map((s) => s.wallMs)); return v === null ? [] : [v]; })),
      rounds: rounds.length, validRounds: complete.length,
    };
  });
}
