// Shards as data (src/plan/shard.ts, timings.ts, merge.ts): i/n from the flag and every CI engine's variables with
// its own index base, duration-balanced partitions, longest-first order, and the merge's exactly-once proof.
import { expect } from 'chai';
import { detectShard, parseShard, partition, partitionByCount, planFingerprint } from '../../src/plan/shard.js';
import { measuredTimings, parseTimings, updatedTimings, weigh } from '../../src/plan/timings.js';
import { plan } from '../../src/plan/schedule.js';
import { mergeRecords } from '../../src/plan/merge.js';
import type { RecordedFile, RunRecord } from '../../src/plan/record.js';
import { BulkheadError } from '../../src/errors.js';

const shardOf = (env: NodeJS.ProcessEnv, flag?: string, total?: number): string => {
  const s = detectShard(flag, env, total);
  return s === null ? 'none' : `${s.index}/${s.total} ${s.source}`;
};
const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(BulkheadError);
    expect((err as BulkheadError).exitCode).to.equal(2);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
};

describe('unit: shards', () => {
  it('maps every engine\'s variables to i/n, at both ends of its index range', () => {
    expect(shardOf({})).to.equal('none');
    expect(shardOf({ BULKHEAD_SHARD: '2/3' })).to.equal('2/3 BULKHEAD_SHARD');
    expect(shardOf({ CI_NODE_INDEX: '1', CI_NODE_TOTAL: '4' })).to.equal('1/4 CI_NODE_INDEX/CI_NODE_TOTAL');
    expect(shardOf({ CI_NODE_INDEX: '4', CI_NODE_TOTAL: '4' })).to.equal('4/4 CI_NODE_INDEX/CI_NODE_TOTAL');
    expect(shardOf({ CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '3' })).to.equal('1/3 CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL');
    expect(shardOf({ CIRCLE_NODE_INDEX: '2', CIRCLE_NODE_TOTAL: '3' })).to.equal('3/3 CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL');
    expect(shardOf({ BUILDKITE_PARALLEL_JOB: '0', BUILDKITE_PARALLEL_JOB_COUNT: '2' })).to.equal('1/2 BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT');
    expect(shardOf({ BUILDKITE_PARALLEL_JOB: '1', BUILDKITE_PARALLEL_JOB_COUNT: '2' })).to.equal('2/2 BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT');
    expect(shardOf({ JOB_COMPLETION_INDEX: '0', BULKHEAD_SHARD_TOTAL: '5' })).to.equal('1/5 JOB_COMPLETION_INDEX/BULKHEAD_SHARD_TOTAL');
    expect(shardOf({ JOB_COMPLETION_INDEX: '4' }, undefined, 5)).to.equal('5/5 JOB_COMPLETION_INDEX/BULKHEAD_SHARD_TOTAL');
  });

  it('the flag wins over the environment, BULKHEAD_SHARD over an engine', () => {
    expect(shardOf({ BULKHEAD_SHARD: '2/3', CI_NODE_INDEX: '1', CI_NODE_TOTAL: '2' }, '1/5')).to.equal('1/5 --shard');
    expect(shardOf({ BULKHEAD_SHARD: '2/3', CI_NODE_INDEX: '1', CI_NODE_TOTAL: '2' })).to.equal('2/3 BULKHEAD_SHARD');
  });

  it('refuses 3/2, 0/0, x, an index past the total and a lone index, each with the fix', () => {
    expect(usage(() => parseShard('3/2', '--shard'))).to.match(/between 1 and the total 2.*--shard 2\/3/);
    expect(usage(() => parseShard('0/0', '--shard'))).to.match(/total "0\/0".*not a positive whole number/);
    expect(usage(() => parseShard('x', '--shard'))).to.match(/"x", which is not of the form i\/n/);
    expect(usage(() => parseShard('0/3', '--shard'))).to.match(/between 1 and the total 3/);
    expect(usage(() => detectShard(undefined, { CIRCLE_NODE_INDEX: '3', CIRCLE_NODE_TOTAL: '3' }, undefined))).to.match(/counts from 0.*between 0 and 2/);
    expect(usage(() => detectShard(undefined, { CI_NODE_INDEX: '0', CI_NODE_TOTAL: '3' }, undefined))).to.match(/counts from 1.*between 1 and 3/);
    expect(usage(() => detectShard(undefined, { CI_NODE_INDEX: '2' }, undefined))).to.match(/CI_NODE_TOTAL is not/);
    expect(usage(() => detectShard(undefined, { JOB_COMPLETION_INDEX: '1' }, undefined))).to.match(/BULKHEAD_SHARD_TOTAL/);
    expect(usage(() => detectShard(undefined, { BUILDKITE_PARALLEL_JOB: 'one', BUILDKITE_PARALLEL_JOB_COUNT: '2' }, undefined))).to.match(/not a whole number/);
  });

  // A few slow files and many fast ones, as integration suites are.
  const skewed = new Map<string, number>([
    ...Array.from({ length: 4 }, (_, i) => [`test/slow${i}.spec.js`, 30 + i * 5] as const),
    ...Array.from({ length: 36 }, (_, i) => [`test/fast${String(i).padStart(2, '0')}.spec.js`, 1 + (i % 4)] as const),
  ]);
  const files = [...skewed.keys()];

  it('balances by duration: the largest shard is within 1.15x of the ideal; by count it is 1.5x or worse', () => {
    const total = [...skewed.values()].reduce((a, b) => a + b, 0);
    for (const n of [2, 3, 4]) {
      const ideal = total / n;
      const { shards, loads } = partition(files, skewed, n);
      const byCount = partitionByCount(files, skewed, n);
      process.stdout.write(`      n=${n}: ideal ${ideal.toFixed(1)} s; by duration max ${Math.max(...loads).toFixed(1)} s (${(Math.max(...loads) / ideal).toFixed(2)}x); by count max ${Math.max(...byCount).toFixed(1)} s (${(Math.max(...byCount) / ideal).toFixed(2)}x)\n`);
      expect(Math.max(...loads) / ideal).to.be.at.most(1.15);
      expect(Math.max(...byCount) / ideal).to.be.at.least(1.5);
      // Every file in exactly one shard.
      expect(shards.flat().sort()).to.deep.equal([...files].sort());
    }
  });

  it('gives the same partition whatever order the files were listed in', () => {
    const a = partition(files, skewed, 3).shards;
    expect(partition([...files].reverse(), skewed, 3).shards).to.deep.equal(a);
    expect(planFingerprint([...files].reverse(), skewed, null, 3)).to.equal(planFingerprint(files, skewed, null, 3));
    expect(planFingerprint(files, skewed, 7, 3)).to.not.equal(planFingerprint(files, skewed, null, 3));
    expect(planFingerprint(files.slice(1), skewed, null, 3)).to.not.equal(planFingerprint(files, skewed, null, 3));
  });

  it('weighs a file with no recorded duration as the median of the known ones', () => {
    const { weights, known } = weigh(['a', 'b', 'c', 'new'], new Map([['a', 1], ['b', 10], ['c', 4]]));
    expect(known).to.equal(3);
    expect(weights.get('new')).to.equal(4);
    expect(weigh(['a', 'b'], new Map()).weights.get('a')).to.equal(1);
  });

  it('orders the queue longest first when durations are known, in path order when none are', () => {
    const spec = (rel: string) => ({ path: `/p/${rel}`, rel });
    const list = ['test/a.js', 'test/b.js', 'test/c.js'].map(spec);
    const order = (weights?: Map<string, number>): string[] => {
      const p = plan(list, { workers: 2, seed: null, repeat: 1, ...(weights !== undefined ? { weights } : {}) });
      return p.kind === 'queue' ? p.entries.map((e) => e.file.rel) : [];
    };
    expect(order()).to.deep.equal(['test/a.js', 'test/b.js', 'test/c.js']);
    expect(order(new Map([['test/a.js', 1], ['test/b.js', 1], ['test/c.js', 9]]))).to.deep.equal(['test/c.js', 'test/a.js', 'test/b.js']);
  });

  it('reads the Knapsack shape and refuses anything else with the fix', () => {
    expect([...parseTimings('{"./test/a.js": 1.5, "test\\\\b.js": 0}', 't.json')]).to.deep.equal([['test/a.js', 1.5], ['test/b.js', 0]]);
    expect(usage(() => parseTimings('[1]', 't.json'))).to.match(/must be a JSON object/);
    expect(usage(() => parseTimings('{"a": "fast"}', 't.json'))).to.match(/gives "a" the value "fast"/);
    expect(usage(() => parseTimings('{', 't.json'))).to.match(/not valid JSON/);
    expect([...updatedTimings(new Map([['a', 1], ['b', 2]]), new Map([['b', 5]]))]).to.deep.equal([['a', 1], ['b', 5]]);
  });
});

describe('unit: merge', () => {
  const file = (rel: string, titles: string[], start = 0): RecordedFile => ({
    file: rel, key: rel, round: 0, incarnation: 1, start, end: start + 100,
    tests: titles.map((title, i) => ({ id: `t${i + 1}`, title, state: 'passed', start, end: start + 10, generation: 1, attempts: 1, flaky: false })),
    failures: [],
  });
  const partitionOf = [['a.js', 'c.js'], ['b.js']];
  const record = (index: number, files: RecordedFile[], plan = 'p1', createdAt = '2026-01-01T00:00:00.000Z'): RunRecord => ({
    format: 'bulkhead-run', version: 1, createdAt, versions: {}, config: {}, seed: null, workers: 1, target: 'x',
    slots: [{ slot: 1, files }], rebuilds: [], sessionsEnded: [], chaos: [], notRunFiles: [], leaks: [],
    outcome: { passed: files.reduce((n, f) => n + f.tests.length, 0), failed: 0, skipped: 0, notRun: 0, flaky: 0, interrupted: false },
    shard: { index, total: 2, source: '--shard', plan, partition: partitionOf },
  });
  const one = record(1, [file('a.js', ['A 1', 'A 2']), file('c.js', ['C 1'])]);
  const two = record(2, [file('b.js', ['B 1'])], 'p1', '2026-01-01T00:00:01.000Z');

  it('folds complete shards into one record: lanes per shard, times on one axis, outcomes summed', () => {
    const { record: r, problems } = mergeRecords([{ file: 's2.json', record: two }, { file: 's1.json', record: one }]);
    expect(problems).to.deep.equal([]);
    expect(r.slots.map((s) => [s.slot, s.shard, s.files.map((f) => f.file)])).to.deep.equal([[1, 1, ['a.js', 'c.js']], [2, 2, ['b.js']]]);
    expect(r.slots[1]?.files[0]?.start).to.equal(1000);
    expect(r.outcome.passed).to.equal(4);
    expect(r.workers).to.equal(2);
    expect(r.shard).to.equal(undefined);
    expect(r.merged?.map((m) => m.shard)).to.deep.equal([1, 2]);
    expect([...measuredTimings(r)]).to.deep.equal([['a.js', 0.1], ['c.js', 0.1], ['b.js', 0.1]]);
  });

  it('names a missing shard and its files, a doubled shard and its tests, and a record of another plan', () => {
    expect(mergeRecords([{ file: 's1.json', record: one }]).problems).to.deep.equal(['shard 2/2 is missing: its 1 file(s) did not run: b.js']);
    const doubled = mergeRecords([{ file: 's1.json', record: one }, { file: 's2.json', record: two }, { file: 'again.json', record: two }]).problems;
    expect(doubled[0]).to.match(/shard 2\/2 was given twice \(s2.json, again.json\)/);
    expect(doubled[1]).to.equal('1 test(s) ran more than once: "B 1" (b.js) in s2.json, again.json');
    const other = mergeRecords([{ file: 's1.json', record: one }, { file: 'old.json', record: record(2, [file('b.js', ['B 1'])], 'p2') }]).problems;
    expect(other).to.have.length(1);
    expect(other[0]).to.match(/old.json belongs to another plan than s1.json/);
  });

  it('names a file its shard was given but has no result for', () => {
    const short = record(1, [file('a.js', ['A 1', 'A 2'])]);
    expect(mergeRecords([{ file: 's1.json', record: short }, { file: 's2.json', record: two }]).problems).to.deep.equal(['s1.json (shard 1/2) has no result for c.js, which its plan gave it']);
  });
});
