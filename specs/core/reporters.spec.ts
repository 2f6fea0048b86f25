// Stock mocha reporters and third-party ones render the merged run of every worker; and one file's output
// never interleaves with another's, even while their tests run at the same time.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { fixture, query, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { scratchPerSuite } from '../helpers/server.js';
import { parseXml } from '../helpers/xml.js';

// Five tests over two files: three pass, one fails, one is pending.
const MIXED = {
  'test/a.spec.js': "describe('alpha', function () {\n  it('a passes', () => {});\n  it('a fails', () => { throw new Error('alpha boom'); });\n  it.skip('a skipped', () => {});\n});\n",
  'test/b.spec.js': "describe('beta', function () {\n  it('b passes 1', () => {});\n  it('b passes 2', () => {});\n});\n",
};
const STOCK = ['dot', 'tap', 'json', 'json-stream', 'min', 'progress', 'list'] as const;
// The machine-readable ones are checked on a run merged from two workers; the others on one, which is cheaper.
const TWO_WORKERS: readonly string[] = ['json', 'json-stream'];

// Both files wait in their first test until the other has started its own, so from then on their tests
// certainly run at the same time on the two workers.
function concurrentFile(me: string, other: string): string {
  return `import { db } from 'bulkhead';
describe('file ${me}', function () {
  it('${me} test 1', async function () {
    const c = await db();
    await c.query('INSERT INTO arrivals VALUES ($1)', ['${me}']);
    for (;;) {
      const { rowCount } = await c.query('SELECT 1 FROM arrivals WHERE who = $1', ['${other}']);
      if (rowCount === 1) break;
      await c.query('SELECT pg_sleep(0.005)');
    }
    console.log('log from ${me} 1');
  });
  for (let i = 2; i <= 4; i++) {
    it('${me} test ' + i, async function () {
      await (await db()).query('SELECT pg_sleep(0.02)');
      console.log('log from ${me} ' + i);
    });
  }
});
`;
}

describe('reporters: the merged run through mocha reporters', function () {
  const scratch = scratchPerSuite('reporters');
  const stock = new Map<string, CliResult>();
  let junit: { r: CliResult; xml: string };
  let spec: CliResult;

  /** Runs bulkhead on a fresh copy of a project: runs side by side must not share files (.bulkhead/, reports). */
  async function runOn(files: Record<string, string>, args: string[], after?: (dir: string) => void): Promise<CliResult> {
    const fx = fixture(files, { packages: ['mocha-junit-reporter'] });
    try {
      // Runs side by side share the scratch database (and the concurrency check relies on it): no per-slot copies.
      const r = await runCli([...args, '--isolation', 'shared'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      after?.(fx.dir);
      return r;
    } finally {
      fx.remove();
    }
  }

  before(async function () {
    await query('CREATE TABLE arrivals (who text PRIMARY KEY)', [], scratch().url);
    let xml = '';
    const junitRun = runOn(MIXED, ['-w', '2', '--reporter', 'mocha-junit-reporter', '--reporter-option', 'mochaFile=reports/out.xml', '--reporter-option', 'includePending=true'], (dir) => {
      xml = readFileSync(path.join(dir, 'reports', 'out.xml'), 'utf8');
    });
    // A generous timeout: on a busy machine one worker may start its first test well after the other.
    const specRun = runOn({ 'test/x.spec.js': concurrentFile('x', 'y'), 'test/y.spec.js': concurrentFile('y', 'x') }, ['-w', '2', '--timeout', '20000']);
    await Promise.all(STOCK.map(async (name) => void stock.set(name, await runOn(MIXED, ['-w', TWO_WORKERS.includes(name) ? '2' : '1', '--reporter', name]))));
    junit = { r: await junitRun, xml };
    spec = await specRun;
  });

  function run(name: (typeof STOCK)[number]): CliResult {
    const r = stock.get(name);
    if (r === undefined) throw new Error(`the ${name} run did not happen`);
    expect(r.code, r.output).to.equal(1);
    return r;
  }

  function expectEpilogue(r: CliResult): void {
    expect(r.stdout, r.output).to.match(/^ {2}3 passing \(\d+m?s\)$/m);
    expect(r.stdout).to.match(/^ {2}1 pending$/m);
    expect(r.stdout).to.match(/^ {2}1 failing$/m);
    expect(r.stdout).to.include('alpha boom');
  }

  it('dot: one mark per test, and the epilogue', function () {
    const r = run('dot');
    const marks = r.stdout.split('\n').find((l) => /^\s+[.,!]+\s*$/.test(l))?.trim() ?? '';
    expect([...marks].sort().join(''), r.stdout).to.equal('!,...');
    expectEpilogue(r);
  });

  it('tap: a line per test and the plan for all five', function () {
    const r = run('tap');
    expect(r.stdout.match(/^ok \d+ /gm), r.stdout).to.have.length(4);
    expect(r.stdout.match(/^not ok \d+ alpha a fails$/gm)).to.have.length(1);
    expect(r.stdout).to.match(/^ok \d+ alpha a skipped # SKIP/m);
    expect(r.stdout).to.match(/^1\.\.5$/m);
    expect(r.stdout).to.match(/^# pass 3$/m);
    expect(r.stdout).to.match(/^# fail 1$/m);
  });

  it('json: stdout is one JSON document with the right stats and tests', function () {
    const r = run('json');
    const doc = JSON.parse(r.stdout) as { stats: Record<string, number>; passes: { fullTitle: string }[]; failures: { fullTitle: string }[]; pending: { fullTitle: string }[] };
    expect(doc.stats).to.include({ suites: 2, tests: 5, passes: 3, pending: 1, failures: 1 });
    expect(doc.passes.map((t) => t.fullTitle).sort()).to.deep.equal(['alpha a passes', 'beta b passes 1', 'beta b passes 2']);
    expect(doc.failures.map((t) => t.fullTitle)).to.deep.equal(['alpha a fails']);
    expect(doc.pending.map((t) => t.fullTitle)).to.deep.equal(['alpha a skipped']);
  });

  it('json-stream: every stdout line is a JSON event: start, the passes, the failure, and end with the stats', function () {
    const r = run('json-stream');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as [string, Record<string, unknown>]);
    expect(events[0]?.[0], r.stdout).to.equal('start');
    expect(events.filter((e) => e[0] === 'pass').map((e) => e[1]['fullTitle']).sort()).to.deep.equal(['alpha a passes', 'beta b passes 1', 'beta b passes 2']);
    expect(events.filter((e) => e[0] === 'fail').map((e) => e[1]['fullTitle'])).to.deep.equal(['alpha a fails']);
    const end = events[events.length - 1];
    expect(end?.[0]).to.equal('end');
    expect(end?.[1]).to.include({ tests: 5, passes: 3, pending: 1, failures: 1 });
  });

  for (const name of ['min', 'progress'] as const) {
    it(`${name}: the epilogue of the merged run`, function () {
      expectEpilogue(run(name));
    });
  }

  it('list: a line per test', function () {
    const r = run('list');
    for (const line of [/✔ alpha a passes: \d+ms/, /✔ beta b passes 1: \d+ms/, /✔ beta b passes 2: \d+ms/, /\d+\) alpha a fails/, /- alpha a skipped/]) {
      expect(r.stdout, r.stdout).to.match(line);
    }
    expectEpilogue(r);
  });

  it('mocha-junit-reporter with --reporter-option mochaFile (and includePending) writes a well-formed file with every test', function () {
    expect(junit.r.code, junit.r.output).to.equal(1);
    const elements = parseXml(junit.xml);
    expect(elements[0]).to.deep.include({ name: 'testsuites' });
    expect(elements[0]?.attributes).to.include({ tests: '5', failures: '1', skipped: '1' });
    const cases = elements.filter((e) => e.name === 'testcase').map((e) => e.attributes['name']).sort();
    expect(cases).to.deep.equal(['alpha a fails', 'alpha a passes', 'alpha a skipped', 'beta b passes 1', 'beta b passes 2']);
    expect(elements.filter((e) => e.name === 'failure')).to.have.length(1);
  });

  it('spec with -w 2: each file\'s tests and output stay together under its describe while both files run at once', function () {
    expect(spec.code, spec.output).to.equal(0);
    const lines = spec.stdout.split('\n');
    for (const me of ['x', 'y']) {
      const mine = lines.flatMap((l, i) => (l === `  file ${me}` || l.includes(`${me} test `) || l === `log from ${me} ${l.slice(-1)}` ? [i] : []));
      expect(mine, spec.stdout).to.have.length(9);
      expect(lines[mine[0] ?? -1], spec.stdout).to.equal(`  file ${me}`);
      expect((mine[mine.length - 1] ?? 0) - (mine[0] ?? 0), spec.stdout).to.equal(mine.length - 1);
    }
  });
});
