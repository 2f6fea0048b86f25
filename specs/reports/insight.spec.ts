// Where the time went, as the real CLI prints it at the end of a run (src/plan/insight.ts, rendered by
// src/reporters/summary.ts): a skewed project (one file of 3 s, three of 0.2 s) on three workers names the long file
// first, its idle share agrees with the run record, and the suggested count is the two workers the long file leaves
// worth having; a run of a fraction of a second prints none of it. The closing line stays last in both.
import { availableParallelism } from 'node:os';
import { expect } from 'chai';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { loadRecord } from '../flaky/lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

/** A file whose one test waits `ms` on a timer: a known duration with no CPU to fight over. */
const waits = (name: string, ms: number): string => `describe('${name}', function () {
  it('${name} waits', function () {
    return new Promise((resolve) => setTimeout(resolve, ${ms}));
  });
});
`;

const SKEWED = {
  'test/big.spec.js': waits('big', 3000),
  'test/s1.spec.js': waits('s1', 200),
  'test/s2.spec.js': waits('s2', 200),
  'test/s3.spec.js': waits('s3', 200),
};

const QUICK = { 'test/a.spec.js': "describe('a', function () { it('a', function () {}); });\n", 'test/b.spec.js': "describe('b', function () { it('b', function () {}); });\n" };

/** The lines of bulkhead's summary: from `connection rebuilds:` (its first line) to the end. */
function summaryOf(output: string): string[] {
  const lines = output.trimEnd().split('\n');
  return lines.slice(lines.findIndex((l) => l.startsWith('connection rebuilds:')));
}

describe('reports: where the time went, in the closing summary', function () {
  let skewed: Fixture;
  let quick: Fixture;
  let run: CliResult;
  let quiet: CliResult;
  let record: RunRecord;
  let quietRecord: RunRecord;

  before(async function () {
    skewed = fixture(SKEWED);
    quick = fixture(QUICK);
    // One after the other: both take the default target, which holds one run at a time.
    run = await runCli(['-w', '3', '--timeout', '20000'], { cwd: skewed.dir });
    record = loadRecord(skewed.dir);
    quiet = await runCli(['-w', '2', '--timeout', '20000'], { cwd: quick.dir });
    quietRecord = loadRecord(quick.dir);
  });

  after(function () {
    skewed.remove();
    quick.remove();
  });

  it('the run passes and its closing line is still the last line', function () {
    expect(run.code, run.output).to.equal(0);
    expect(closingLine(run.output)).to.deep.equal({ passed: 4, failed: 0, skipped: 0 });
    expect(summaryOf(run.stdout).at(-1)).to.equal('4 passed, 0 failed');
    expect(record.cpus).to.equal(availableParallelism());
  });

  it('names the long file first among the slowest files, and its test first among the slowest tests', function () {
    const lines = summaryOf(run.stdout);
    const files = lines.find((l) => l.startsWith('slowest files: '));
    expect(files, run.stdout).to.match(/^slowest files: test\/big\.spec\.js (\d+\.\d+) s, test\/s\d\.spec\.js \d\.\d\d s, test\/s\d\.spec\.js \d\.\d\d s, test\/s\d\.spec\.js \d\.\d\d s$/);
    expect(Number(/big\.spec\.js (\d+\.\d+) s/.exec(files ?? '')?.[1])).to.be.at.least(3);
    const tests = lines.slice(lines.indexOf('slowest tests:') + 1, lines.indexOf('slowest tests:') + 5);
    expect(tests[0], run.stdout).to.match(/^ {2}3\.\d\d s test\/big\.spec\.js: big big waits$/);
    for (const t of tests.slice(1)) expect(t).to.match(/^ {2}0\.\d\d s test\/s\d\.spec\.js: s\d s\d waits$/);
  });

  it('the time line: the idle share the record shows, and -w 2, bounded by the long file', function () {
    const line = summaryOf(run.stdout).find((l) => l.startsWith('time: '));
    const m = /^time: (\d+\.\d+) s on 3 workers, (\d+)% of it idle; suggested -w (\d+) \(about (\d+\.\d+) s; about \d+\.\d+ s with 3\): (.*)$/.exec(line ?? '');
    expect(m, run.stdout).to.not.equal(null);
    // The same share, computed here from the record: the files' spans against 3 lanes × the test phase.
    const spans = record.slots.flatMap((s) => s.files.map((f) => [f.start, f.end as number]));
    const wall = Math.max(...spans.map((s) => s[1] as number)) - Math.min(...spans.map((s) => s[0] as number));
    const busy = spans.reduce((n, [a, b]) => n + ((b as number) - (a as number)), 0);
    expect(Number(m?.[2])).to.be.closeTo(100 * (1 - busy / (3 * wall)), 1);
    expect(Number(m?.[1])).to.be.closeTo(wall / 1000, 0.01);
    // The long file alone takes 3 s; the three short ones fit beside it on one more worker. One worker would take
    // the sum, more than 10% over; a third buys nothing. A one-CPU machine caps the suggestion at 1.
    if (availableParallelism() >= 2) {
      expect(m?.[3]).to.equal('2');
      expect(m?.[5]).to.match(/^the longest file, test\/big\.spec\.js \d\.\d\d s, bounds the run$/);
      expect(Number(m?.[4])).to.be.at.least(3).and.below(wall / 1000 + 0.5);
    } else {
      expect(m?.[3]).to.equal('1');
    }
  });

  it('a run of a fraction of a second prints none of it (the quiet rule is a second of tests)', function () {
    expect(quiet.code, quiet.output).to.equal(0);
    const spans = quietRecord.slots.flatMap((s) => s.files.map((f) => [f.start, f.end as number]));
    const wall = Math.max(...spans.map((s) => s[1] as number)) - Math.min(...spans.map((s) => s[0] as number));
    const lines = summaryOf(quiet.stdout);
    // Quiet below a second; a machine so loaded that two empty files took longer must print the lines instead.
    expect(lines.some((l) => /^(slowest files: |slowest tests:|time: )/.test(l)), quiet.stdout).to.equal(wall >= 1000);
    expect(lines.at(-1)).to.equal('2 passed, 0 failed');
  });
});
