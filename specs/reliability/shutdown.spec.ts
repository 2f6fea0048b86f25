// Defect 7 of issue 10: one SIGTERM while a test hangs finishes the run well inside the 10 s that Docker,
// Kubernetes and GitLab wait before their SIGKILL. With --timeout 0 a test hangs inside an open transaction; one
// SIGTERM arrives. The running test gets the shutdown grace (default 3 s), then its backend is ended and its thread
// terminated; the record and the summary are written, the slot databases dropped, and nothing is abandoned.
import { expect } from 'chai';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

const FILES = {
  'test/stuck.spec.js': `import { db } from 'bulkhead';
describe('stuck', function () {
  it('passes first', async function () { await (await db()).query('SELECT 1'); });
  it('hangs inside an open transaction', async function () {
    const c = await db();
    await c.query('BEGIN');
    await c.query('CREATE TABLE held (id int)');
    console.log('STUCK');
    await new Promise(() => {});
  });
  it('is never reached', function () {});
});
`,
};

const BUDGET_MS = 10_000;

describe('reliability: one SIGTERM while a test hangs finishes within the budget (issue 10, defect 7)', function () {
  this.timeout(60000);
  const rig = clusterPerFile();
  let run: RunView;
  let signalled = 0;
  let exited = 0;

  before(async function () {
    run = await runOn(rig(), FILES, ['-w', '1', '--timeout', '0', 'test/*.spec.js'], {
      onOutput: (chunk, child) => {
        if (signalled === 0 && chunk.includes('STUCK')) {
          signalled = performance.now();
          child.kill('SIGTERM');
          child.once('exit', () => (exited = performance.now()));
        }
      },
    });
  });

  it('exits with 143 well inside the budget, after the default shutdown grace of 3 s', function () {
    const r = run.r;
    expect(signalled, r.output).to.be.greaterThan(0);
    const took = exited - signalled;
    expect(took, r.output).to.be.within(3000, BUDGET_MS);
    expect(r.stderr).to.include('the running tests did not finish within the shutdown grace of 3000 ms (--shutdown-grace); stopping them now');
    expect(r.code, r.output).to.equal(143);
  });

  it('writes the record and the summary: every test accounted for, none failed', function () {
    const r = run.r;
    expect(run.tests, r.output).to.deep.equal({
      'test/stuck.spec.js: stuck passes first': 'passed',
      'test/stuck.spec.js: stuck hangs inside an open transaction': 'notrun',
      'test/stuck.spec.js: stuck is never reached': 'notrun',
    });
    const reasons = run.record?.slots.flatMap((s) => s.files.flatMap((f) => f.tests.map((t) => t.reason))).filter((x) => x !== undefined);
    expect(reasons).to.deep.equal(['interrupted: stopped after the shutdown grace of 3000 ms', 'interrupted: stopped after the shutdown grace of 3000 ms']);
    expect(run.record?.outcome).to.include({ passed: 1, failed: 0, notRun: 2, interrupted: true });
    expect(r.output).to.match(/^1 passed, 0 failed$/m);
  });

  it('ends the hung backend from the server side: no session left or abandoned, no database left', async function () {
    expect(run.server, run.r.output).to.deep.equal(CLEAN_SERVER);
    expect(await rig().cluster.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")).to.deep.equal([{ n: 0 }]);
  });
});
