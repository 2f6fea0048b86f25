// SIGTERM (what CI sends on a timeout) and SIGHUP stop a run as Ctrl-C does: dispatch stops, the running test
// finishes, connections close, the slot databases are dropped, the summary and the not-run list are printed, and
// the exit status is 128 + the signal's number. The test waits on an advisory lock the spec holds (on its own
// database: the target must be idle to be copied), so the signal certainly arrives while it runs.
import { constants } from 'node:os';
import { expect } from 'chai';
import pg from 'pg';
import { bulkheadSessions, closingLine, fixture, specOutcomes } from '../helpers/fixture.js';
import { notRun } from '../helpers/output.js';
import { createTarget, runOn } from '../databases/support.js';
import type { Target } from '../databases/support.js';

const LOCK = 7002;
const MARKER = 'MARKER: waiting for the lock';
const FILES = {
  'test/a.spec.js': `import pg from 'pg';
import { db } from 'bulkhead';
describe('sig', function () {
  this.timeout(20000);
  it('waits for the lock', async () => {
    await (await db()).query('SELECT 1');
    const c = new pg.Client({ connectionString: process.env.LOCK_URL });
    await c.connect();
    console.log('${MARKER}');
    await c.query('SELECT pg_advisory_lock(${LOCK})');
    await c.end();
  });
  it('comes after the signal', () => {});
});
`,
};

describe('signals: SIGTERM and SIGHUP stop a run like Ctrl-C', function () {
  let target: Target;
  let locks: Target;
  before(async function () {
    target = await createTarget('signals');
    locks = await createTarget('signalslock');
  });
  after(async function () {
    await target.drop();
    await locks.drop();
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: summary, not-run list, slot databases dropped, exit ${128 + constants.signals[signal]}`, async function () {
      const holder = new pg.Client({ connectionString: locks.url, application_name: 'signals-holder' });
      await holder.connect();
      const fx = fixture(FILES);
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
        let seen = '';
        let sent = false;
        let released: Promise<unknown> | null = null;
        const r = await runOn(target, fx, ['-w', '1', '--isolation', 'database', 'test/*.spec.js'], { LOCK_URL: locks.url }, {
          onOutput: (chunk, child) => {
            seen += chunk;
            if (!sent && seen.includes(MARKER)) {
              sent = true;
              child.kill(signal);
            }
            // Only once the CLI has acknowledged the signal may the blocked test go on.
            if (sent && released === null && seen.includes(`bulkhead: interrupted by ${signal}`)) released = holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
          },
        });
        await released;
        expect(r.signal, r.output).to.equal(null);
        expect(r.code, r.output).to.equal(128 + constants.signals[signal]);
        expect(r.stderr).to.match(new RegExp(`^bulkhead: interrupted by ${signal}; finishing the running tests`, 'm'));
        expect(specOutcomes(r.output)).to.deep.equal({ passed: ['waits for the lock'], failed: [] });
        expect(closingLine(r.output), r.output).to.deep.equal({ passed: 1, failed: 0, skipped: 0 });
        expect(notRun(r.output).map((n) => `${n.file}: ${n.title} (${n.reason})`)).to.deep.equal([`test/a.spec.js: sig comes after the signal (interrupted (${signal}))`]);
        expect(await target.derived()).to.deep.equal([]);
        expect(await bulkheadSessions(target.name)).to.equal(0);
      } finally {
        fx.remove();
        await holder.end();
      }
    });
  }
});
