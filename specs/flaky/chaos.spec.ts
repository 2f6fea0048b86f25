// --chaos: seeded faults in test bodies. With the reset rule the tests that fail are exactly the tests a
// terminate or drop fault hit (no cascade onto the next test of the worker), and the same seed hits the same tests.
import { expect } from 'chai';
import { bulkheadSessions, fixture, query, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { loadRecord, scratchSet, titlesIn } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';
import { parseChaos } from '../../src/config/chaos.js';
import { faultFor } from '../../workers/chaos.js';

const CHAOS = 'terminate=0.04,drop=0.04,delay=0.1,delay-ms=5,seed=99';

// 10 files of 20 tests; every test queries through db() once, the even ones twice.
function chaosFile(n: number): string {
  return `import { db } from 'bulkhead';
import { expect } from 'chai';
describe('file ${n}', function () {
  for (let i = 0; i < 20; i++) {
    it('test ' + i, async function () {
      const c = await db();
      const { rows } = await c.query('SELECT $1::int + 1 AS n', [i]);
      expect(rows[0].n).to.equal(i + 1);
      if (i % 2 === 0) expect((await c.query('SELECT $1::text AS t', ['x' + i])).rows[0].t).to.equal('x' + i);
    });
  }
});
`;
}
const SUITES = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`test/f${String(i + 1).padStart(2, '0')}.spec.js`, chaosFile(i + 1)]));
const TITLES = Array.from({ length: 10 }, (_, f) => Array.from({ length: 20 }, (_, i) => ({ title: `file ${f + 1} test ${i}`, queries: i % 2 === 0 ? 2 : 1 }))).flat();

type Hit = RunRecord['chaos'][number];
const key = (h: Hit): string => `${h.fault} ${h.title}`;

describe('chaos: seeded fault injection on 200 tests', function () {
  const dbs = scratchSet('chaos', 2);
  const runs: { r: CliResult; record: RunRecord }[] = [];
  let sessions: number;
  let leftDatabases: string[];

  before(async function () {
    await Promise.all(
      dbs().map(async (db, i) => {
        const fx = fixture(SUITES);
        try {
          const r = await runCli(['-w', '2', '--chaos', CHAOS, '--reporter', 'dot', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: db.url } });
          runs[i] = { r, record: loadRecord(fx.dir) };
        } finally {
          fx.remove();
        }
      }),
    );
    sessions = (await Promise.all(dbs().map((db) => bulkheadSessions(db.name)))).reduce((a, b) => a + b, 0);
    // The slot databases and the template are named after the target: <target>_bulkhead_...
    const prefixes = dbs().map((db) => `${db.name}_`);
    leftDatabases = (await query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2)', prefixes)).map((n) => n.datname);
  });

  function first(): { r: CliResult; record: RunRecord } {
    const found = runs[0];
    if (found === undefined) throw new Error('the chaos run did not happen');
    return found;
  }

  it('injects every kind of fault, at most one per test', function () {
    const { record } = first();
    // With this seed some tests draw a delay for their first query and a fault for their second: the rule is tested.
    const spec = parseChaos(CHAOS, null);
    const twice = TITLES.filter((t) => t.queries === 2 && faultFor(spec, t.title, 1) === 'delay' && faultFor(spec, t.title, 2) !== null);
    expect(twice).to.not.be.empty;
    const kinds = new Set(record.chaos.map((h) => h.fault));
    expect([...kinds].sort(), JSON.stringify(record.chaos)).to.deep.equal(['delay', 'drop', 'terminate']);
    const titles = record.chaos.map((h) => h.title);
    expect(new Set(titles).size).to.equal(titles.length);
  });

  it('fails exactly the tests that terminate and drop faults hit', function () {
    const { r, record } = first();
    const broken = record.chaos.filter((h) => h.fault !== 'delay').map((h) => h.title).sort();
    expect(titlesIn(record, 'failed'), r.output).to.deep.equal(broken);
    expect(r.code).to.equal(1);
  });

  it('has no cascade: every test not broken by a fault passes, delayed ones included, and nothing is left unrun', function () {
    const { r, record } = first();
    const broken = record.chaos.filter((h) => h.fault !== 'delay').length;
    expect(record.outcome, r.output).to.include({ passed: 200 - broken, failed: broken, notRun: 0 });
    const delayed = record.chaos.filter((h) => h.fault === 'delay').map((h) => h.title);
    expect(titlesIn(record, 'passed')).to.include.members(delayed);
    expect(record.slots.flatMap((s) => s.files.flatMap((f) => f.failures))).to.deep.equal([]);
  });

  it('rebuilds the connection after each broken test, and only then', function () {
    const { record } = first();
    const broken = record.chaos.filter((h) => h.fault !== 'delay').map((h) => h.title).sort();
    expect(record.rebuilds.map((b) => b.culprit.title).sort()).to.deep.equal(broken);
  });

  it('hits the same tests with the same faults when run again with the same seed', function () {
    const again = runs[1];
    expect(again?.record.chaos.map(key).sort()).to.deep.equal(first().record.chaos.map(key).sort());
    expect(titlesIn(again?.record ?? first().record, 'failed')).to.deep.equal(titlesIn(first().record, 'failed'));
  });

  it('lists every injected fault and the test it hit in the summary', function () {
    const { r, record } = first();
    expect(r.output).to.match(new RegExp(`^injected faults: ${record.chaos.length}$`, 'm'));
    const listed = [...r.output.matchAll(/^ {2}(terminate|drop|delay) on w(\d) in (\S+): (.+)$/gm)].map((m) => `${m[1]} w${m[2]} ${m[3]} ${m[4]}`);
    expect(listed.sort()).to.deep.equal(record.chaos.map((h) => `${h.fault} w${h.slot} ${h.file} ${h.title}`).sort());
  });

  it('leaves no bulkhead session and no slot database behind', function () {
    expect(sessions).to.equal(0);
    expect(leftDatabases).to.deep.equal([]);
  });
});
