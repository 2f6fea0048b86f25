// Safety: bulkhead provisions only next to a database that looks disposable (a "test" in its name) unless told
// otherwise, and it never drops or reuses a database it did not mark as its own.
import { expect } from 'chai';
import { closingLine, fixture } from '../helpers/fixture.js';
import type { Fixture } from '../helpers/fixture.js';
import { createTarget, databasesStartingWith, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const FILES = {
  'test/a.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('a', function () {
  it('reads the seed', async () => {
    expect((await (await db()).query('SELECT count(*)::int AS n FROM seed')).rows[0].n).to.equal(1);
  });
});
`,
  'test/b.spec.js': `import { db } from 'bulkhead';
describe('b', function () {
  it('queries', async () => { await (await db()).query('SELECT 1'); });
});
`,
};
const SEED = 'CREATE TABLE seed (v int); INSERT INTO seed VALUES (1)';

describe('databases: safety', function () {
  let fx: Fixture;
  const targets: Target[] = [];
  before(function () {
    fx = fixture(FILES);
  });
  after(async function () {
    fx.remove();
    for (const t of targets) await t.drop();
  });

  it('refuses a target without "test" in its name (exit 2, naming it and the flag) and accepts it with --allow-any-database', async function () {
    const app = await createTarget('x', SEED, 'app');
    targets.push(app);
    expect(app.name).to.match(/^app_x_[0-9a-f]{8}$/);

    const refused = await runOn(app, fx, ['-w', '2', 'test/*.spec.js']);
    expect(refused.code, refused.output).to.equal(2);
    expect(refused.stderr).to.include(`"${app.name}"`).and.to.include('--allow-any-database');
    expect(closingLine(refused.output), 'nothing ran').to.equal(null);
    expect(await databasesStartingWith(`${app.name}_`)).to.deep.equal([]);

    const allowed = await runOn(app, fx, ['-w', '2', '--allow-any-database', 'test/*.spec.js']);
    expect(allowed.code, allowed.output).to.equal(0);
    expect(closingLine(allowed.output)).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    expect(allowed.output).to.match(/^bulkhead: provisioning \(database\)/m);
    expect(await databasesStartingWith(`${app.name}_`)).to.deep.equal([]);
  });

  it('quotes every identifier: a target named with a quote, a space and a semicolon works and is left intact', async function () {
    const odd = await createTarget('x', '', 'bulkhead_test "q"; drop');
    targets.push(odd);
    await odd.rows(SEED);
    const kept = await runOn(odd, fx, ['-w', '2', '--keep-databases', 'test/*.spec.js']);
    expect(kept.code, kept.output).to.equal(0);
    expect(closingLine(kept.output)).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    // The slots got plain names: a stem, a digest of the real name, the suffix.
    const made = await odd.derived();
    expect(made).to.have.lengthOf(2);
    for (const name of made) expect(name).to.match(/^bulkhead_test_q_drop_x_[0-9a-f]{8}_[0-9a-f]{8}_bulkhead_w[12]$/);
    for (const name of made) await dropDatabase(name);
    expect(await odd.rows('SELECT v FROM seed')).to.deep.equal([{ v: 1 }]);
  });

  for (const comment of [null, 'not bulkhead: kept by a colleague']) {
    it(`never drops a pre-existing <base>_bulkhead_w1 without its marker (${comment === null ? 'no comment' : 'another comment'})`, async function () {
      const target = await createTarget('safe', SEED);
      targets.push(target);
      const stranger = `${target.name}_bulkhead_w1`;
      await target.rows(`CREATE DATABASE "${stranger}"`, [], 'postgres');
      if (comment !== null) await target.rows(`COMMENT ON DATABASE "${stranger}" IS '${comment}'`, [], 'postgres');
      await target.rows("CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep me')", [], stranger);

      const r = await runOn(target, fx, ['-w', '2', 'test/*.spec.js']);
      expect(r.code, r.output).to.equal(2);
      expect(r.stderr).to.include(`"${stranger}"`).and.to.include('did not create it');
      expect(closingLine(r.output), 'nothing ran').to.equal(null);
      // It is still there, with its rows, and nothing else was left next to the target.
      expect(await target.rows('SELECT v FROM precious', [], stranger)).to.deep.equal([{ v: 'keep me' }]);
      expect(await target.derived()).to.deep.equal([stranger]);
    });
  }
});
