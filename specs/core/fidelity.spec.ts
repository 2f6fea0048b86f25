// The replayed run looks to mocha's reporters (and to the specs' own hooks) as serial mocha's does: the same
// fixture goes through plain mocha and through bulkhead, and the parts a reporter shows are compared.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { closingLine, fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { scratchPerSuite } from '../helpers/server.js';
import { parseXml } from '../helpers/xml.js';

// Every kind of hook fails once; two files, so -w 2 merges two workers.
const HOOKS = {
  'test/hooks.spec.js': `describe('hooks', function () {
  describe('before fails', function () { before(function () { throw new Error('before boom'); }); it('never', function () {}); });
  describe('after fails', function () { after(function () { throw new Error('after boom'); }); it('ok1', function () {}); });
  describe('beforeEach fails', function () { beforeEach(function () { throw new Error('beforeEach boom'); }); it('never2', function () {}); });
  describe('afterEach fails', function () { afterEach(function () { throw new Error('afterEach boom'); }); it('ok2', function () {}); });
});
`,
  'test/other.spec.js': "describe('other', function () { it('passes', function () {}); });\n",
};

// What an afterEach hook sees of the test that just ran, and errors of every shape for the json reporter.
const ERRORS = {
  'test/errors.spec.js': `import { expect } from 'chai';
describe('errors', function () {
  afterEach(function () {
    const t = this.currentTest;
    console.log('AE ' + JSON.stringify({ title: t.title, err: t.err && t.err.message, retries: t.retries(), speed: t.speed, state: t.state }));
  });
  it('passes', function () {});
  it('is slow by its own slow()', function (done) { this.slow(1); setTimeout(done, 30); });
  it('fails plainly', function () { throw new Error('plain boom'); });
  it('fails an assertion', function () { expect({ a: 1 }).to.deep.equal({ a: 2 }); });
  it('fails with properties', function () {
    const e = new Error('custom boom');
    e.details = { n: 1, list: [1, 'two'] };
    e.code = 'E_CUSTOM';
    e.cause = new Error('the cause');
    throw e;
  });
  it('fails with an own name', function () { class Own extends Error { constructor(m) { super(m); this.name = 'Own'; } } throw new Own('own boom'); });
  it('times out', function (done) { this.timeout(30); });
});
`,
};

// Every test runs (no hook rules any out), so a replay plans all of them.
const PLAIN = {
  'test/a.spec.js': "describe('a', function () { it('passes', function () {}); it('fails', function () { throw new Error('boom'); }); it.skip('skipped', function () {}); });\n",
  'test/b.spec.js': "describe('b', function () { it('passes 1', function () {}); it('passes 2', function () {}); });\n",
};

const DIFF = {
  'test/diff.spec.js': `import { expect } from 'chai';
describe('diff', function () {
  it('differs', function () { expect({ a: 1, b: 'x'.repeat(40) }).to.deep.equal({ a: 2, b: 'y'.repeat(40) }); });
});
`,
};

type Pair = { mocha: CliResult; bulkhead: CliResult; dir: string };

describe('fidelity: reporters and hooks see what serial mocha gives them', function () {
  const scratch = scratchPerSuite('fidelity');
  const fixtures: { remove(): void }[] = [];

  /** The same project through mocha and bulkhead; `files` may be read from `dir` afterwards. */
  async function both(files: Record<string, string>, mochaArgs: string[], bulkheadArgs: string[]): Promise<Pair> {
    const fx = fixture(files);
    fixtures.push(fx);
    const [mocha, bulkhead] = await Promise.all([
      runMocha(mochaArgs, { cwd: fx.dir }),
      runCli([...bulkheadArgs, '--isolation', 'shared'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } }),
    ]);
    return { mocha, bulkhead, dir: fx.dir };
  }

  const runs = new Map<string, Promise<Pair>>();
  function once(key: string, make: () => Promise<Pair>): Promise<Pair> {
    let p = runs.get(key);
    if (p === undefined) {
      p = make();
      runs.set(key, p);
    }
    return p;
  }
  const errorsJson = (): Promise<Pair> => once('errors', () => both(ERRORS, ['--reporter', 'json', 'test/errors.spec.js'], ['-w', '1', '--reporter', 'json']));

  after(function () {
    for (const fx of fixtures) fx.remove();
  });

  it('xunit: a failing before, after, beforeEach and afterEach hook each give a <failure>, as in mocha', async function () {
    const r = await once('xunit-file', () =>
      both(HOOKS, ['--reporter', 'xunit', '--reporter-option', 'output=mocha.xml', 'test/*.spec.js'], ['-w', '2', '--reporter', 'xunit', '--reporter-option', 'output=bulkhead.xml']),
    );
    expect(r.bulkhead.code, r.bulkhead.output).to.equal(1);
    const failing = (file: string): string[] => {
      const elements = parseXml(readFileSync(path.join(r.dir, file), 'utf8'));
      return elements.flatMap((e, i) => (e.name === 'failure' ? [elements[i - 1]?.attributes['name'] ?? '?'] : [])).sort();
    };
    const expected = failing('mocha.xml');
    expect(expected).to.have.length(4);
    expect(failing('bulkhead.xml')).to.deep.equal(expected);
  });

  it("afterEach hooks see the test's err (failed and timed out), retries() and speed as in mocha", async function () {
    const r = await errorsJson();
    const seen = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('AE '));
    const expected = seen(r.mocha.stdout);
    expect(expected, r.mocha.output).to.have.length(7);
    expect(expected.join('\n')).to.include('Timeout of 30ms').and.include('"speed":"slow"').and.include('"retries":-1');
    expect(seen(r.bulkhead.stdout)).to.deep.equal(expected);
  });

  it('json: each test, and each err object, is what mocha prints (own properties, cause, no added name or multiple)', async function () {
    const r = await errorsJson();
    type Entry = { title: string; duration?: number; speed?: string; err: Record<string, unknown> };
    const tests = (out: string): Entry[] => {
      const doc = JSON.parse(out.slice(out.indexOf('{\n'))) as { passes: Entry[]; failures: Entry[] };
      // Durations differ from run to run; of a stack, the first line is what both runs share for certain.
      return [...doc.passes, ...doc.failures]
        .map(({ duration: _d, ...t }) => ({ ...t, err: { ...t.err, ...(typeof t.err['stack'] === 'string' ? { stack: t.err['stack'].split('\n')[0] } : {}) } }))
        .sort((a, b) => a.title.localeCompare(b.title));
    };
    const expected = tests(r.mocha.stdout);
    expect(expected).to.have.length(7);
    const custom = expected.find((t) => t.title === 'fails with properties');
    expect(custom?.err).to.deep.include({ details: { n: 1, list: [1, 'two'] }, code: 'E_CUSTOM', cause: {} });
    expect(expected.find((t) => t.title === 'is slow by its own slow()')?.speed).to.equal('slow');
    expect(tests(r.bulkhead.stdout)).to.deep.equal(expected);
  });

  it('--inline-diffs, --no-diff and --reporter-option maxDiffSize (command line and .mocharc) shape the diff as in mocha', async function () {
    // The failure's report, from its number to the first stack frame (durations and paths around it differ).
    const report = (out: string): string => {
      const from = out.search(/ 1\) diff\n/);
      return out.slice(from, out.indexOf(' at ', from));
    };
    const variants: [string, string[], Record<string, string>][] = [
      ['inline', ['--inline-diffs'], {}],
      ['no-diff', ['--no-diff'], {}],
      ['maxDiffSize', ['--reporter-option', 'maxDiffSize=12'], {}],
      ['rc', [], { '.mocharc.json': '{"reporter-option": ["maxDiffSize=12"]}\n' }],
    ];
    const pairs = await Promise.all(variants.map(([key, args, extra]) => once(key, () => both({ ...DIFF, ...extra }, [...args, 'test/diff.spec.js'], ['-w', '1', ...args]))));
    const reports = pairs.map((p) => ({ mocha: report(p.mocha.stdout), bulkhead: report(p.bulkhead.stdout) }));
    // The variants really differ from one another, so the comparison below sees each setting at work.
    expect(new Set(reports.slice(0, 3).map((x) => x.mocha)).size).to.equal(3);
    expect(reports[0]?.mocha).to.include('actual expected');
    expect(reports[2]?.mocha).to.include('output truncated to 12 characters');
    for (const [i, x] of reports.entries()) expect(x.bulkhead, variants[i]?.[0]).to.equal(x.mocha);
  });

  it("tap and xunit on stdout: stdout is the reporter's document alone; the closing line ends the output on stderr", async function () {
    const [tap, xunit] = await Promise.all([
      once('tap', () => both(HOOKS, ['--reporter', 'tap', 'test/*.spec.js'], ['-w', '2', '--reporter', 'tap'])),
      once('xunit-stdout', () => both(HOOKS, ['--reporter', 'xunit', 'test/*.spec.js'], ['-w', '2', '--reporter', 'xunit'])),
    ]);
    for (const r of [tap.bulkhead, xunit.bulkhead]) {
      expect(r.stdout, r.output).to.not.match(/^(bulkhead:|connection rebuilds:|not run:|\d+ passed, \d+ failed)/m);
      expect(closingLine(r.stderr), r.output).to.deep.equal({ passed: 3, failed: 4, skipped: 0 });
      expect(r.output.trimEnd().split('\n').pop()).to.equal('3 passed, 4 failed');
    }
    const tapLines = (out: string): string[] => out.split('\n').filter((l) => /^(ok|not ok|1\.\.|# )/.test(l)).map((l) => l.replace(/ \d+ /, ' N '));
    expect(tap.bulkhead.stdout.split('\n')[0]).to.match(/^(ok|not ok) 1 /);
    expect(tapLines(tap.bulkhead.stdout).sort()).to.deep.equal(tapLines(tap.mocha.stdout).sort());
    const cases = (out: string): number => parseXml(out).filter((e) => e.name === 'testcase').length;
    expect(cases(xunit.bulkhead.stdout)).to.equal(cases(xunit.mocha.stdout));
  });

  it("spec keeps bulkhead's lines on stdout, with the closing line last", async function () {
    const r = await once('spec', () => both(HOOKS, ['test/*.spec.js'], ['-w', '2']));
    expect(r.bulkhead.stdout).to.match(/^bulkhead: 2 files on 2 worker\(s\)/);
    expect(r.bulkhead.stdout.trimEnd().split('\n').pop()).to.equal('3 passed, 4 failed');
  });

  it("json-stream: the start line's total is mocha's for a replay, whose plan names every test", async function () {
    const r = await once('json-stream', async () => {
      const first = await both(PLAIN, ['--reporter', 'json-stream', 'test/*.spec.js'], ['-w', '2', '--reporter', 'json-stream']);
      const replay = await runCli(['replay', '.bulkhead/last-run.json', '--isolation', 'shared', '--reporter', 'json-stream'], { cwd: first.dir, env: { DATABASE_URL: scratch().url } });
      return { ...first, bulkhead: replay };
    });
    const start = (out: string): unknown => JSON.parse(out.split('\n')[0] ?? '') as unknown;
    expect(start(r.mocha.stdout)).to.deep.equal(['start', { total: 5 }]);
    expect(start(r.bulkhead.stdout), r.bulkhead.output).to.deep.equal(['start', { total: 5 }]);
  });
});
