// The Express-style test/setup.js given with --file: a root `before` that makes the tables, a root `after` that ends
// the application's pool. Serial mocha runs them once. bulkhead runs them once per worker by default (the `before`
// with the worker's first file, the `after` as the worker closes), so the suite passes as under serial mocha. With
// rootHooks: 'per-file' they run around every spec file, and on a worker's second file the pool is already ended:
// that error ("Cannot use a pool after calling end on the pool") names the setup file and points to the fix.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { createTarget } from '../databases/support.js';
import type { Target } from '../databases/support.js';

const spec = (name: string): string => `const { expect } = require('chai');
const db = require('../src/db');
describe('${name}', () => {
  const insert = async () => {
    await db.pool.query("INSERT INTO items (name) VALUES ('${name}')");
    expect((await db.pool.query('SELECT name FROM items')).rows).to.deep.equal([{ name: '${name}' }]);
  };
  it('inserts into an empty table', insert);
  it('inserts into an empty table again', insert);
});
`;

const FILES = {
  'package.json': '{"name":"api"}\n',
  'src/db.js': "const pg = require('pg');\nmodule.exports = { pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) };\n",
  'test/setup.js': `const db = require('../src/db');
before(() => db.pool.query('CREATE TABLE IF NOT EXISTS items (name text)'));
beforeEach(() => db.pool.query('TRUNCATE items'));
after(() => db.pool.end());
`,
  'test/hooks.js': `const db = require('../src/db');
exports.mochaHooks = {
  beforeAll: () => db.pool.query('CREATE TABLE IF NOT EXISTS items (name text)'),
  beforeEach: () => db.pool.query('TRUNCATE items'),
  afterAll: () => db.pool.end(),
};
`,
  'test/a.spec.js': spec('a'),
  'test/b.spec.js': spec('b'),
};

interface Outcome {
  passes: string[];
  failures: { fullTitle: string; err: { message: string } }[];
}

const outcome = (r: CliResult): Outcome => JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as Outcome;

describe('a --file setup file that ends the application pool', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let target: Target;

  before(async () => {
    fx = fixture(FILES);
    target = await createTarget('t3_setupfile');
  });

  after(async () => {
    fx.remove();
    await target.drop();
  });

  it('runs as under serial mocha: the setup file\'s before and after once per worker, at -w 1 and -w 2', async () => {
    const args = ['--file', 'test/setup.js', '--reporter', 'json', 'test/*.spec.js'];
    const mocha = await runMocha(args, { cwd: fx.dir, env: { DATABASE_URL: target.url } });
    expect(mocha.code, mocha.output).to.equal(0);
    expect(outcome(mocha).passes).to.have.length(4);
    for (const workers of ['1', '2']) {
      const run = await runCli([...args, '-w', workers], { cwd: fx.dir, env: { DATABASE_URL: target.url } });
      expect([run.code, outcome(run).passes.length, outcome(run).failures], run.output).to.deep.equal([0, 4, []]);
      // The after hook ended the pool as the worker closed: nothing was left open.
      expect(run.stderr + run.stdout).to.not.match(/leaked connections/);
    }
  });

  it("with rootHooks 'per-file', fails the worker's next file with an error that names the setup file and the fix", async () => {
    const args = ['--file', 'test/setup.js', '--reporter', 'json', 'test/*.spec.js'];
    fx.write('bulkhead.config.js', "module.exports = { rootHooks: 'per-file' };\n");
    const run = await runCli([...args, '-w', '1'], { cwd: fx.dir, env: { DATABASE_URL: target.url } }).finally(() => rmSync(path.join(fx.dir, 'bulkhead.config.js')));
    expect(run.code, run.output).to.equal(1);
    const { passes, failures } = outcome(run);
    expect(passes.map(String), run.output).to.have.length(2);
    const titles = failures.map((f) => f.fullTitle);
    expect(titles, run.output).to.deep.equal(['"before all" hook in "{root}"', '"after all" hook in "{root}"']);
    for (const f of failures) {
      expect(f.err.message).to.include('the --file setup file test/setup.js, which runs around every spec file');
      expect(f.err.message).to.include('ran it for 1 earlier spec file,');
      expect(f.err.message).to.include('mochaHooks');
    }
    expect(failures[0]?.err.message).to.match(/^Cannot use a pool after calling end on the pool \(bulkhead: /);
    expect(run.stderr + run.stdout).to.match(/not run: 2/);
  });

  it('runs as under serial mocha with the hooks in a root hook plugin', async () => {
    const args = ['--require', 'test/hooks.js', '--reporter', 'json', 'test/*.spec.js'];
    const mocha = await runMocha(args, { cwd: fx.dir, env: { DATABASE_URL: target.url } });
    const run = await runCli([...args, '-w', '1'], { cwd: fx.dir, env: { DATABASE_URL: target.url } });
    expect(run.code, run.output).to.equal(mocha.code).and.to.equal(0);
    expect(outcome(run).passes.length).to.equal(outcome(mocha).passes.length).and.to.equal(4);
  });

  it('a failing setup before or after fails under the titles serial mocha gives them, once per worker', async () => {
    const failing = fixture({
      'package.json': '{"name":"api"}\n',
      'test/setup.js': "before(function () { if (process.env.FAIL_BEFORE) throw new Error('migrate failed'); });\nafter(function cleanup() { if (process.env.FAIL_AFTER) throw new Error('cleanup failed'); });\n",
      'test/a.spec.js': "describe('a', () => { it('a passes', () => {}); });\n",
      'test/b.spec.js': "describe('b', () => { it('b passes', () => {}); });\n",
    });
    try {
      const args = ['--file', 'test/setup.js', '--reporter', 'json', 'test/*.spec.js'];
      const titles = (r: CliResult): string[] => outcome(r).failures.map((f) => f.fullTitle);
      for (const [variable, bulkheadTitles] of [
        ['FAIL_BEFORE', ['"before all" hook in "{root}"', '"before all" hook in "{root}"']],
        ['FAIL_AFTER', ['"after all" hook: cleanup in "{root}"']],
      ] as const) {
        const env = { DATABASE_URL: target.url, [variable]: '1' };
        const mocha = await runMocha(args, { cwd: failing.dir, env });
        const run = await runCli([...args, '-w', '1'], { cwd: failing.dir, env });
        expect(titles(mocha), mocha.output).to.deep.equal([bulkheadTitles[0]]);
        // Serial mocha stops the run at the failed before; bulkhead fails each file of the worker the same way.
        expect(titles(run), run.output).to.deep.equal(bulkheadTitles);
        expect(outcome(run).passes.length, run.output).to.equal(outcome(mocha).passes.length);
        expect(run.code, run.output).to.equal(1);
      }
    } finally {
      failing.remove();
    }
  });
});
