import { expect } from 'chai';
import { createProject, writeFiles } from '../bench/lib/project.js';
import { runRounds } from '../bench/lib/rounds.js';
import { runner } from '../bench/lib/runners.js';
import { createBenchDatabase, dropAll, leftovers } from '../bench/lib/server.js';
import { cascade, dbBound, overhead, rebuild } from '../bench/lib/suites.js';
import { shardRows, wallRows } from '../bench/lib/summary.js';
import { SHARDS, TESTS_PER_FILE, shardsSuite } from '../bench/lib/shards.js';
import type { ShardSample } from '../bench/lib/shards.js';
import type { RunSample } from '../bench/lib/runners.js';
import { partition } from '../src/plan/shard.js';
import { weigh } from '../src/plan/timings.js';

describe('bench: the harness behind npm run bench', function () {
  it('generates the suites at the sizes the issue asks for', function () {
    const db = dbBound();
    const oh = overhead();
    const cs = cascade();
    expect([Object.keys(db.files).length, db.tests]).to.deep.equal([40, 400]);
    expect([Object.keys(oh.files).length, oh.tests]).to.deep.equal([50, 1000]);
    // A dozen poisoners, one per file: half fail themselves (the roots), half pass and leave the connection broken.
    const all = Object.values(cs.files).join('\n');
    expect([Object.keys(cs.files).length, cs.tests, cs.designedFailures]).to.deep.equal([12, 120, 6]);
    expect(all.match(/\[root\]/g)).to.have.length(6);
    expect(all.match(/caught/g)).to.have.length(6);
    // Every database suite goes through the one shim that is bulkhead's db() or mocha's naive shared client.
    for (const s of [db, cs, rebuild()]) for (const text of Object.values(s.files)) expect(text).to.contain("from '../support/db.js'");
    expect(Object.values(oh.files).join('\n')).to.not.contain('support/db.js');
  });

  it('generates the shards suite skewed so that a count split is visibly worse than a duration split', function () {
    const suite = shardsSuite();
    const files = Object.keys(suite.files).sort();
    expect([files.length, suite.tests, suite.glob]).to.deep.equal([36, 36 * TESTS_PER_FILE, 'shards/*.spec.js']);
    // Equal tests per file, so bulkhead's count split (by files, with nothing known) is also a split by tests.
    for (const text of Object.values(suite.files)) expect(text.match(/for \(let t = 0; t < (\d+);/)?.[1]).to.equal(String(TESTS_PER_FILE));
    // Timer-bound: no database, so the figures hold on a shared 2-core machine.
    expect(Object.values(suite.files).join('\n')).to.not.match(/support\/db\.js|pg_sleep/);
    const long = files.filter((f) => (suite.seconds[f] ?? 0) > 1);
    expect(long).to.deep.equal(['shards/f12.spec.js', 'shards/f13.spec.js']);
    // The predictions the bench prints, from the designed durations and the CLI's own partition functions: by
    // duration within the 1.15, by count (round-robin, the long files on two shards) about 1.4.
    const designed = new Map(Object.entries(suite.seconds));
    const spreadOf = (shards: string[][]): number => {
      const loads = shards.map((s) => s.reduce((a, f) => a + (designed.get(f) ?? 0), 0));
      return Math.max(...loads) / (loads.reduce((a, b) => a + b, 0) / loads.length);
    };
    const byDuration = partition(files, weigh(files, designed).weights, SHARDS).shards;
    const byCount = partition(files, weigh(files, new Map()).weights, SHARDS).shards;
    expect(byCount.map((s) => s.length)).to.deep.equal([9, 9, 9, 9]);
    expect(byCount.map((s) => long.filter((f) => s.includes(f)).length)).to.deep.equal([1, 1, 0, 0]);
    expect(spreadOf(byDuration)).to.be.at.most(1.15);
    expect(spreadOf(byCount)).to.be.at.least(1.35);
  });

  it('summarises shard runs: predicted and realised spread, a round counted only when all its shards are valid', function () {
    const run = {} as RunSample;
    const sample = (round: number, balance: 'duration' | 'count', index: number, predictedS: number, wallMs: number, valid = true): ShardSample => ({ round, balance, index, files: 9, predictedS, wallMs, valid, run });
    const samples = [
      ...[1, 2, 3, 4].map((i) => sample(0, 'duration', i, 3, 1000 * (i === 4 ? 4 : 3))),
      ...[1, 2, 3, 4].map((i) => sample(0, 'count', i, i <= 2 ? 5 : 1, i <= 2 ? 6000 : 2000)),
      ...[1, 2, 3, 4].map((i) => sample(1, 'count', i, i <= 2 ? 5 : 1, 1000, i !== 3)),
    ];
    const [duration, count] = shardRows(samples, SHARDS);
    expect(duration?.predictedSpread).to.equal(1);
    expect(duration?.realisedSpread).to.be.closeTo(4 / 3.25, 1e-9);
    expect(count?.predictedSpread).to.be.closeTo(5 / 3, 1e-9);
    // Round 1 of count lost shard 3: its three equal walls would have shown a spread of 1.
    expect([count?.realisedSpread, count?.rounds, count?.validRounds]).to.deep.equal([1.5, 2, 1]);
    expect(count?.wallMs).to.deep.equal([3500, 3500, 2000, 1500]);
  });

  it('runs one tiny round (one DB-bound file, bulkhead -w 1) and leaves the server clean', async function () {
    const project = createProject();
    try {
      const suite = dbBound(1, 3);
      writeFiles(project, suite.files);
      const bench = await createBenchDatabase();
      const ctx = { project, env: { DATABASE_URL: bench.url }, progress: () => undefined, stopped: () => false };
      const samples = await runRounds(ctx, suite, [runner('bulkhead-w1')], 1);
      expect(samples).to.have.length(1);
      const sample = samples[0]!;
      expect(sample.valid, sample.problem).to.equal(true);
      expect([sample.passed, sample.failedTests, sample.notRun, sample.exitCode]).to.deep.equal([3, 0, 0, 0]);
      // The first test wrote its marker, so time to first test was measured (its value is not judged here).
      expect(sample.firstTestMs).to.be.a('number');
      expect(wallRows(samples, 'dbbound').map((r) => [r.runner, r.valid])).to.deep.equal([['bulkhead-w1', 1]]);
    } finally {
      await dropAll();
      project.remove();
    }
    expect(await leftovers()).to.deep.equal({ databases: [], sessions: 0 });
  });
});
