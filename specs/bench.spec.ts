import { expect } from 'chai';
import { createProject, writeFiles } from '../bench/lib/project.js';
import { runRounds } from '../bench/lib/rounds.js';
import { runner } from '../bench/lib/runners.js';
import { createBenchDatabase, dropAll, leftovers } from '../bench/lib/server.js';
import { cascade, dbBound, overhead, rebuild } from '../bench/lib/suites.js';
import { wallRows } from '../bench/lib/summary.js';

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
