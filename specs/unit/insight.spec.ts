// Where a run's time went (src/plan/insight.ts), from hand-built records with known times: the slowest files and
// tests, the idle share, the suggested worker count and why, for plain, repeated, interrupted and merged runs; and
// how the summary and GitHub's step summary show it.
import { expect } from 'chai';
import { insight, workersText } from '../../src/plan/insight.js';
import { partition } from '../../src/plan/shard.js';
import { mergeRecords } from '../../src/plan/merge.js';
import { renderSummary } from '../../src/reporters/summary.js';
import { stepSummary } from '../../src/reporters/github.js';
import type { RecordedFile, RecordedTest, RunRecord } from '../../src/plan/record.js';

const test = (title: string, start: number | null, end: number | null, extra: Partial<RecordedTest> = {}): RecordedTest => ({ id: title, title, state: 'passed', start, end, generation: 1, attempts: 1, flaky: false, ...extra });
const file = (rel: string, start: number, end: number | null, tests: RecordedTest[] = [], round = 0): RecordedFile => ({
  file: rel, key: round === 0 ? rel : `${rel}#${round + 1}`, round, incarnation: 1, start, end, tests, failures: [],
});
/** One lane per list of files; times in ms from the session's start, as the record keeps them. */
const record = (lanes: RecordedFile[][], extra: Partial<RunRecord> = {}): RunRecord => ({
  format: 'bulkhead-run', version: 1, createdAt: '2026-01-01T00:00:00.000Z', versions: {}, config: {}, seed: null, workers: lanes.length, target: 'x',
  slots: lanes.map((files, i) => ({ slot: i + 1, files })), rebuilds: [], sessionsEnded: [], chaos: [], notRunFiles: [], leaks: [],
  outcome: { passed: 1, failed: 0, skipped: 0, notRun: 0, flaky: 0, interrupted: false },
  ...extra,
});
const seconds = (n: number): RecordedFile[] => Array.from({ length: n }, (_, i) => file(`f${i}.js`, i * 1000, (i + 1) * 1000));

describe('unit: insight (where the time went)', () => {
  it('a plain run: slowest files and tests, the idle share, and the count the longest file bounds', () => {
    const r = record([
      [file('test/a.spec.ts', 0, 3000, [test('a loads', 100, 2900), test('a quick', 2900, 2950)])],
      [file('test/b.spec.ts', 0, 1000, [test('b one', 50, 900)]), file('test/c.spec.ts', 1000, 2000)],
    ]);
    const x = insight(r);
    expect(x.files).to.deep.equal([{ file: 'test/a.spec.ts', seconds: 3, runs: 1 }, { file: 'test/b.spec.ts', seconds: 1, runs: 1 }, { file: 'test/c.spec.ts', seconds: 1, runs: 1 }]);
    // 'a quick' (50 ms) is under mocha's 75 ms slow threshold: not named.
    expect(x.tests).to.deep.equal([{ file: 'test/a.spec.ts', title: 'a loads', seconds: 2.8, runs: 1 }, { file: 'test/b.spec.ts', title: 'b one', seconds: 0.85, runs: 1 }]);
    // Busy 3 + 1 + 1 of 2 workers × 3 s.
    expect(x).to.include({ wall: 3, lanes: 2, groups: 1, now: 2, withheld: null });
    expect(x.idle).to.be.closeTo(1 / 6, 1e-9);
    expect(x.suggestion).to.deep.equal({ workers: 2, seconds: 3, current: 3, bound: 'longest', longest: { file: 'test/a.spec.ts', seconds: 3 }, why: 'the longest file, test/a.spec.ts 3.00 s, bounds the run' });
    expect(workersText(x)).to.equal('3.00 s on 2 workers, 17% of it idle; suggested -w 2 (about 3.00 s, as now): the longest file, test/a.spec.ts 3.00 s, bounds the run');
  });

  it('a suite whose longest file is a third of the total gains nothing past 3 workers', () => {
    const lanes = [[file('long.js', 0, 3000)], ...Array.from({ length: 3 }, (_, i) => [file(`s${i}a.js`, 0, 1000), file(`s${i}b.js`, 1000, 2000)])];
    const x = insight(record(lanes, { cpus: 8 }));
    expect(x.suggestion).to.include({ workers: 3, seconds: 3, current: 3, bound: 'longest' });
    expect(workersText(x)).to.equal('3.00 s on 4 workers, 25% of it idle; suggested -w 3 (about 3.00 s; about 3.00 s with 4): the longest file, long.js 3.00 s, bounds the run');
  });

  it('more workers than that cost more than 10%: the smallest count within 10% of the best', () => {
    // Ten files of 1 s on one worker: 5 workers reach 2 s, 10 reach 1 s, 9 still take 2 s, only 10 are within 10%.
    expect(insight(record([seconds(10)])).suggestion).to.include({ workers: 10, seconds: 1, current: 10 });
    // A 1.5 s file and ten of 0.5 s: 5 workers pack 1.5 | 0.5 × 3 | ... = 1.5 s, the best; 4 leave one at 2 s.
    const halves = Array.from({ length: 10 }, (_, i) => file(`h${i}.js`, 1500 + i * 500, 2000 + i * 500));
    const x = insight(record([[file('big.js', 0, 1500), ...halves]]));
    expect(x.suggestion).to.include({ workers: 5, seconds: 1.5, current: 6.5, bound: 'longest' });
  });

  it('caps the count at the CPUs of the machine that ran it, and says what the files alone would allow', () => {
    const x = insight(record([seconds(8)], { cpus: 2 }));
    expect(x.suggestion).to.include({ workers: 2, seconds: 4, current: 8, bound: 'cpus', why: 'the 2 CPUs of the machine that ran it bound it (more could gain up to about -w 8)' });
  });

  it('no file and one file', () => {
    const none = insight(record([[], []]));
    expect(none).to.deep.equal({ files: [], tests: [], wall: 0, idle: null, lanes: 2, groups: 1, kind: 'run', now: 2, suggestion: null, withheld: 'no file finished' });
    const one = insight(record([[file('only.js', 200, 1700, [test('t', 300, 1600)])]]));
    expect(one.suggestion).to.include({ workers: 1, seconds: 1.5, why: 'the longest file, only.js 1.50 s, bounds the run' });
    expect(one.idle).to.equal(0);
  });

  it('--repeat: each file and test once, the mean of its rounds; every round packed as the queue runs it', () => {
    const x = insight(record([
      [file('a.js', 0, 2000, [test('t', 0, 1000)]), file('b.js', 2000, 2500)],
      [file('a.js', 0, 4000, [test('t', 0, 3000)], 1), file('b.js', 4000, 4500, [], 1)],
    ]));
    expect(x.files).to.deep.equal([{ file: 'a.js', seconds: 3, runs: 2 }, { file: 'b.js', seconds: 0.5, runs: 2 }]);
    expect(x.tests).to.deep.equal([{ file: 'a.js', title: 't', seconds: 2, runs: 2 }]);
    // Jobs 4, 2, 0.5, 0.5: two workers pack 4 | 2 + 0.5 + 0.5, the best any count reaches.
    expect(x.suggestion).to.include({ workers: 2, seconds: 4 });
  });

  it('an interrupted run: the cut-off file counts as busy up to its last test; no suggestion, and why', () => {
    const x = insight(record([[file('a.js', 0, 1000), file('b.js', 1000, null, [test('ran', 1100, 1900), test('cut', 1900, null, { state: 'notrun' })])]], {
      outcome: { passed: 1, failed: 0, skipped: 0, notRun: 1, flaky: 0, interrupted: true },
    }));
    expect(x.files.map((f) => f.file)).to.deep.equal(['a.js']);
    expect(x.tests.map((t) => t.title)).to.deep.equal(['ran']);
    expect(x).to.include({ wall: 1.9, idle: 0, suggestion: null, withheld: 'the run was interrupted, so its record lacks the files it did not reach' });
    expect(workersText(x)).to.equal('1.90 s on 1 worker, 0% of it idle; no -w suggestion: the run was interrupted, so its record lacks the files it did not reach');
    const bailed = insight(record([[file('a.js', 0, 1000)]], { notRunFiles: [{ file: 'b.js', reason: 'bail' }] }));
    expect(bailed.withheld).to.equal('1 file(s) did not run, so their durations are unknown');
  });

  it('tests without an end, and the slow threshold of the run\'s mocha configuration', () => {
    const r = record([[file('a.js', 0, 2000, [test('crashed', 0, null, { state: 'failed' }), test('200 ms', 0, 200), test('90 ms', 0, 90)])]], { config: { mocha: { slow: 100 } } });
    expect(insight(r).tests.map((t) => t.title)).to.deep.equal(['200 ms']);
  });

  it('a merged record: idle per shard on its own lanes, the longest shard\'s wall, a count per shard', () => {
    const shard = (index: number, lanes: RecordedFile[][], createdAt: string): RunRecord => record(lanes, { createdAt, shard: { index, total: 2, source: '--shard', plan: 'p', partition: [['a.js', 'b.js'], ['c.js']] } });
    const { record: merged } = mergeRecords([
      { file: 's1.json', record: shard(1, [[file('a.js', 500, 4500)], [file('b.js', 500, 1500)]], '2026-01-01T00:00:00.000Z') },
      { file: 's2.json', record: shard(2, [[file('c.js', 300, 2300)]], '2026-01-01T00:00:10.000Z') },
    ]);
    const x = insight(merged);
    // Shard 1: 2 lanes × 4 s, busy 5; shard 2: 1 lane × 2 s, busy 2 (its 10 s later start is no idle time).
    expect(x).to.include({ wall: 4, lanes: 3, groups: 2, kind: 'shards', now: null });
    expect(x.idle).to.be.closeTo(0.3, 1e-9);
    expect(x.suggestion).to.include({ workers: 2, seconds: 4, current: 4 });
    expect(workersText(x)).to.equal('4.00 s (the longest of 2 shards) on 3 lanes, 30% of it idle; suggested -w 2 per shard (about 4.00 s): the longest file, a.js 4.00 s, bounds the run');
  });

  it('the packing it reuses picks as a linear scan for the least-loaded slot does (ties to the lower slot)', () => {
    let seed = 7;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const ids = Array.from({ length: 1 + Math.floor(next() * 40) }, (_, i) => `f${i}`);
      const weights = new Map(ids.map((id) => [id, Math.floor(next() * 5)]));
      const n = 1 + Math.floor(next() * 8);
      const sorted = [...ids].sort((a, b) => (weights.get(b) as number) - (weights.get(a) as number) || (a < b ? -1 : 1));
      const loads = Array.from({ length: n }, () => 0);
      const shards: string[][] = Array.from({ length: n }, () => []);
      for (const id of sorted) {
        let best = 0;
        for (let i = 1; i < n; i++) if ((loads[i] as number) < (loads[best] as number)) best = i;
        shards[best]?.push(id);
        loads[best] = (loads[best] as number) + (weights.get(id) as number);
      }
      expect(partition(ids, weights, n)).to.deep.equal({ shards: shards.map((s) => s.sort()), loads });
    }
  });
});

describe('unit: insight in the summaries', () => {
  const slow = record([[file('test/big.spec.js', 0, 1500, [test('big waits', 10, 1490)])], [file('test/small.spec.js', 0, 300)]]);

  it('the summary: the lines before the closing line, which stays last', () => {
    const lines = renderSummary(slow, { failOnFlaky: false }).trimEnd().split('\n');
    expect(lines.slice(-5)).to.deep.equal([
      'slowest files: test/big.spec.js 1.50 s, test/small.spec.js 0.30 s',
      'slowest tests:',
      '  1.48 s test/big.spec.js: big waits',
      'time: 1.50 s on 2 workers, 40% of it idle; suggested -w 2 (about 1.50 s, as now): the longest file, test/big.spec.js 1.50 s, bounds the run',
      '1 passed, 0 failed',
    ]);
  });

  it('a run of under a second keeps the summary quiet', () => {
    const quick = record([[file('a.js', 0, 900, [test('t', 0, 800)])], [file('b.js', 0, 100)]]);
    expect(renderSummary(quick, { failOnFlaky: false })).to.not.match(/slowest|time:/);
  });

  it('GitHub\'s step summary: the same numbers as tables and the time line', () => {
    const md = stepSummary(slow, null);
    expect(md).to.include('#### Slowest files\n\n| file | seconds |\n|---|---|\n| test/big.spec.js | 1.50 |\n| test/small.spec.js | 0.30 |\n');
    expect(md).to.include('#### Slowest tests\n\n| file | test | seconds |\n|---|---|---|\n| test/big.spec.js | big waits | 1.48 |\n');
    expect(md).to.include('Time: 1.50 s on 2 workers, 40% of it idle; suggested -w 2 (about 1.50 s, as now)');
  });
});
