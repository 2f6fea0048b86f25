// A root hook plugin with an afterAll and no beforeAll, the usual way a suite ends its application pool
// (`mochaHooks = { afterAll: () => pool.end() }`). Its afterAll must run once per worker as the worker closes, as it
// does when a beforeAll is there too; when it did not, the pools stayed open and bulkhead blamed the suite for
// "leaked connections". Serial mocha on the same fixture is the control.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const FILES: Record<string, string> = {
  '.mocharc.yml': 'require: test/teardown.js\nspec: test/*.spec.js\n',
  'test/pool.js': `import pg from 'pg';
export const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
`,
  'test/teardown.js': `import { appendFileSync } from 'node:fs';
import { pool } from './pool.js';
export const mochaHooks = {
  beforeEach() {},
  async afterAll() {
    appendFileSync(new URL('../teardown.log', import.meta.url), (process.env.BULKHEAD_WORKER ?? '-') + '\\n');
    await pool.end();
  },
};
`,
  'test/a.spec.js': `import { appendFileSync } from 'node:fs';
import { pool } from './pool.js';
appendFileSync(new URL('../files.log', import.meta.url), (process.env.BULKHEAD_WORKER ?? '-') + '\\n');
describe('a', () => { it('queries', async () => { await pool.query('SELECT 1'); }); });
`,
  'test/b.spec.js': `import { appendFileSync } from 'node:fs';
import { pool } from './pool.js';
appendFileSync(new URL('../files.log', import.meta.url), (process.env.BULKHEAD_WORKER ?? '-') + '\\n');
describe('b', () => { it('queries', async () => { await pool.query('SELECT 1'); }); });
`,
};

interface Seen {
  result: CliResult;
  passed: string[];
  teardowns: string[];
  /** The workers that loaded a spec file, each once. */
  workers: string[];
}

function lines(fx: Fixture, file: string): string[] {
  try {
    return readFileSync(path.join(fx.dir, file), 'utf8').trim().split('\n').filter((l) => l !== '').sort();
  } catch {
    return [];
  }
}

function seen(fx: Fixture, result: CliResult): Seen {
  const json = JSON.parse(result.stdout) as { passes: { fullTitle: string }[] };
  return { result, passed: json.passes.map((t) => t.fullTitle).sort(), teardowns: lines(fx, 'teardown.log'), workers: [...new Set(lines(fx, 'files.log'))] };
}

describe('a root hook plugin with only an afterAll', function () {
  this.timeout(60_000);
  const fixtures: Fixture[] = [];
  let mocha: Seen;
  let bulkhead: Seen;

  before(async () => {
    const run = async (go: (fx: Fixture) => Promise<CliResult>): Promise<Seen> => {
      const fx = fixture(FILES);
      fixtures.push(fx);
      return seen(fx, await go(fx));
    };
    [mocha, bulkhead] = await Promise.all([
      run((fx) => runMocha(['--reporter', 'json'], { cwd: fx.dir })),
      run((fx) => runCli(['-w', '2', '--isolation', 'shared', '--reporter', 'json'], { cwd: fx.dir })),
    ]);
  });

  after(() => {
    for (const fx of fixtures) fx.remove();
  });

  it('serial mocha runs it once', () => {
    expect(mocha.passed).to.deep.equal(['a queries', 'b queries']);
    expect(mocha.teardowns).to.deep.equal(['-']);
  });

  it('bulkhead runs it once on each worker, so the pools are ended and no connection is reported leaked', () => {
    expect(bulkhead.result.code, bulkhead.result.output).to.equal(0);
    expect(bulkhead.passed).to.deep.equal(['a queries', 'b queries']);
    expect(bulkhead.workers).to.have.length.above(0);
    expect(bulkhead.teardowns).to.deep.equal(bulkhead.workers);
    expect(bulkhead.result.output).not.to.include('leaked connections');
  });
});
