// A slot that runs out of files is finished at once, while the other slots still run: its worker closes, what its
// code left open is reported and ended, and its database is dropped, instead of all of it waiting for the slowest
// slot (issue 11: the end of a run off the critical path). The long file here passes only if it sees the other
// slot's database go while it is still running; it waits on the server's catalog, not on time.
import { expect } from 'chai';
import { closingLine, fixture } from '../helpers/fixture.js';
import { createTarget, provisioning, runOn, untilReleased } from './support.js';
import type { Target } from './support.js';

const FILES = {
  // A module-level pool, never ended: one session held open by the worker's code when it closes.
  'test/a-short.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
describe('short', function () {
  it('uses a module-level pool it never ends', async () => {
    await pool.query('SELECT 1');
  });
});
`,
  'test/b-long.spec.js': untilReleased(false),
};

describe('databases: a finished slot is released while the others run', function () {
  this.timeout(60000);
  let target: Target;
  before(async function () {
    target = await createTarget('release');
  });
  after(async function () {
    await target.drop();
  });

  it("drops the finished slot's database and reports its leak before the last file ends; nothing is left", async function () {
    const fx = fixture(FILES);
    try {
      const r = await runOn(target, fx, ['-w', '2', '--verbose', 'test/*.spec.js']);
      expect(r.code, r.output).to.equal(0);
      // Both slot databases were made before any file ran, so the long file saw one of them go.
      expect(provisioning(r.output)?.perSlot, r.output).to.have.length(2);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
      expect(r.output).to.match(/^leaked connections: 1 \(still open when the worker closed/m);
      expect(r.output).to.match(/^ {2}w[12]: 1 session\(s\) left open \[[^\]]*\], after test\/a-short\.spec\.js$/m);
      expect(await target.derived()).to.deep.equal([]);
      expect(await target.rows("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE '%bulkhead%' AND pid <> pg_backend_pid()")).to.deep.equal([{ n: 0 }]);
    } finally {
      fx.remove();
    }
  });
});
