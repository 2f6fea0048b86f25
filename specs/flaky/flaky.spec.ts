// --retries with a flaky label: a test that fails on its first attempt and passes on the retry is counted as flaky
// in the summary and the record, passes the run (unless --fail-on-flaky), and is retried on a fresh connection.
import { expect } from 'chai';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { loadRecord, scratchSet, testsOf } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

const FLAKY = 'flaky fails on its first attempt only';

// The marker file tells the attempts apart: absent on the first (which creates it and fails), present on the retry.
const SUITE = {
  'test/flaky.spec.js': `import { db } from 'bulkhead';
import { existsSync, writeFileSync } from 'node:fs';
describe('flaky', function () {
  it('passes before it', async function () { await (await db()).query('SELECT 1'); });
  it('fails on its first attempt only', async function () {
    const { rows } = await (await db()).query('SELECT pg_backend_pid() AS pid');
    const first = !existsSync('attempt.marker');
    console.log('ATTEMPT ' + (first ? 1 : 2) + ' pid ' + rows[0].pid);
    if (first) {
      writeFileSync('attempt.marker', '');
      throw new Error('the first attempt fails');
    }
  });
  it('passes after it', async function () { await (await db()).query('SELECT 2'); });
});
`,
  'test/steady.spec.js': `describe('steady', function () { it('passes at once', function () {}); });\n`,
};

describe('flaky: --retries, the flaky label and --fail-on-flaky', function () {
  const dbs = scratchSet('flaky', 3);
  const runs: Record<string, { r: CliResult; record: RunRecord }> = {};

  before(async function () {
    const cases: Record<string, string[]> = { plain: [], retries: ['--retries', '1'], failOnFlaky: ['--retries', '1', '--fail-on-flaky'] };
    await Promise.all(
      Object.entries(cases).map(async ([name, args], i) => {
        const fx = fixture(SUITE);
        try {
          const r = await runCli(['-w', '2', '--timeout', '10000', ...args], { cwd: fx.dir, env: { DATABASE_URL: dbs()[i]?.url } });
          runs[name] = { r, record: loadRecord(fx.dir) };
        } finally {
          fx.remove();
        }
      }),
    );
  });

  function run(name: string): { r: CliResult; record: RunRecord } {
    const found = runs[name];
    if (found === undefined) throw new Error(`the run "${name}" did not happen`);
    return found;
  }

  it('fails the test without --retries (the fixture really fails on its first attempt)', function () {
    const { r } = run('plain');
    expect(r.code, r.output).to.equal(1);
    expect(closingLine(r.output)).to.deep.equal({ passed: 3, failed: 1, skipped: 0 });
    expect(r.output).to.not.match(/^flaky:/m);
  });

  it('with --retries 1, reports the test flaky in the summary and passes the run', function () {
    const { r } = run('retries');
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/^flaky: 1$/m);
    expect(r.output).to.include(`\n  test/flaky.spec.js: ${FLAKY} (passed on attempt 2)\n`);
    expect(closingLine(r.output)).to.deep.equal({ passed: 4, failed: 0, skipped: 0 });
  });

  it('marks it flaky in the run record, with its two attempts, and no other test', function () {
    const { record } = run('retries');
    const flaky = testsOf(record).filter((t) => t.flaky);
    expect(flaky.map((t) => ({ title: t.title, state: t.state, attempts: t.attempts }))).to.deep.equal([{ title: FLAKY, state: 'passed', attempts: 2 }]);
    expect(record.outcome).to.include({ passed: 4, failed: 0, flaky: 1 });
  });

  it('runs the retry on a fresh connection: another backend, and the rebuild is reported', function () {
    const { r } = run('retries');
    const attempts = [...r.output.matchAll(/^ATTEMPT (\d) pid (\d+)$/gm)].map((m) => ({ attempt: Number(m[1]), pid: Number(m[2]) }));
    expect(attempts.map((a) => a.attempt), r.output).to.deep.equal([1, 2]);
    expect(attempts[1]?.pid).to.not.equal(attempts[0]?.pid);
    expect(r.output).to.include(`after test "${FLAKY}": retried on a fresh connection`);
  });

  it('with --fail-on-flaky, fails the run with exit code 1 and says why', function () {
    const { r, record } = run('failOnFlaky');
    expect(r.code, r.output).to.equal(1);
    expect(r.output).to.match(/^flaky: 1 \(--fail-on-flaky: the run fails\)$/m);
    expect(record.outcome.flaky).to.equal(1);
  });
});
