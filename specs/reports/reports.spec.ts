// Reports people read, from one run of a small project on two workers: several reporters at once (each with its
// own destination, one of them broken), the JUnit document (checked with a real XML parser against the run record),
// the same JUnit from `bulkhead merge`, and GitHub's annotations and step summary.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import { BIN, closingLine, fixture, runCli } from '../helpers/fixture.js';
import { scratchPerSuite } from '../helpers/server.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { expectUsage } from '../helpers/output.js';
import { loadRecord } from '../flaky/lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';
import { HOOK_LINE, LINES, SUITE } from './suite.js';

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name), parseAttributeValue: false, textNodeName: '#text' });

function asList(value: unknown): Node[] {
  return value === undefined ? [] : (value as Node[]);
}

function props(node: Node): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of asList((node['properties'] as Node | undefined)?.['property'])) (out[String(p['name'])] ??= []).push(String(p['value']));
  return out;
}

/** Runs bulkhead in a pseudo-terminal (util-linux script, sized, since log-update draws nothing in 0 columns). */
function inTerminal(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = `stty cols 120 rows 40; exec ${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')}`;
  return new Promise((resolve, reject) => {
    execFile('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, ...env }, maxBuffer: 1 << 24 }, (err, stdout) => (err !== null && err.code !== 1 ? reject(err) : resolve(stdout)));
  });
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;

describe('reports: several reporters, JUnit, merge, GitHub and the progress', function () {
  const scratch = scratchPerSuite('p13reports');
  let fx: Fixture;
  let tty: Fixture;
  let terminal: string;
  let run: CliResult;
  let merged: CliResult;
  let report: CliResult;
  let record: RunRecord;
  let summaryFile: string;
  const file = (rel: string): string => readFileSync(path.join(fx.dir, rel), 'utf8');

  before(async function () {
    fx = fixture(SUITE, { packages: ['mocha'] });
    summaryFile = path.join(fx.dir, 'step-summary.md');
    const reporters = ['--reporter', 'spec', '--reporter', 'junit:reports/junit.xml', '--reporter', 'json:reports/run.json', '--reporter', './broken.cjs:reports/broken.out'];
    // GITHUB_WORKSPACE is the folder above the project: annotation paths must be relative to the repository.
    const github = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: path.dirname(fx.dir), GITHUB_STEP_SUMMARY: summaryFile, CI: 'true' };
    tty = fixture(SUITE, { packages: ['mocha'] });
    // The same suite in a terminal, side by side on a database of its own; CI and NO_COLOR would ask for plain lines.
    const inTty = inTerminal(tty.dir, ['-w', '2', '--timeout', '20000'], { DATABASE_URL: scratch().url, CI: '', NO_COLOR: '', TERM: 'xterm' });
    const pictures = ['--html', 'reports/run.html', '--trace', 'reports/trace.json'];
    run = await runCli(['-w', '2', '--retries', '1', '--timeout', '20000', '--progress', 'plain', ...reporters, ...pictures], { cwd: fx.dir, env: github });
    terminal = await inTty;
    record = loadRecord(fx.dir);
    merged = await runCli(['merge', '.bulkhead/last-run.json', '--record', 'merged.json', '--reporter', 'junit:reports/merged.xml'], { cwd: fx.dir, env: { GITHUB_ACTIONS: '' } });
    report = await runCli(['report', 'merged.json'], { cwd: fx.dir });
  });

  after(function () {
    fx.remove();
    tty.remove();
  });

  describe('several reporters at once', function () {
    it('the run itself: exit 1, the closing line and the record', function () {
      expect(run.code, run.output).to.equal(1);
      expect(closingLine(run.output)).to.deep.equal({ passed: 3, failed: 3, skipped: 1 });
      expect(record.outcome).to.include({ passed: 3, failed: 3, skipped: 1, notRun: 1, flaky: 1 });
    });

    it('spec writes to the terminal, and the tests\' output is echoed once', function () {
      expect(run.stdout).to.match(/^ {4}✔ counts rows/m);
      expect(run.stdout).to.match(/^ {4}\d\) compares <values> & "quotes"$/m);
      expect(run.stdout.match(/^output from plain$/gm)).to.have.length(1);
      expect(run.stdout).to.not.include('"stats"');
      expect(run.stdout).to.not.include('broken reporter started');
    });

    it('json writes its document to its file, with the run\'s counts', function () {
      const doc = JSON.parse(file('reports/run.json')) as { stats: Record<string, number>; failures: { fullTitle: string }[] };
      expect(doc.stats).to.include({ tests: 6, passes: 3, pending: 1, failures: 3 });
      expect(doc.failures.map((f) => f.fullTitle).sort()).to.deep.equal(['orders divides by zero', 'plain broken hook "before each" hook for "never runs"', 'plain compares <values> & "quotes"']);
    });

    it('a broken reporter is named on stderr and dropped; its file holds only its own lines', function () {
      expect(run.stderr).to.include('bulkhead: reporter "./broken.cjs" failed and was dropped: Error: broken reporter on pass');
      expect(file('reports/broken.out')).to.equal('broken reporter started\n');
    });
  });

  describe('the JUnit reporter', function () {
    let doc: Node;
    let cases: (Node & { suite: string })[];

    before(function () {
      doc = parser.parse(file('reports/junit.xml')) as Node;
      const suites = asList((doc['testsuites'] as Node)['testsuite']);
      cases = suites.flatMap((s) => asList(s['testcase']).map((c) => ({ ...c, suite: String(s['name']) })));
    });

    it('counts match the run record exactly, at the top and per file', function () {
      const top = doc['testsuites'] as Node;
      const o = record.outcome;
      expect(top).to.include({ tests: String(o.passed + o.failed + o.skipped + o.notRun), failures: String(o.failed), skipped: String(o.skipped + o.notRun), errors: '0' });
      const suites = asList(top['testsuite']);
      expect(suites.map((s) => [s['name'], s['tests'], s['failures'], s['skipped']]).sort()).to.deep.equal([
        ['test/orders.spec.ts', '3', '1', '1'],
        ['test/plain.spec.js', '5', '2', '1'],
      ]);
      expect(cases.filter((c) => c['failure'] !== undefined)).to.have.length(o.failed);
    });

    it('every test has its file and the line that declared it (TypeScript through source maps too)', function () {
      const tests = cases.filter((c) => !String(c['name']).startsWith('"'));
      expect(Object.fromEntries(tests.map((c) => [c['name'], Number(c['line'])]))).to.deep.equal(LINES);
      for (const c of cases) expect(c['file']).to.equal(c.suite);
    });

    it('a server error carries its type, message, SQLSTATE, stack and the rebuilds it caused', function () {
      const c = cases.find((x) => x['name'] === 'orders divides by zero') as Node;
      const f = c['failure'] as Node;
      expect(f).to.include({ type: 'error', message: 'division by zero' });
      expect(String(f['#text'])).to.match(/^SQLSTATE 22012\nerror: division by zero\n\s+at /);
      expect(props(c)['bulkhead.sqlstate']).to.deep.equal(['22012']);
      expect(props(c)['bulkhead.rebuild']?.[0]).to.match(/^connection 1 rebuilt after test "orders divides by zero": database error \(SQLSTATE 22012\)/);
      const slot = record.slots.find((s) => s.files.some((x) => x.file === 'test/orders.spec.ts'))?.slot;
      expect(props(c)['bulkhead.slot']).to.deep.equal([String(slot)]);
    });

    it('marks the flaky test, skips the pending one and says why a test did not run; the hook is a failure', function () {
      expect(props(cases.find((x) => x['name'] === 'plain is flaky') as Node)['bulkhead.flaky']).to.deep.equal(['passed on attempt 2']);
      expect((cases.find((x) => x['name'] === 'plain broken hook never runs') as Node)['skipped']).to.deep.equal({ message: 'not run: hook failed: "before each" hook for "never runs"' });
      const hook = cases.find((x) => x['name'] === '"before each" hook for "never runs"') as Node;
      expect(hook['failure']).to.include({ type: 'Error', message: 'hook boom' });
      expect((cases.find((x) => x['name'] === 'plain compares <values> & "quotes"') as Node)['failure']).to.include({ type: 'AssertionError' });
    });

    it('bulkhead merge writes the same document from the merged record', function () {
      expect(merged.code, merged.output).to.equal(1);
      expect(file('reports/merged.xml')).to.equal(file('reports/junit.xml'));
    });
  });

  describe('GitHub Actions', function () {
    it('one ::error annotation per failure, at the file relative to the repository and its line', function () {
      const project = path.basename(fx.dir);
      const lines = run.stdout.split('\n').filter((l) => l.startsWith('::'));
      expect(lines).to.have.members([
        `::error file=${project}/test/orders.spec.ts,line=${LINES['orders divides by zero']},title=orders divides by zero::error: division by zero`,
        `::error file=${project}/test/plain.spec.js,line=${LINES['plain compares <values> & "quotes"']},title=plain compares <values> & "quotes"::AssertionError: expected { a: 1 } to deeply equal { a: 2 }`,
        `::error file=${project}/test/plain.spec.js,line=${HOOK_LINE},title="before each" hook for "never runs"::Error: hook boom`,
      ]);
      expect(merged.stdout).to.not.include('::error');
    });

    it('a markdown step summary: counts, failures, flaky, rebuilds, slowest files and the replay command', function () {
      const md = readFileSync(summaryFile, 'utf8');
      expect(md).to.include('| passed | failed | skipped | not run | flaky | rebuilds |\n|---|---|---|---|---|---|\n| 3 | 3 | 1 | 1 | 1 | 2 |');
      expect(md).to.include('| test/orders.spec.ts | orders divides by zero | 22012 division by zero |');
      expect(md).to.include('- test/plain.spec.js: plain is flaky (passed on attempt 2)');
      expect(md).to.match(/- w\d gen 1 in test\/orders\.spec\.ts, after test "orders divides by zero": database error \(22012\)/);
      expect(md).to.match(/#### Slowest files\n\n\| file \| seconds \|\n\|---\|---\|\n\| test\/\w+\.spec\.\w+ \| \d+\.\d\d \|/);
      expect(md).to.include('Replay this run: `bulkhead replay .bulkhead/last-run.json`');
    });
  });

  describe('progress', function () {
    it('plain: a line per finished file on stderr, no escape codes, the last one with the run\'s counts', function () {
      const lines = run.stderr.split('\n').filter((l) => l.startsWith('bulkhead: progress: '));
      expect(lines, run.stderr).to.have.length(2);
      expect(lines[0]).to.match(/^bulkhead: progress: 1\/2 files, \d+ tests?, \d failed, [01] flaky, \d rebuilds?, \d+s(, ~\d+s left)?; w\d test\/\w+\.spec\.\w+/);
      expect(lines[1]).to.match(/^bulkhead: progress: 2\/2 files, 6 tests, 3 failed, 1 flaky, 2 rebuilds, \d+s$/);
      expect(run.stderr).to.not.match(ESCAPES);
      expect(run.stdout).to.not.match(ESCAPES);
    });

    it('in a terminal: a block drawn in place on stderr, and every reporter line intact on a line of its own', function () {
      expect(terminal).to.match(/\u001b\[2K\u001b\[1A/);
      const lines = terminal.replace(ESCAPES, '').split(/\r?\n/);
      const blocks = lines.filter((l) => /bulkhead: \d+\/2 files/.test(l));
      expect(blocks.length, terminal).to.be.greaterThan(0);
      for (const l of blocks) expect(l, terminal).to.match(/^bulkhead: \d\/2 files, \d+ tests?, \d failed, \d flaky, \d rebuilds?, \d+s(, ~\d+s left)?$/);
      for (const title of ['counts rows', 'passes']) expect(lines.filter((l) => l.includes(title) && /✔/.test(l)), terminal).to.have.length(1);
      expect(lines.find((l) => l.includes('✔ counts rows'))).to.match(/^ {4}✔ counts rows( \(\d+ms\))?$/);
      expect(lines.find((l) => l.includes('✔ passes'))).to.equal('    ✔ passes');
      expect(lines).to.include('output from plain');
      expect(lines.filter((l) => /^ {2}w\d {2}/.test(l)).every((l) => /^ {2}w[12] {2}(idle|test\/\w+\.spec\.\w+( › .+)?)$/.test(l)), terminal).to.equal(true);
      expect(lines.find((l) => /passed, \d+ failed/.test(l))).to.match(/^\d passed, \d failed, 1 skipped$/);
    });
  });

  describe('the HTML report and the trace', function () {
    let html: string;
    let data: { bars: { slot: number; title: string; state: string; file: string; error?: { sqlstate?: string } }[]; markers: { kind: string; slot: number; detail: string }[] };
    before(function () {
      html = file('reports/run.html');
      const json = /<script type="application\/json" id="bulkhead-data">(.*?)<\/script>/s.exec(html)?.[1];
      data = JSON.parse(json ?? 'null') as typeof data;
    });

    it('is one self-contained file, named with its size in the closing note', function () {
      expect(run.stdout).to.match(/^bulkhead: HTML report written to reports\/run\.html \(\d+ KB\)$/m);
      expect(html).to.match(/^<!doctype html>/);
      expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).to.not.match(/https?:|<link|\ssrc=|@import/);
      // The script at least parses; what it does in a browser is checked in Chromium by browser.spec.ts.
      const script = /<script>(.*?)<\/script>/s.exec(html)?.[1] ?? '';
      expect(() => new Function(script)).to.not.throw();
    });

    it('one lane per worker slot, and a bar per test that ran, coloured by its outcome', function () {
      const lanes = [...html.matchAll(/<g class="lane" data-slot="(\d+)"/g)].map((m) => Number(m[1]));
      expect(lanes).to.deep.equal(record.slots.map((s) => s.slot));
      const ran = record.slots.flatMap((s) => s.files.flatMap((f) => f.tests.filter((t) => t.state !== 'notrun').map((t) => ({ slot: s.slot, title: t.title, state: t.flaky ? 'flaky' : t.state }))));
      expect(data.bars.map((b) => ({ slot: b.slot, title: b.title, state: b.state }))).to.have.deep.members(ran);
      const drawn = [...html.matchAll(/<rect class="bar (\w+)"[^>]* data-bar="(\d+)">/g)];
      expect(drawn).to.have.length(ran.length);
      for (const [, state, i] of drawn) expect(data.bars[Number(i)]?.state).to.equal(state);
    });

    it('a rebuild marker on the lane that rebuilt, naming the test that broke the connection and the SQLSTATE', function () {
      const rebuilds = data.markers.filter((m) => m.kind === 'rebuild');
      expect(rebuilds.map((m) => m.slot)).to.deep.equal(record.rebuilds.map((r) => r.slot));
      expect(rebuilds[0]?.detail).to.include('SQLSTATE 22012').and.include('The test that left it broken: orders divides by zero');
      expect(html.match(/<polygon class="marker rebuild"/g)).to.have.length(record.rebuilds.length);
      expect(data.bars.find((b) => b.title === 'orders divides by zero')?.error?.sqlstate).to.equal('22012');
    });

    it('run metadata, filters, and the failure list with stacks and the diff', function () {
      expect(html).to.include('<dt>replay</dt><dd>bulkhead replay .bulkhead/last-run.json</dd>');
      expect(html).to.include('<dt>workers</dt><dd>2</dd>');
      expect(html).to.include('<dt>outcome</dt><dd>3 passed, 3 failed, 1 skipped, 1 not run, 1 flaky</dd>');
      expect([...html.matchAll(/data-filter="(\w+)"/g)].map((m) => m[1])).to.deep.equal(['failed', 'flaky', 'slow', 'notrun']);
      expect(html.match(/<li class="item failed"/g)).to.have.length(3);
      expect(html).to.include('SQLSTATE 22012\nerror: division by zero');
      expect(html).to.include('<pre class="diff">- expected: {\n  "a": 2\n}\n+ actual:   {\n  "a": 1\n}</pre>');
      expect(html).to.include('<li class="item notrun" data-kind="notrun"><span class="kind">not run</span><span class="title">test/plain.spec.js: plain broken hook never runs</span>');
    });

    it('the Chrome trace: one track per worker, one event per test, an instant event per rebuild', function () {
      expect(run.stdout).to.match(/^bulkhead: Chrome trace written to reports\/trace\.json \(\d+ KB; /m);
      const trace = JSON.parse(file('reports/trace.json')) as { traceEvents: { name: string; ph: string; tid: number; cat?: string; args?: Record<string, unknown> }[] };
      const tracks = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args?.['name']]);
      expect(tracks).to.deep.equal(record.slots.map((s) => [s.slot, `w${s.slot}`]));
      expect(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => [e.tid, e.name])).to.have.deep.members(data.bars.map((b) => [b.slot, b.title]));
      expect(trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'rebuild').map((e) => e.tid)).to.deep.equal(record.rebuilds.map((r) => r.slot));
    });

    it('bulkhead report draws the same picture from a (merged) record', function () {
      expect(report.code, report.output).to.equal(0);
      expect(report.stdout).to.match(/^bulkhead: HTML report written to \.bulkhead\/report\.html \(\d+ KB\)\n$/);
      const again = file('.bulkhead/report.html');
      const svg = (page: string): string => /<svg[\s\S]*<\/svg>/.exec(page)?.[0] ?? '';
      expect(svg(again)).to.equal(svg(html));
      expect(again).to.include('<dd>bulkhead replay merged.json</dd>');
    });
  });

  describe('a bad --reporter value', function () {
    // The other refusals (a document on a shared stdout, two reporters on one file) are checked in process by
    // specs/unit/reporterflags.spec.ts; this one goes through the CLI for the exit status.
    it('is a usage error that names the fix, exit 2', async function () {
      expectUsage(await runCli(['--reporter', 'junit:'], { cwd: fx.dir }), /--reporter "junit:" has an empty destination after the colon/);
    });
  });
});
