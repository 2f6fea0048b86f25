// Repeating: --until-fail repeats the whole selection until a round fails and keeps that round's record;
// --until-fail=N stops after N passing rounds; --repeat N runs each test N times.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { loadRecord, scratchSet, testsOf } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

// Fails one time in five, deterministically: a counter file makes every fifth round (5, 10, ...) fail.
const ONE_IN_FIVE = {
  'test/counter.spec.js': `import { existsSync, readFileSync, writeFileSync } from 'node:fs';
describe('counter', function () {
  it('fails every fifth round', function () {
    const round = (existsSync('rounds.txt') ? Number(readFileSync('rounds.txt', 'utf8')) : 0) + 1;
    writeFileSync('rounds.txt', String(round));
    if (round % 5 === 0) throw new Error('round ' + round + ' fails');
  });
  it('always passes', function () {});
});
`,
};

// Each test announces itself, so the runs can be counted in the output.
const ALWAYS = {
  'test/a.spec.js': `import { db } from 'bulkhead';
describe('alpha', function () {
  it('one', async function () { await (await db()).query('SELECT 1'); console.log('RAN alpha one'); });
  it('two', function () { console.log('RAN alpha two'); });
});
`,
  'test/b.spec.js': `describe('beta', function () { it('three', function () { console.log('RAN beta three'); }); });\n`,
};

function count(output: string, line: string): number {
  return output.split('\n').filter((l) => l === line).length;
}

describe('untilfail: --until-fail and --repeat', function () {
  const dbs = scratchSet('untilfail', 3);
  const runs: Record<string, { r: CliResult; record: RunRecord; rounds: string }> = {};

  before(async function () {
    const cases: Record<string, { files: Record<string, string>; args: string[] }> = {
      untilFail: { files: ONE_IN_FIVE, args: ['-w', '1', '--until-fail'] },
      capped: { files: ALWAYS, args: ['-w', '2', '--until-fail=3'] },
      repeat: { files: ALWAYS, args: ['-w', '2', '--repeat', '3'] },
    };
    await Promise.all(
      Object.entries(cases).map(async ([name, c], i) => {
        const fx = fixture(c.files);
        try {
          const r = await runCli([...c.args, '--reporter', 'spec', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: dbs()[i]?.url } });
          const counter = path.join(fx.dir, 'rounds.txt');
          const rounds = existsSync(counter) ? readFileSync(counter, 'utf8') : '';
          runs[name] = { r, record: loadRecord(fx.dir), rounds };
        } finally {
          fx.remove();
        }
      }),
    );
  });

  function run(name: string): { r: CliResult; record: RunRecord; rounds: string } {
    const found = runs[name];
    if (found === undefined) throw new Error(`the run "${name}" did not happen`);
    return found;
  }

  it('--until-fail stops on the round that fails, the fifth, and exits 1', function () {
    const { r, rounds } = run('untilFail');
    expect(r.code, r.output).to.equal(1);
    const announced = [...r.output.matchAll(/^bulkhead: --until-fail round (\d+) of at most (\d+)$/gm)].map((m) => `${m[1]}/${m[2]}`);
    expect(announced).to.deep.equal(['1/100', '2/100', '3/100', '4/100', '5/100']);
    expect(rounds, 'rounds the fixture counted').to.equal('5');
    expect(r.output).to.include('Error: round 5 fails');
  });

  it('--until-fail keeps the record of the failing round', function () {
    const { record } = run('untilFail');
    const tests = testsOf(record);
    expect(tests.map((t) => [t.title, t.state])).to.deep.equal([
      ['counter fails every fifth round', 'failed'],
      ['counter always passes', 'passed'],
    ]);
    expect(tests[0]?.message).to.equal('round 5 fails');
    expect(record.outcome).to.include({ passed: 1, failed: 1 });
  });

  it('--until-fail=3 stops after three passing rounds with exit code 0', function () {
    const { r, record } = run('capped');
    expect(r.code, r.output).to.equal(0);
    const announced = [...r.output.matchAll(/^bulkhead: --until-fail round (\d+) of at most 3$/gm)].map((m) => m[1]);
    expect(announced).to.deep.equal(['1', '2', '3']);
    for (const test of ['alpha one', 'alpha two', 'beta three']) expect(count(r.output, `RAN ${test}`), test).to.equal(3);
    expect(r.output.match(/^3 passed, 0 failed$/gm)).to.have.length(3);
    // Each round's summary closes that round: it comes before the next round's first line.
    const order = [...r.stdout.matchAll(/^(bulkhead: --until-fail round \d|3 passed, 0 failed)/gm)].map((m) => m[1]);
    expect(order, r.stdout).to.deep.equal(['bulkhead: --until-fail round 1', '3 passed, 0 failed', 'bulkhead: --until-fail round 2', '3 passed, 0 failed', 'bulkhead: --until-fail round 3', '3 passed, 0 failed']);
    expect(record.outcome).to.include({ passed: 3, failed: 0 });
  });

  it('--repeat 3 runs each test three times, each run recorded with its round', function () {
    const { r, record } = run('repeat');
    expect(r.code, r.output).to.equal(0);
    for (const test of ['alpha one', 'alpha two', 'beta three']) expect(count(r.output, `RAN ${test}`), test).to.equal(3);
    expect(closingLine(r.output)).to.deep.equal({ passed: 9, failed: 0, skipped: 0 });
    const runsOf = (title: string): number[] => testsOf(record).filter((t) => t.title === title && t.state === 'passed').map((t) => t.round).sort();
    expect(runsOf('alpha one')).to.deep.equal([0, 1, 2]);
    expect(runsOf('alpha two')).to.deep.equal([0, 1, 2]);
    expect(runsOf('beta three')).to.deep.equal([0, 1, 2]);
  });
});
