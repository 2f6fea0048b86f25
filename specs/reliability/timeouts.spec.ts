// Defect 1 of issue 10: the timeout a running test or hook sets (`this.timeout(n)`) is the one the watchdogs follow,
// and "without yielding the event loop" means the worker stopped answering its heartbeat, not that time passed.
// Every slow runnable here outlasts the old watchdog (the default timeout of 300 ms plus its 2 s grace) and stays
// inside the timeout it raised; serial mocha passes them all, and so must bulkhead. One file really blocks its
// loop past the timeout it set, and only that one is killed.
import { expect } from 'chai';
import { fixture, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

const SLOW_MS = 2600;
const busy = `function busy(ms) { const end = Date.now() + ms; while (Date.now() < end) {} }`;

const FILES = {
  'test/query.spec.js': `import { db } from 'bulkhead';
describe('query', function () {
  it('runs a query longer than the old watchdog allowed', async function () {
    this.timeout(30000);
    await (await db()).query('SELECT pg_sleep(${SLOW_MS / 1000})');
  });
  it('uses the same connection afterwards', async function () {
    await (await db()).query('SELECT 1');
  });
});
`,
  'test/sync.spec.js': `${busy}
describe('sync', function () {
  it('blocks its loop within the timeout it raised', function () {
    this.timeout(30000);
    busy(${SLOW_MS});
  });
  describe('a beforeEach raises its test\\'s timeout', function () {
    beforeEach(function () { this.currentTest.timeout(30000); });
    it('blocks within it', function () { busy(${SLOW_MS}); });
  });
});
`,
  'test/hook.spec.js': `${busy}
describe('hook', function () {
  before(function () {
    this.timeout(30000);
    busy(${SLOW_MS});
  });
  it('runs after its slow before hook', function () {});
});
`,
};

const BLOCKER = {
  'test/blocker.spec.js': `describe('blocker', function () {
  it('blocks its loop past the timeout it set', function () {
    this.timeout(500);
    for (;;) {}
  });
  it('is not reached on the killed thread', function () {});
});
`,
};

describe('reliability: the timeout in force is the one the watchdog follows (issue 10, defect 1)', function () {
  this.timeout(120000);
  const rig = clusterPerFile();
  let run: RunView;
  let mocha: CliResult;

  before(async function () {
    const fx = fixture(FILES);
    try {
      [run, mocha] = await Promise.all([
        runOn(rig(), { ...FILES, ...BLOCKER }, ['-w', '4', '--timeout', '300', 'test/*.spec.js']),
        runMocha(['--require', 'bulkhead/register', '--timeout', '300', 'test/*.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: rig().mochaUrl } }),
      ]);
    } finally {
      fx.remove();
    }
  });

  it('serial mocha passes every slow runnable that stays within its own timeout', function () {
    expect(mocha.code, mocha.output).to.equal(0);
    expect(mocha.output, mocha.output).to.match(/5 passing/);
  });

  it('bulkhead passes the same ones, and the watchdog kills only the thread that really blocked past its timeout', function () {
    const r = run.r;
    expect(run.tests, r.output).to.deep.equal({
      'test/blocker.spec.js: blocker blocks its loop past the timeout it set': 'failed',
      'test/blocker.spec.js: blocker is not reached on the killed thread': 'notrun',
      'test/hook.spec.js: hook runs after its slow before hook': 'passed',
      'test/query.spec.js: query runs a query longer than the old watchdog allowed': 'passed',
      'test/query.spec.js: query uses the same connection afterwards': 'passed',
      'test/sync.spec.js: sync blocks its loop within the timeout it raised': 'passed',
      'test/sync.spec.js: sync a beforeEach raises its test\'s timeout blocks within it': 'passed',
    });
    expect(r.output).to.match(/blocker blocks its loop past the timeout it set exceeded its timeout of 500 ms without yielding the event loop/);
    expect(r.output).to.not.match(/57P01|terminating connection/);
    expect(run.record?.outcome, r.output).to.include({ passed: 5, failed: 1, notRun: 1 });
    expect(r.code, r.output).to.equal(1);
  });

  it('leaves no session, abandons none, and drops its databases', function () {
    expect(run.server, run.r.output).to.deep.equal(CLEAN_SERVER);
  });
});
