// Three shards of one plan run at once against the one server, each on databases of its own; merged, they hold
// exactly the tests of one full run, each once. The fixture is an application suite: its own pg.Pool from
// DATABASE_URL, a table per file created in `before`, rows counted in each test (a shared database would show
// another shard's rows or fail on CREATE TABLE).
import { expect } from 'chai';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fixture, query, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import type { RunRecord } from '../../src/plan/record.js';

const FILES = 9;
const spec = (i: number): string => `import pg from 'pg';
import { expect } from 'chai';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
describe('file ${i}', () => {
  before(async () => { await pool.query('CREATE TABLE IF NOT EXISTS items (file int)'); });
  after(async () => { await pool.query('DROP TABLE items'); await pool.end(); });
  it('writes its rows', async () => {
    await pool.query('INSERT INTO items VALUES ($1), ($1)', [${i}]);
    await new Promise((r) => setTimeout(r, ${i === 1 ? 300 : 20}));
  });
  it('sees only its own rows', async () => {
    const { rows } = await pool.query('SELECT file FROM items');
    expect(rows.map((r) => r.file)).to.deep.equal([${i}, ${i}]);
  });
});
`;

const tests = (record: RunRecord): string[] => record.slots.flatMap((s) => s.files.flatMap((f) => f.tests.filter((t) => t.state === 'passed').map((t) => `${f.file} ${t.title}`))).sort();
const read = (fx: Fixture, file: string): RunRecord => JSON.parse(readFileSync(path.join(fx.dir, file), 'utf8')) as RunRecord;
const ok = (r: CliResult): void => {
  expect(r.code, `exit ${r.code}\n${r.output}`).to.equal(0);
};

describe('scale-out: shards of one plan, run at once and merged', function () {
  let fx: Fixture;
  let full: RunRecord;
  let shards: CliResult[];

  before(async function () {
    fx = fixture(Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`test/f${i + 1}.spec.js`, spec(i + 1)])));
    // The full run gives the reference test set and the durations the shards are balanced by.
    const whole = await runCli(['-w', '2', '--record', 'full.json'], { cwd: fx.dir });
    ok(whole);
    full = read(fx, 'full.json');
    // As in CI: every job is given the same timings file (a cache or an artifact of the last merge).
    fx.write('timings.json', readFileSync(path.join(fx.dir, '.bulkhead', 'timings.json'), 'utf8'));
    shards = await Promise.all([1, 2, 3].map((i) => runCli(['-w', '2', '--shard', `${i}/3`, '--timings', 'timings.json', '--record', `s${i}.json`], { cwd: fx.dir })));
  });

  after(() => fx?.remove());

  it('runs every shard green, each saying which share it runs and its predicted load', () => {
    for (const [i, r] of shards.entries()) {
      ok(r);
      expect(r.output).to.match(new RegExp(`bulkhead: shard ${i + 1}/3 \\(from --shard\\): \\d of ${FILES} files, predicted \\d+% of the recorded`));
    }
  });

  it('merged, the shards hold exactly the tests of one full run, each once', async () => {
    const r = await runCli(['merge', 's1.json', 's2.json', 's3.json', '--record', 'merged.json'], { cwd: fx.dir });
    ok(r);
    expect(r.output).to.include('every planned file ran in exactly one shard, and every test once');
    const merged = read(fx, 'merged.json');
    expect(tests(merged)).to.deep.equal(tests(full));
    expect(tests(merged)).to.have.length(FILES * 2);
    expect(merged.outcome).to.include({ passed: FILES * 2, failed: 0 });
    // Each shard's slots are lanes of their own.
    expect(new Set(merged.slots.map((s) => s.shard))).to.deep.equal(new Set([1, 2, 3]));
    expect(new Set(merged.slots.map((s) => s.slot)).size).to.equal(merged.slots.length);
    expect(r.output).to.match(new RegExp(`${FILES * 2} passed, 0 failed`));
    // The durations of every file, for the next plan.
    expect(Object.keys(JSON.parse(readFileSync(path.join(fx.dir, '.bulkhead', 'timings.json'), 'utf8')) as object)).to.have.length(FILES);
  });

  it('list --shard i/n prints exactly the files shard i ran', async () => {
    for (const i of [1, 2, 3]) {
      const r = await runCli(['list', '--shard', `${i}/3`, '--timings', 'timings.json'], { cwd: fx.dir });
      ok(r);
      const ran = read(fx, `s${i}.json`).slots.flatMap((s) => s.files.map((f) => f.file)).sort();
      expect(r.stdout.trim().split('\n').sort()).to.deep.equal(ran);
    }
  });

  it('without one shard\'s record, merge fails with exit 1 and names the files that did not run', async () => {
    const r = await runCli(['merge', 's1.json', 's3.json'], { cwd: fx.dir });
    expect(r.code).to.equal(1);
    const files = read(fx, 's2.json').shard?.partition[1] ?? [];
    expect(files.length).to.be.greaterThan(0);
    expect(r.output).to.include(`shard 2/3 is missing: its ${files.length} file(s) did not run: ${files.join(', ')}`);
  });

  it('a record planned from other inputs makes merge fail and say so', async () => {
    fx.write('other.json', JSON.stringify({ 'test/f9.spec.js': 100 }));
    ok(await runCli(['-w', '1', '--shard', '2/3', '--timings', 'other.json', '--record', 'other-2.json'], { cwd: fx.dir }));
    const r = await runCli(['merge', 's1.json', 'other-2.json', 's3.json'], { cwd: fx.dir });
    expect(r.code).to.equal(1);
    expect(r.output).to.include('other-2.json belongs to another plan than s1.json');
  });

  it('leaves no database of any shard behind', async () => {
    const rows = await query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead_s%'");
    expect(rows).to.deep.equal([]);
    expect(existsSync(path.join(fx.dir, 's1.json'))).to.equal(true);
    rmSync(path.join(fx.dir, 'other.json'));
  });
});
