// A pool whose idle clients close on their idle timeout is on its way out when the worker closes, not held: under
// --exit (no wait for timers at the close) its sessions get the leak grace like any session still closing.
import { expect } from 'chai';
import { fixture } from '../helpers/fixture.js';
import { createTarget, runOn } from './support.js';
import type { Target } from './support.js';

const FILES = {
  'bulkhead.config.json': '{ "leaks": "fail" }\n',
  'test/a.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1, idleTimeoutMillis: 100 });
describe('idle', function () {
  it('uses a pool whose idle client closes after 100 ms', async () => {
    await pool.query('SELECT 1');
  });
});
`,
};

describe('databases: an idle pool client closing on its timeout is no leak', function () {
  this.timeout(60000);
  let target: Target;
  before(async function () {
    target = await createTarget('idleheld');
  });
  after(async function () {
    await target.drop();
  });

  it("passes with --exit and leaks: 'fail'", async function () {
    const fx = fixture(FILES);
    try {
      const r = await runOn(target, fx, ['-w', '1', '--exit', 'test/*.spec.js']);
      expect(r.output).to.not.match(/leaked connections/);
      expect(r.code, r.output).to.equal(0);
    } finally {
      fx.remove();
    }
  });
});
