// Defect 2 of issue 10: an error no test or hook can be charged with fails the run and is shown with its file.
// A spec file whose top level throws from setImmediate was reported green (its tests not run, exit 0) when it ran
// alone; serial mocha prints "Uncaught error outside test suite", still runs the file's tests, and exits 1. An
// unhandled rejection at a file's top level fails the run too (serial mocha lets it pass silently: here bulkhead
// is stricter on purpose, since a rejection no test awaited is an error nobody saw).
import { expect } from 'chai';
import { fixture, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

const THROWS = {
  'test/throws.spec.js': `setImmediate(() => { throw new Error('top-level async boom'); });
describe('throws', function () {
  it('still runs', function () {});
});
`,
};

const REJECTS = {
  'test/rejects.spec.ts': `Promise.reject(new Error('top-level rejection'));
describe('rejects', function () {
  it('still runs', function () {});
});
`,
  'test/healthy.spec.js': "describe('healthy', function () { it('passes', function () {}); });\n",
};

describe('reliability: an error outside every test fails the run, shown with its file (issue 10, defect 2)', function () {
  this.timeout(60000);
  const rig = clusterPerFile();
  let alone: RunView;
  let rejects: RunView;
  let mocha: CliResult;

  before(async function () {
    const fx = fixture(THROWS);
    try {
      const serial = runMocha(['test/throws.spec.js'], { cwd: fx.dir });
      // One bulkhead run at a time: each run's server check covers the whole cluster.
      alone = await runOn(rig(), THROWS, ['test/throws.spec.js']);
      rejects = await runOn(rig(), REJECTS, ['-w', '2', 'test/*.spec.js', 'test/*.spec.ts']);
      mocha = await serial;
    } finally {
      fx.remove();
    }
  });

  it('serial mocha: "Uncaught error outside test suite", the test still runs, exit 1', function () {
    expect(mocha.output).to.include('Uncaught error outside test suite');
    expect(mocha.output).to.include('top-level async boom');
    // mocha fakes a whole run around the error and prints its epilogue, then runs the test after it.
    expect(mocha.output).to.match(/throws\n\s+✔ still runs/);
    expect(mocha.code, mocha.output).to.equal(1);
  });

  it('bulkhead, the file alone: the same failure with its file, the test still runs, exit 1', function () {
    const r = alone.r;
    expect(alone.tests, r.output).to.deep.equal({ 'test/throws.spec.js: throws still runs': 'passed' });
    expect(alone.record?.slots.flatMap((s) => s.files.flatMap((f) => f.failures.map((x) => `${x.title}: ${x.error.message}`)))).to.deep.equal([
      'Uncaught error outside test suite (test/throws.spec.js): top-level async boom',
    ]);
    expect(r.output).to.match(/1\) Uncaught error outside test suite \(test\/throws\.spec\.js\):\n\s+Error: top-level async boom/);
    expect(r.output).to.match(/^1 passed, 1 failed$/m);
    expect(alone.record?.outcome).to.include({ passed: 1, failed: 1, notRun: 0 });
    expect(r.code, r.output).to.equal(1);
  });

  it('an unhandled rejection at a file\'s top level fails the run the same way; the other file is untouched', function () {
    const r = rejects.r;
    expect(rejects.tests, r.output).to.deep.equal({ 'test/healthy.spec.js: healthy passes': 'passed', 'test/rejects.spec.ts: rejects still runs': 'passed' });
    expect(r.output).to.match(/Uncaught error outside test suite \(test\/rejects\.spec\.ts\):\n\s+Error: top-level rejection/);
    expect(rejects.record?.outcome).to.include({ passed: 2, failed: 1, notRun: 0 });
    expect(r.code, r.output).to.equal(1);
  });

  it('leaves no session, abandons none, and drops its databases', function () {
    expect(alone.server, alone.r.output).to.deep.equal(CLEAN_SERVER);
    expect(rejects.server, rejects.r.output).to.deep.equal(CLEAN_SERVER);
  });
});
