// Template reuse: setup builds the template once; later runs with the same setup reuse it (no setup runs), and a
// changed setup builds it again. The provisioning line says which happened, and the slots show the schema.
import { expect } from 'chai';
import { closingLine, fixture } from '../helpers/fixture.js';
import type { Fixture } from '../helpers/fixture.js';
import { createTarget, provisioning, runOn } from './support.js';
import type { Target } from './support.js';

// The spec reports what the slot's database holds: its tables, and how often setup ran (a row per build).
const FILES = {
  'migrations/001_items.sql': 'CREATE TABLE items (id int PRIMARY KEY);\nCREATE TABLE builds (at timestamptz DEFAULT now());\nINSERT INTO builds DEFAULT VALUES;\n',
  'test/a.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('template', function () {
  it('sees the schema', async () => {
    const c = await db();
    const tables = (await c.query("SELECT string_agg(tablename, ',' ORDER BY tablename) AS t FROM pg_tables WHERE schemaname = 'public'")).rows[0].t;
    console.log('TABLES ' + tables);
    expect((await c.query('SELECT count(*)::int AS n FROM builds')).rows[0].n).to.equal(1);
  });
});
`,
};

describe('databases: template reuse', function () {
  let target: Target;
  let fx: Fixture;
  before(async function () {
    target = await createTarget('tpl');
    fx = fixture(FILES);
  });
  after(async function () {
    fx.remove();
    // The template stays between runs by design; drop() removes it with the slots.
    await target.drop();
  });

  const run = async (): Promise<{ note: string; tables: string }> => {
    const r = await runOn(target, fx, ['-w', '2', '--setup', 'migrations', 'test/*.spec.js']);
    expect(r.code, r.output).to.equal(0);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 1, failed: 0, skipped: 0 });
    const p = provisioning(r.output);
    expect(p, r.output).to.not.equal(null);
    return { note: p?.note ?? '', tables: /TABLES (\S+)/.exec(r.output)?.[1] ?? '' };
  };

  it('runs setup on the first run, reuses the template on the second, and runs setup again after a change', async function () {
    expect(await run()).to.deep.equal({ note: '(setup ran)', tables: 'builds,items' });
    expect(await target.derived()).to.deep.equal([`${target.name}_bulkhead_tpl`]);

    expect(await run()).to.deep.equal({ note: '(reused)', tables: 'builds,items' });

    fx.write('migrations/002_orders.sql', 'CREATE TABLE orders (id int PRIMARY KEY);\n');
    expect(await run()).to.deep.equal({ note: '(setup ran)', tables: 'builds,items,orders' });

    // A changed file (not only a new one) counts too.
    fx.write('migrations/002_orders.sql', 'CREATE TABLE orders (id int PRIMARY KEY, total int);\n');
    expect(await run()).to.deep.equal({ note: '(setup ran)', tables: 'builds,items,orders' });
    expect(await run()).to.deep.equal({ note: '(reused)', tables: 'builds,items,orders' });
  });
});
