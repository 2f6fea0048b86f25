// Ctrl-C stops dispatch, lets the running test finish, closes every connection and exits non-zero; a second
// Ctrl-C stops at once. A test blocks on an advisory lock this spec holds, so the signal certainly arrives
// while it runs, and it ends only when the spec releases the lock.
import { expect } from 'chai';
import pg from 'pg';
import { closingLine, fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { notRun, rebuilds } from '../helpers/output.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';

const LOCK = 7001;
const MARKER = 'MARKER: waiting for the lock';
const FILES = {
  'test/a.spec.js': `import { db } from 'bulkhead';
describe('sig', function () {
  this.timeout(20000);
  it('waits for the lock', async () => {
    const c = await db();
    console.log('${MARKER}');
    await c.query('SELECT pg_advisory_lock(${LOCK})');
    await c.query('SELECT pg_advisory_unlock(${LOCK})');
  });
  it('comes after the interrupt', () => {});
});
`,
  'test/b.spec.js': "describe('later', function () { it('is never dispatched', () => {}); it('nor is this one', () => {}); });\n",
};

describe('sigint: Ctrl-C during a run', function () {
  const scratch = scratchPerSuite('sigint');
  let holder: pg.Client | null = null;

  beforeEach(async function () {
    holder = new pg.Client({ connectionString: scratch().url, application_name: 'sigint-holder' });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
  });
  afterEach(async function () {
    await holder?.end();
    holder = null;
  });

  /** Runs the fixture, sends SIGINT `times` times once the test is waiting, and releases the lock afterwards. */
  async function interrupt(times: 1 | 2): Promise<{ r: CliResult; server: ServerState }> {
    const fx = fixture(FILES);
    const lock = holder as pg.Client;
    try {
      const watch = await watchServer(scratch().name);
      let seen = '';
      let sent = 0;
      let released: Promise<unknown> = Promise.resolve();
      const r = await runCli(['-w', '1'], {
        cwd: fx.dir,
        env: { DATABASE_URL: scratch().url },
        onOutput: (chunk, child) => {
          seen += chunk;
          if (sent === 0 && seen.includes(MARKER)) {
            sent = 1;
            child.kill('SIGINT');
          }
          // The CLI acknowledges each Ctrl-C on stderr; only then may the blocked test go on (or be killed).
          if (sent === 1 && seen.includes('bulkhead: interrupted')) {
            sent = 2;
            if (times === 2) child.kill('SIGINT');
            else released = lock.query('SELECT pg_advisory_unlock($1)', [LOCK]);
          }
        },
      });
      await released;
      return { r, server: await watch.check() };
    } finally {
      fx.remove();
    }
  }

  it('once: the running test finishes, nothing else is dispatched, connections close, exit is non-zero', async function () {
    const { r, server } = await interrupt(1);
    expect(r.code, r.output).to.not.equal(0);
    expect(r.code).to.not.equal(null);
    expect(specOutcomes(r.output)).to.deep.equal({ passed: ['waits for the lock'], failed: [] });
    // The file that never started is loaded (not run) to list and count each of its tests, as after --bail.
    expect(notRun(r.output)).to.deep.equal([
      { file: 'test/a.spec.js', title: 'sig comes after the interrupt', reason: 'interrupted (Ctrl-C)' },
      { file: 'test/b.spec.js', title: 'later is never dispatched', reason: 'interrupted (Ctrl-C) before this file started' },
      { file: 'test/b.spec.js', title: 'later nor is this one', reason: 'interrupted (Ctrl-C) before this file started' },
    ]);
    expect(r.output).to.match(/^not run: 3$/m);
    expect(server).to.deep.equal(CLEAN);
  });

  // The second Ctrl-C ends the slots' backends before it kills their threads, as the watchdog does. The test it cuts
  // off did not fail: it is reported as not run, and the backend it ended is no connection rebuild.
  it('twice: the run stops at once, the cut-off test is not run (not failed), its sessions are ended (none abandoned)', async function () {
    const { r, server } = await interrupt(2);
    expect(r.code, r.output).to.equal(130);
    expect(specOutcomes(r.output)).to.deep.equal({ passed: [], failed: [] });
    expect(r.stderr.match(/bulkhead: interrupted/g), r.stderr).to.have.length(1);
    expect(r.stderr).to.match(/^bulkhead: Ctrl-C again: stopping now/m);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 0, failed: 0, skipped: 0 });
    expect(notRun(r.output), r.output).to.deep.include({ file: 'test/a.spec.js', title: 'sig waits for the lock', reason: 'interrupted: stopped at once by a second signal' });
    expect(notRun(r.output).map((n) => n.title)).to.include.members(['sig comes after the interrupt', '(every test in the file)']);
    expect(rebuilds(r.output)?.total ?? 0, r.output).to.equal(0);
    expect(r.output).to.not.include('57P01');
    expect(server).to.deep.equal(CLEAN);
  });
});
