// --chaos on the application's own connections: a suite that never calls db() and queries through its own
// module-level pg.Pool (no 'error' listener) gets its faults too. The tests that fail are exactly those a terminate
// or drop hit, nothing cascades onto the next test through the pool, and the same seed hits the same tests.
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { loadRecord, titlesIn } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

const CHAOS = 'terminate=0.08,drop=0.08,delay=0.1,delay-ms=5,seed=11';

// 4 files of 15 tests on one pool per file; every test checks a client out, queries twice, and releases it.
function poolFile(n: number): string {
  return `import pg from 'pg';
import { expect } from 'chai';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
after(() => pool.end());
describe('pool file ${n}', function () {
  for (let i = 0; i < 15; i++) {
    it('test ' + i, async function () {
      const client = await pool.connect();
      try {
        expect((await client.query('SELECT $1::int + 1 AS n', [i])).rows[0].n).to.equal(i + 1);
        expect((await client.query('SELECT $1::text AS t', ['x' + i])).rows[0].t).to.equal('x' + i);
      } finally {
        client.release();
      }
    });
  }
});
`;
}
const SUITES = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`test/p${i + 1}.spec.js`, poolFile(i + 1)]));

describe('chaos: seeded faults on the application\'s own pool', function () {
  const runs: { r: CliResult; record: RunRecord }[] = [];

  before(async function () {
    const fx = fixture(SUITES);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await runCli(['-w', '2', '--chaos', CHAOS, '--reporter', 'dot', '--timeout', '10000'], { cwd: fx.dir });
        runs.push({ r, record: loadRecord(fx.dir) });
      }
    } finally {
      fx.remove();
    }
  });

  it('injects faults into the pool\'s queries and lists them, with no db() in the suite', function () {
    const { r, record } = runs[0] as { r: CliResult; record: RunRecord };
    expect(new Set(record.chaos.map((h) => h.fault)), r.output).to.include('terminate').and.include('drop');
    expect(r.output).to.match(/injected faults: [1-9]/);
  });

  it('fails exactly the tests a terminate or drop hit; every other test passes, nothing left unrun, no crash', function () {
    const { r, record } = runs[0] as { r: CliResult; record: RunRecord };
    const broken = record.chaos.filter((h) => h.fault !== 'delay').map((h) => h.title).sort();
    expect(titlesIn(record, 'failed'), r.output).to.deep.equal(broken);
    expect(titlesIn(record, 'passed')).to.have.length(60 - broken.length);
    expect(record.outcome.notRun).to.equal(0);
    expect(r.code).to.equal(1);
  });

  it('hits the same tests with the same faults when run again with the same seed', function () {
    const [a, b] = runs.map((x) => x.record.chaos.map((h) => `${h.fault} ${h.title}`).sort());
    expect(b).to.deep.equal(a);
  });
});
