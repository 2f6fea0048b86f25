// What replay and the summary say about flaky outcomes: replay lists only the outcomes that differ, grouped with
// counts; a test that failed and passed on its retry (a fresh connection) is named with its likely cause and a
// bisect command that, pasted, finds the test that left the session dirty; a --chaos run that hit nothing says so.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const SPECS = {
  // MODE decides two outcomes, so a replay under another MODE differs on exactly those two.
  'test/a.spec.js': `import { expect } from 'chai';
describe('a', function () {
  it('always passes', function () {});
  it('fails in the first mode', function () { expect(process.env.MODE).to.not.equal('first'); });
  it('fails in the second mode', function () { expect(process.env.MODE).to.not.equal('second'); });
  it('always fails', function () { throw new Error('always'); });
});
`,
  // "b sets" leaves a session setting on the worker's connection; "b reads" fails on such a session and passes
  // on its retry, which gets a fresh connection.
  'test/b.spec.js': `import { db } from 'bulkhead';
describe('b', function () {
  it('sets a session setting', async function () { await (await db()).query("SET app.flag = 'dirty'"); });
  it('passes between them', function () {});
  it('reads a clean session', async function () {
    this.retries(1);
    const { rows } = await (await db()).query("SELECT current_setting('app.flag', true) AS flag");
    if (rows[0].flag === 'dirty') throw new Error('the session was left dirty');
  });
});
`,
};

describe('replay lists what differs; a flaky test names its cure and its bisect command', function () {
  this.timeout(180_000);
  let fx: Fixture;
  let chaosFx: Fixture;
  let first: CliResult;
  let bisect: CliResult;
  let replay: CliResult;
  let chaos: CliResult;
  let command: string[];

  before(async function () {
    fx = fixture(SPECS);
    chaosFx = fixture({ 'test/c.spec.js': "describe('c', function () { it('never queries', function () {}); });\n" });
    first = await runCli(['-w', '1', '--isolation', 'shared'], { cwd: fx.dir, env: { MODE: 'first' } });
    copyFileSync(path.join(fx.dir, '.bulkhead', 'last-run.json'), path.join(fx.dir, 'first.json'));
    // The command exactly as the summary prints it (one single-quoted title).
    const m = /^ {4}bulkhead bisect (\S+) --test '([^']+)'$/m.exec(first.output);
    command = m === null ? [] : ['bisect', m[1] ?? '', '--test', m[2] ?? ''];
    [bisect, chaos] = await Promise.all([
      runCli([...command, '--isolation', 'shared'], { cwd: fx.dir }),
      runCli(['-w', '1', '--isolation', 'shared', '--chaos', 'terminate=0.5,seed=1'], { cwd: chaosFx.dir }),
    ]);
    replay = await runCli(['replay', 'first.json'], { cwd: fx.dir, env: { MODE: 'second' } });
  });

  after(function () {
    fx.remove();
    chaosFx.remove();
  });

  it('the flaky test is named with its cause and a ready-to-paste bisect command', function () {
    expect(first.code, first.output).to.equal(1);
    expect(first.output).to.include('flaky: 1\n  test/b.spec.js: b reads a clean session (passed on attempt 2)\n');
    expect(first.output).to.match(/^ {2}a fresh connection cured it: each retry runs on a new connection, so the failing attempt most likely met session state an earlier test left .*; to find that test:$/m);
    expect(command).to.deep.equal(['bisect', '.bulkhead/last-run.json', '--test', 'b reads a clean session']);
  });

  it('the pasted bisect command names the test that left the session dirty', function () {
    expect(bisect.code, bisect.output).to.equal(0);
    expect(bisect.output).to.match(/^ {2}b sets a session setting {2}\(test\/b\.spec\.js\)$/m);
    expect(bisect.output).to.not.match(/^ {2}b passes between them /m);
  });

  it('replay lists only the outcomes that differ, grouped with counts', function () {
    expect(replay.code, replay.output).to.equal(1);
    const tail = replay.output.slice(replay.output.indexOf('\nreplay: ') + 1);
    expect(tail.split('\n').slice(0, 5)).to.deep.equal([
      'replay: 5 of 7 outcomes reproduced; 2 differ:',
      '  recorded failed, now passed: 1',
      '    test/a.spec.js: a fails in the first mode',
      '  recorded passed, now failed: 1',
      '    test/a.spec.js: a fails in the second mode',
    ]);
    expect(replay.output, 'a reproduced outcome is not listed').to.not.match(/^ {4}test\/a\.spec\.js: a always/m);
  });

  it('a --chaos run that injected no fault says so', function () {
    expect(chaos.code, chaos.output).to.equal(0);
    expect(chaos.output).to.match(/^injected faults: 0 \(--chaos hit nothing: .*\)$/m);
  });
});
