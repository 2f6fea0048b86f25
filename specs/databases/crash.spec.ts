// Crash recovery: when a worker dies (process.exit in a test, or the watchdog terminating a blocked thread), its
// slot's database is cloned afresh from the template before the replacement worker runs the next file. With one
// worker the next file certainly runs on the same slot; it must not see the row the dead worker committed.
import { expect } from 'chai';
import { fixture, specOutcomes } from '../helpers/fixture.js';
import { createTarget, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const WRITE = "await (await db()).query('INSERT INTO marks (v) VALUES (1)');";

const CULPRITS: Record<string, string> = {
  'process.exit': `import { db } from 'bulkhead';
describe('culprit', function () {
  it('writes, then exits', async () => {
    ${WRITE}
    process.exit(1);
  });
});
`,
  watchdog: `import { db } from 'bulkhead';
describe('culprit', function () {
  it('writes, then blocks its worker', async () => {
    ${WRITE}
    for (;;) {}
  }).timeout(100);
});
`,
  // Control: the same write without a crash stays for the next file, so the check below can see such a row.
  'no crash (control)': `import { db } from 'bulkhead';
describe('culprit', function () {
  it('writes', async () => {
    ${WRITE}
  });
});
`,
};

const CHECK = `import { expect } from 'chai';
import pg from 'pg';
import { db } from 'bulkhead';
describe('next file', function () {
  it('starts on a fresh copy of the template', async () => {
    const mine = (await (await db()).query('SELECT count(*)::int AS n FROM marks')).rows[0].n;
    const own = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await own.connect();
    const theirs = (await own.query('SELECT count(*)::int AS n FROM marks')).rows[0].n;
    await own.end();
    console.log('ROWS ' + mine + ' ' + theirs);
    expect([mine, theirs]).to.deep.equal([0, 0]);
  });
});
`;

describe('databases: crash recovery', function () {
  let target: Target;
  before(async function () {
    target = await createTarget('crash', 'CREATE TABLE marks (v int NOT NULL)');
  });
  after(async function () {
    await target.drop();
  });

  for (const [how, culprit] of Object.entries(CULPRITS)) {
    const crash = how !== 'no crash (control)';
    it(`${crash ? `after a crash by ${how}` : how}: the next file on the slot ${crash ? 'does not see' : 'sees'} the row written before`, async function () {
      // Files run in path order: the culprit first, then the check, both on slot 1.
      const fx = fixture({ 'test/a-culprit.spec.js': culprit, 'test/b-check.spec.js': CHECK });
      try {
        const r = await runOn(target, fx, ['-w', '1', '--isolation', 'database', 'test/*.spec.js']);
        expect(r.code, r.output).to.equal(1);
        const failed = specOutcomes(r.output).failed;
        if (crash) {
          expect(failed, r.output).to.deep.equal([culprit.includes('exit') ? 'writes, then exits' : 'writes, then blocks its worker']);
          expect(r.output).to.match(/^ROWS 0 0$/m);
        } else {
          expect(failed, r.output).to.deep.equal(['starts on a fresh copy of the template']);
          expect(r.output).to.match(/^ROWS 1 1$/m);
        }
        // The template (a copy of the target) never saw the row either.
        expect(await target.rows('SELECT * FROM marks')).to.deep.equal([]);
      } finally {
        fx.remove();
        for (const name of await target.derived()) await dropDatabase(name);
      }
    });
  }
});
