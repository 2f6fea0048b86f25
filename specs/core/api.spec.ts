// The public run() API: a program calls it twice in one process, from a working directory that is not the
// project, and gets each run's own result; the process's cwd and console.warn are as they were, and bad options
// reject with the CLI's usage error instead of exiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runNode } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const FILES = {
  'test/a.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('a', function () {
  it('queries through db()', async function () { const { rows } = await (await db()).query('SELECT 1 AS one'); expect(rows[0].one).to.equal(1); });
  it('fails on purpose', function () { expect(1).to.equal(2); });
});
`,
  'test/b.spec.js': `import { expect } from 'chai';
import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
after(() => pool.end());
describe('b', function () {
  it('uses its own pool on the slot database', async function () {
    const { rows } = await pool.query('SELECT current_database() AS d');
    expect(rows[0].d).to.match(/_bulkhead_w[12]$/);
  });
});
`,
  // Calls run() twice (the second time selecting only the passing tests, with a spec pattern that matches
  // nothing), then with bad options; after each run it reads the record that run wrote.
  'api.mjs': `import { readFileSync } from 'node:fs';
import { run } from 'bulkhead';
const root = process.argv[2];
const cwd = process.cwd();
// A console.warn of the program's own: bulkhead must neither replace it nor print through it.
const warnCalls = [];
const warn = (...args) => { warnCalls.push(args.join(' ')); };
console.warn = warn;
const tests = () => {
  const record = JSON.parse(readFileSync(root + '/.bulkhead/last-run.json', 'utf8'));
  return record.slots.flatMap((s) => s.files.flatMap((f) => f.tests.map((t) => t.title + ': ' + t.state))).sort();
};
const runs = [];
for (const options of [{ root, workers: 2, spec: ['test'] }, { root, workers: 2, spec: ['test', 'nothing/*.spec.js'], grep: 'db\\\\(\\\\)|pool' }]) {
  const { exitCode } = await run(options);
  runs.push({ exitCode, tests: tests() });
}
let rejected = null;
await run({ root, workers: 0 }).catch((err) => { rejected = { exitCode: err.exitCode, message: err.message }; });
console.log('API ' + JSON.stringify({ runs, rejected, cwdKept: process.cwd() === cwd, warnKept: console.warn === warn, warnCalls }));
`,
};

interface ApiReport {
  runs: { exitCode: number; tests: string[] }[];
  rejected: { exitCode: number; message: string } | null;
  cwdKept: boolean;
  warnKept: boolean;
  warnCalls: string[];
}

describe('api: run() from a program', function () {
  let r: CliResult;
  let report: ApiReport;

  before(async function () {
    const fx = fixture(FILES);
    // The program runs from a directory with no tests in it: run() must read the root it is given.
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'bulkhead-api-cwd-'));
    try {
      r = await runNode(path.join(fx.dir, 'api.mjs'), [fx.dir], { cwd: elsewhere });
    } finally {
      fx.remove();
      rmSync(elsewhere, { recursive: true, force: true });
    }
    const line = /^API (.*)$/m.exec(r.stdout)?.[1];
    expect(line, r.output).to.be.a('string');
    report = JSON.parse(line as string) as ApiReport;
  });

  it('returns the first run\'s result: one test failed, exit code 1', function () {
    expect(report.runs[0], r.output).to.deep.equal({
      exitCode: 1,
      tests: ['a fails on purpose: failed', 'a queries through db(): passed', 'b uses its own pool on the slot database: passed'],
    });
  });

  it('returns the second run\'s own result in the same process: only the selected tests, all passed, exit code 0', function () {
    expect(report.runs[1], r.output).to.deep.equal({ exitCode: 0, tests: ['a queries through db(): passed', 'b uses its own pool on the slot database: passed'] });
  });

  it('warns about a spec pattern that matches nothing on the run\'s stderr, naming the pattern as given', function () {
    expect(r.stderr).to.include('bulkhead: Warning: Cannot find any files matching pattern "nothing/*.spec.js"');
  });

  it('rejects bad options with the usage error (exit code 2) instead of exiting the process', function () {
    expect(report.rejected?.exitCode, r.output).to.equal(2);
    expect(report.rejected?.message).to.match(/workers/);
  });

  it('leaves the process\'s working directory and console.warn as they were, and prints nothing through console.warn', function () {
    expect({ cwdKept: report.cwdKept, warnKept: report.warnKept, warnCalls: report.warnCalls }).to.deep.equal({ cwdKept: true, warnKept: true, warnCalls: [] });
    expect(r.code, r.output).to.equal(0);
  });
});
