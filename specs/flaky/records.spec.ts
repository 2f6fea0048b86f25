// The run record: a corrupt record or one from a newer bulkhead is refused with a clear error and exit code 2;
// --last-failed reruns only what failed; --record writes a second copy; no password is ever written.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { LAST_RUN, loadRecord, scratchSet, testsOf } from './lastrun.js';
import { createTarget } from '../databases/support.js';
import type { RunRecord } from '../../src/plan/record.js';

const PASSWORD = 's3cret';
let secretPassword = PASSWORD;

const VALID = {
  format: 'bulkhead-run',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  versions: {},
  config: {},
  seed: null,
  workers: 1,
  target: '127.0.0.1:5432/test as postgres',
  slots: [{ slot: 1, files: [{ file: 'test/a.spec.js', key: 'test/a.spec.js', round: 0, start: 0, end: 1, tests: [], failures: [] }] }],
  rebuilds: [],
  chaos: [],
  outcome: { passed: 0, failed: 0, skipped: 0, notRun: 0, flaky: 0, interrupted: false },
};
const BAD_RECORDS = {
  'test/a.spec.js': "it('passes', () => {});\n",
  'records/truncated.json': JSON.stringify(VALID, null, 1).slice(0, 200),
  'records/newer.json': JSON.stringify({ ...VALID, version: 2 }),
};

// Two failures that go away once FIXED is set, among tests that always pass.
const LAST_FAILED = {
  'test/a.spec.js': `describe('a', function () {
  it('passes', function () {});
  it('fails until fixed', function () { if (!process.env.FIXED) throw new Error('not fixed'); });
  it('passes too', function () {});
});
`,
  'test/b.spec.js': `describe('b', function () {
  it('fails until fixed', function () { if (!process.env.FIXED) throw new Error('not fixed'); });
  it('passes', function () {});
});
`,
  'test/c.spec.js': `describe('c', function () { it('passes', function () {}); });\n`,
};
const FAILING = ['a fails until fixed', 'b fails until fixed'];

// The password reaches a test through DATABASE_URL, and from there an error message, an assertion's actual value
// and a server error (which the summary's rebuild line quotes).
const PASSWORDS = {
  'test/a.spec.js': `import { db } from 'bulkhead';
import { expect } from 'chai';
describe('secrets', function () {
  it('passes', async function () { await (await db()).query('SELECT 1'); });
  it('names the url in its error', function () { throw new Error('could not use ' + process.env.DATABASE_URL); });
  it('compares the url', function () { expect({ url: process.env.DATABASE_URL }).to.deep.equal({ url: 'elsewhere' }); });
  it('sends the url to the server', async function () { await (await db()).query('SELECT $1::int', [process.env.DATABASE_URL]); });
  it('compares the bare password', function () { expect(decodeURIComponent(new URL(process.env.DATABASE_URL).password)).to.equal('elsewhere'); });
  it('puts it in JSON and in an encoded URL', function () {
    const password = decodeURIComponent(new URL(process.env.DATABASE_URL).password);
    throw new Error(JSON.stringify({ password }) + ' ' + encodeURIComponent(process.env.DATABASE_URL));
  });
  it('prints the url', function () { console.log('PRINTED ' + process.env.DATABASE_URL); });
});
`,
  'test/b.spec.js': "describe('others', function () { it('pass', function () {}); });\n",
};

describe('records: bad records, --last-failed, --record and passwords', function () {
  const dbs = scratchSet('records', 3);
  const bad: Record<string, CliResult> = {};
  const lastFailed: { r: CliResult; record: RunRecord }[] = [];
  let firstRecord: string;
  let copy: string;
  let secret: { r: CliResult; record: string; copy: string };

  before(async function () {
    const url = (i: number): string => dbs()[i]?.url ?? '';
    const withPassword = new URL(url(2));
    // A server with trust auth ignores the password, so a made-up one is used; a server that checks passwords
    // (the embedded one the suite falls back to) has a real one in the URL already, and that must not leak either.
    if (withPassword.password === '') withPassword.password = PASSWORD;
    secretPassword = decodeURIComponent(withPassword.password);
    let fxBad: Fixture | undefined;
    let fxLast: Fixture | undefined;
    let fxSecret: Fixture | undefined;
    try {
      fxBad = fixture(BAD_RECORDS);
      fxLast = fixture(LAST_FAILED);
      fxSecret = fixture(PASSWORDS);
      const badDir = fxBad.dir;
      const lastDir = fxLast.dir;
      const secretDir = fxSecret.dir;
      const badRuns = Object.entries({
        replayTruncated: ['replay', 'records/truncated.json'],
        replayNewer: ['replay', 'records/newer.json'],
        bisectTruncated: ['bisect', 'records/truncated.json', '--test', 'passes'],
        bisectNewer: ['bisect', 'records/newer.json', '--test', 'passes'],
      }).map(async ([name, args]) => {
        bad[name] = await runCli(args, { cwd: badDir, env: { DATABASE_URL: url(0) } });
      });
      const lastFailedRuns = (async () => {
        const steps: { args: string[]; env?: NodeJS.ProcessEnv }[] = [
          { args: ['--record', 'copies/first.json'] },
          { args: ['--last-failed'] },
          { args: ['--last-failed'], env: { FIXED: '1' } },
          { args: ['--last-failed'] },
        ];
        for (const [i, step] of steps.entries()) {
          const r = await runCli(['-w', '2', '--timeout', '10000', ...step.args], { cwd: lastDir, env: { DATABASE_URL: url(1), ...step.env } });
          lastFailed.push({ r, record: loadRecord(lastDir) });
          if (i === 0) {
            firstRecord = readFileSync(path.join(lastDir, LAST_RUN), 'utf8');
            copy = readFileSync(path.join(lastDir, 'copies', 'first.json'), 'utf8');
          }
        }
      })();
      const secretRun = (async () => {
        const r = await runCli(['-w', '2', '--timeout', '10000', '--record', 'copy.json'], { cwd: secretDir, env: { DATABASE_URL: withPassword.href } });
        secret = { r, record: readFileSync(path.join(secretDir, LAST_RUN), 'utf8'), copy: readFileSync(path.join(secretDir, 'copy.json'), 'utf8') };
      })();
      await Promise.all([...badRuns, lastFailedRuns, secretRun]);
    } finally {
      fxBad?.remove();
      fxLast?.remove();
      fxSecret?.remove();
    }
  });

  function badRun(name: string): CliResult {
    const r = bad[name];
    if (r === undefined) throw new Error(`the run "${name}" did not happen`);
    return r;
  }

  /** Exit 2 with one paragraph on stderr that names the record and says what to do; nothing ran. */
  function expectRefused(r: CliResult, file: string, says: RegExp): void {
    expect(r.code, r.output).to.equal(2);
    const message = r.stderr.trim();
    expect(message).to.match(/^bulkhead: The run record \S+ /);
    expect(message).to.include(file);
    expect(message, 'one paragraph').to.not.match(/\n/);
    expect(message).to.match(says);
    expect(r.stdout).to.equal('');
  }

  it('refuses a truncated record with exit code 2, for replay and for bisect', function () {
    const says = /is not valid JSON \(it may be truncated or corrupt\); run the suite again to write a fresh one\.$/;
    expectRefused(badRun('replayTruncated'), path.join('records', 'truncated.json'), says);
    expectRefused(badRun('bisectTruncated'), path.join('records', 'truncated.json'), says);
  });

  it('refuses a record with a newer format version with exit code 2, for replay and for bisect', function () {
    const says = /has format version 2, newer than this bulkhead understands \(1\); upgrade bulkhead to read it\.$/;
    expectRefused(badRun('replayNewer'), path.join('records', 'newer.json'), says);
    expectRefused(badRun('bisectNewer'), path.join('records', 'newer.json'), says);
  });

  it('--record writes a second copy of the run record', function () {
    expect(JSON.parse(copy)).to.have.property('format', 'bulkhead-run');
    expect(copy).to.equal(firstRecord);
  });

  it('--last-failed runs only the tests that failed in the last run', function () {
    const [first, second] = lastFailed;
    expect(first?.r.code).to.equal(1);
    expect(testsOf(first?.record as RunRecord).filter((t) => t.state === 'failed').map((t) => t.title).sort()).to.deep.equal(FAILING);
    expect(second?.r.code, second?.r.output).to.equal(1);
    expect(specOutcomes(second?.r.output ?? '')).to.deep.equal({ passed: [], failed: ['fails until fixed', 'fails until fixed'] });
    expect(testsOf(second?.record as RunRecord).map((t) => [t.title, t.state]).sort()).to.deep.equal(FAILING.map((t) => [t, 'failed']));
  });

  it('--last-failed after the failures are fixed runs them alone and passes; then there is nothing to run', function () {
    const [, , fixed, nothing] = lastFailed;
    expect(fixed?.r.code, fixed?.r.output).to.equal(0);
    expect(testsOf(fixed?.record as RunRecord).map((t) => [t.title, t.state]).sort()).to.deep.equal(FAILING.map((t) => [t, 'passed']));
    expect(nothing?.r.code, nothing?.r.output).to.equal(0);
    expect(nothing?.r.output).to.include('bulkhead: the last run had no failures: nothing to run');
    expect(nothing?.r.output).to.match(/^0 passed, 0 failed$/m);
  });

  it('writes no password into the record or its copy, though the tests put it in their errors', function () {
    expect(secret.r.code, secret.r.output).to.equal(1);
    for (const text of [secret.record, secret.copy]) {
      expect(text).to.not.include(secretPassword);
      // The failures did carry the URL: masked in the message, the assertion's actual value and the server error.
      expect(text).to.match(/could not use postgres:\/\/postgres:\*\*\*@/);
      expect(text).to.match(/"actual": "[^\n]*postgres:\/\/postgres:\*\*\*@/);
      expect(text).to.match(/invalid input syntax for type integer: \\"postgres:\/\/postgres:\*\*\*@/);
    }
  });

  it('prints no password either, in any form: bare, in JSON, URL-encoded, or in what a test prints', function () {
    expect(secret.r.output).to.include('could not use postgres://postgres:***@');
    expect(secret.r.output).to.match(/^PRINTED postgres:\/\/postgres:\*\*\*@/m);
    expect(secret.r.output).to.include('{"password":"***"}');
    expect(secret.r.output).to.not.include(secretPassword);
    expect(secret.r.output).to.not.include(encodeURIComponent(secretPassword));
  });
});

// The recorded run was given its spec files on the command line, in a folder mocha's default (./test) does not
// cover: replay, bisect and --last-failed take the files from the record, not from the spec configuration.
describe('records: the files come from the record', function () {
  const FILES = {
    'checks/a.spec.js': `describe('a', function () {
  it('a1 sets the mark', function () { globalThis.mark = true; });
  it('a2 passes', function () {});
});
`,
    'checks/b.spec.js': `describe('b', function () {
  it('b1 fails after the mark', function () { if (globalThis.mark === true) throw new Error('marked'); });
});
`,
  };
  let runs: { first: CliResult; replay: CliResult; lastFailed: CliResult; bisect: CliResult } | null = null;

  before(async function () {
    const fx = fixture(FILES);
    try {
      const first = await runCli(['-w', '1', '--isolation', 'shared', 'checks/a.spec.js', 'checks/b.spec.js'], { cwd: fx.dir });
      const record = path.join('records', 'first.json');
      fx.write(record, readFileSync(path.join(fx.dir, LAST_RUN), 'utf8'));
      const replay = await runCli(['replay', record, '--isolation', 'shared'], { cwd: fx.dir });
      const bisect = await runCli(['bisect', record, '--test', 'b b1 fails after the mark', '--isolation', 'shared'], { cwd: fx.dir });
      fx.write(LAST_RUN, readFileSync(path.join(fx.dir, record), 'utf8'));
      const lastFailed = await runCli(['--last-failed', '--isolation', 'shared'], { cwd: fx.dir });
      runs = { first, replay, lastFailed, bisect };
    } finally {
      fx.remove();
    }
  });

  it('replay runs the recorded files and reproduces the failure', function () {
    expect(runs?.first.code, runs?.first.output).to.equal(1);
    expect(runs?.replay.code, runs?.replay.output).to.equal(1);
    expect(runs?.replay.output).to.include('replay: 3 of 3 outcomes reproduced');
  });

  it('bisect finds the culprit in the recorded files', function () {
    const out = runs?.bisect.output ?? '';
    expect(out, out).to.include('the test fails when this test runs before it on the same worker:\n  a a1 sets the mark  (checks/a.spec.js)\nreproduce:');
  });

  it('--last-failed runs the failed test of the recorded file alone, and it passes', function () {
    expect(runs?.lastFailed.code, runs?.lastFailed.output).to.equal(0);
    expect(specOutcomes(runs?.lastFailed.output ?? '')).to.deep.equal({ passed: ['b1 fails after the mark'], failed: [] });
  });
});

describe('records: a runaway error is bounded', function () {
  it('keeps the start of a 2 MB message and leaves out a 100,000-key object, so the record stays small', async function () {
    const fx = fixture({
      'test/a.spec.js': `describe('huge', function () {
  it('throws a long message', function () { throw new Error('x'.repeat(2 * 1024 * 1024)); });
  it('throws a wide object', function () { const e = new Error('wide'); for (let i = 0; i < 100000; i++) e['k' + i] = i; throw e; });
});
`,
    });
    try {
      const r = await runCli(['-w', '1', '--isolation', 'shared', '--reporter', 'dot'], { cwd: fx.dir });
      expect(r.code).to.equal(1);
      const text = readFileSync(path.join(fx.dir, LAST_RUN), 'utf8');
      expect(text.length).to.be.below(200 * 1024);
      expect(text).to.match(/x… \[\d+ more characters\]/);
      expect(text).to.include('100000 properties');
      expect(testsOf(loadRecord(fx.dir)).map((t) => t.state)).to.deep.equal(['failed', 'failed']);
    } finally {
      fx.remove();
    }
  });
});

// The recorded run built its slots from a setup: replay and bisect build theirs from it too, unless told otherwise.
describe('records: replay and bisect keep the recorded setup', function () {
  const FILES = {
    'setup.sql': 'CREATE TABLE kv (k text PRIMARY KEY);\n',
    'test/a.spec.js': `import { db } from 'bulkhead';
describe('a', function () { it('a1 writes a row', async function () { await (await db()).query("INSERT INTO kv VALUES ('a1')"); }); });
`,
    'test/b.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('b', function () { it('b1 expects no rows', async function () { expect((await (await db()).query('SELECT k FROM kv')).rows).to.deep.equal([]); }); });
`,
  };

  it('replay reproduces every outcome and bisect names the culprit, with no --setup given again', async function () {
    const target = await createTarget('recsetup');
    const fx = fixture(FILES);
    try {
      const env = { DATABASE_URL: target.url };
      const first = await runCli(['-w', '1', '--isolation', 'database', '--setup', 'setup.sql'], { cwd: fx.dir, env });
      expect(first.code, first.output).to.equal(1);
      fx.write('records/first.json', readFileSync(path.join(fx.dir, LAST_RUN), 'utf8'));
      const replay = await runCli(['replay', 'records/first.json'], { cwd: fx.dir, env });
      expect(replay.output).to.include('replay: 2 of 2 outcomes reproduced');
      expect(replay.output).to.not.include('42P01');
      const bisect = await runCli(['bisect', 'records/first.json', '--test', 'b b1 expects no rows'], { cwd: fx.dir, env });
      expect(bisect.output, bisect.output).to.include('the test fails when this test runs before it on the same worker:\n  a a1 writes a row  (test/a.spec.js)');
    } finally {
      fx.remove();
      await target.drop();
    }
  });
});
