// Defect 4 of issue 10: two runs at once against one database never touch each other's slots. Run A (schema
// isolation, its own pg.Pool per file, as a real suite) holds in the middle of its files until runs B (schema
// isolation) and C (database isolation, which copies the target) have started against the same target; then A
// checks that its schemas still hold exactly what it wrote. B and C wait for A (saying so) and then run, one after
// the other. Every run passes, and nothing is left on the server: no session, no schema, no database.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { CLEAN_SERVER, TARGET, clusterPerFile, readRun, watchCluster } from './support.js';
import type { ServerView } from './support.js';

const schemaFile = (name: string): string => `import { expect } from 'chai';
import { existsSync } from 'node:fs';
import pg from 'pg';
const pool = new pg.Pool({ max: 1 });
describe('${name}', function () {
  this.timeout(60000);
  after(() => pool.end());
  it('writes its row', async function () {
    await pool.query('CREATE TABLE runs (tag text)');
    await pool.query('INSERT INTO runs VALUES ($1)', [process.env.RUN + ':${name}']);
  });
  it('holds while the other runs start', async function () {
    console.log(process.env.RUN + ' HOLDING');
    const go = process.env.GO;
    if (go !== undefined) while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  it('finds its own row, alone, in its own schema', async function () {
    const { rows } = await pool.query("SELECT current_schema() AS s, (SELECT array_agg(tag) FROM runs) AS tags");
    expect(rows[0].s).to.match(/^bulkhead_w[12]$/);
    expect(rows[0].tags).to.deep.equal([process.env.RUN + ':${name}']);
  });
});
`;

const SCHEMA_FILES = { 'test/a.spec.js': schemaFile('a'), 'test/b.spec.js': schemaFile('b') };
const DATABASE_FILES = {
  'test/c.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('c', function () {
  it('runs on a copy of the target', async function () {
    console.log('C RAN');
    expect((await (await db()).query('SELECT current_database() AS d')).rows[0].d).to.match(/_bulkhead_w[12]$/);
  });
});
`,
  'test/d.spec.js': "import { db } from 'bulkhead';\ndescribe('d', function () { it('runs too', async function () { await (await db()).query('SELECT 1'); }); });\n",
};

const WAITING = `bulkhead: waiting for another bulkhead run on this server to finish with ${TARGET}; runs against one database take turns`;

describe('reliability: concurrent runs against one database take turns (issue 10, defect 4)', function () {
  this.timeout(120000);
  const rig = clusterPerFile();
  const fxs: Fixture[] = [];
  const runs: Record<'A' | 'B' | 'C', { r: CliResult; tests: Record<string, string> }> = {} as never;
  let server: ServerView;
  let schemasLeft: unknown[];

  before(async function () {
    const { cluster, url } = rig();
    const [a, b, c] = [fixture(SCHEMA_FILES), fixture(SCHEMA_FILES), fixture(DATABASE_FILES)] as [Fixture, Fixture, Fixture];
    fxs.push(a, b, c);
    const go = path.join(a.dir, 'GO');
    const watch = await watchCluster(cluster);
    // A holds until B and C have each either said that they wait or started their tests (which would be too soon).
    const seen = { B: '', C: '' };
    const started = (name: 'B' | 'C', chunk: string): void => {
      seen[name] += chunk;
      const ready = (text: string, marker: string): boolean => text.includes(WAITING) || text.includes(marker);
      if (ready(seen.B, 'B HOLDING') && ready(seen.C, 'C RAN') && !existsSync(go)) writeFileSync(go, '');
    };
    const run = (fx: Fixture, name: 'A' | 'B' | 'C', args: string[], onOutput?: (chunk: string) => void): Promise<void> =>
      runCli([...args, 'test/*.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: url, RUN: name, ...(name === 'A' ? { GO: go } : {}) }, ...(onOutput ? { onOutput } : {}) }).then((r) => {
        runs[name] = { r, tests: readRun(fx).tests };
        // A run that ends early must not leave A holding.
        if (!existsSync(go)) writeFileSync(go, '');
      });
    let holding: () => void = () => undefined;
    const aHolds = new Promise<void>((resolve) => (holding = resolve));
    const aDone = run(a, 'A', ['-w', '2', '--isolation', 'schema'], (chunk) => chunk.includes('A HOLDING') && holding());
    await Promise.race([aHolds, aDone]);
    await Promise.all([aDone, run(b, 'B', ['-w', '2', '--isolation', 'schema'], (s) => started('B', s)), run(c, 'C', ['-w', '2', '--isolation', 'database'], (s) => started('C', s))]);
    server = await watch.check();
    schemasLeft = await cluster.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bulkhead%'", [], TARGET);
  });
  after(function () {
    for (const fx of fxs) fx.remove();
  });

  it('A, which held the target while B and C started, finds its schemas untouched', function () {
    const { r, tests } = runs.A;
    expect(r.code, r.output).to.equal(0);
    expect(Object.values(tests), r.output).to.deep.equal(Array(6).fill('passed'));
    expect(r.output).to.not.include('waiting for another');
  });

  it('B (schema) and C (database) wait for the run before them, say so once, and then pass', function () {
    for (const name of ['B', 'C'] as const) {
      const { r, tests } = runs[name];
      expect(r.code, `${name}: ${r.output}`).to.equal(0);
      expect(r.output.split('\n').filter((l) => l.includes('waiting for another')), r.output).to.deep.equal([WAITING]);
      expect(Object.values(tests), r.output).to.deep.equal(Array(name === 'B' ? 6 : 2).fill('passed'));
    }
  });

  it('leaves nothing: no bulkhead session, none abandoned, no database, no schema', function () {
    expect(server, runs.C.r.output).to.deep.equal(CLEAN_SERVER);
    expect(schemasLeft).to.deep.equal([]);
  });
});
