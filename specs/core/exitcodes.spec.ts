// Exit codes: 0 all passed, 1 a failure, 2 bad usage (a clear message, nothing run), 3 the database cannot be
// reached (host, port, database and user named; the password never shown).
import { expect } from 'chai';
import { runProjects } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { expectUsage } from '../helpers/output.js';

const PASSING = { 'test/a.spec.js': "it('passes', () => {});\n" };
const FAILING = { 'test/a.spec.js': "it('passes', () => {});\nit('fails', () => { throw new Error('boom'); });\n" };
const PASSWORD = 's3cret';
// A closed port: nothing listens on 1, so the connection is refused at once.
const UNREACHABLE = { DATABASE_URL: `postgres://bob:${PASSWORD}@127.0.0.1:1/nowhere_db` };
const UNREACHABLE_PG = { DATABASE_URL: '', PGHOST: '127.0.0.1', PGPORT: '1', PGDATABASE: 'nowhere_db', PGUSER: 'bob', PGPASSWORD: PASSWORD };

const RUNS: Record<string, { files: Record<string, string>; args: string[]; env?: NodeJS.ProcessEnv }> = {
  allPass: { files: PASSING, args: ['-w', '1'] },
  oneFails: { files: FAILING, args: ['-w', '1'] },
  badWorkers: { files: PASSING, args: ['-w', 'many'] },
  unknownConfigKey: { files: { ...PASSING, 'bulkhead.config.json': '{ "workerz": 2 }\n' }, args: ['-w', '1'] },
  hookNotAFunction: { files: { ...PASSING, 'bulkhead.config.json': '{ "onConnect": 1 }\n' }, args: ['-w', '1'] },
  unknownReporter: { files: PASSING, args: ['-w', '1', '--reporter', 'no-such-reporter'] },
  unknownFlag: { files: PASSING, args: ['-w', '1', '--no-such-flag'] },
  missingSpec: { files: PASSING, args: ['-w', '1', 'test/missing.spec.js'] },
  closedPort: { files: PASSING, args: ['-w', '1'], env: UNREACHABLE },
  closedPortPg: { files: PASSING, args: ['-w', '1'], env: UNREACHABLE_PG },
};

describe('exitcodes: the exit status and its message', function () {
  let result: (name: keyof typeof RUNS) => CliResult;

  before(async function () {
    result = await runProjects(RUNS);
  });


  it('0 when every test passed', function () {
    expect(result('allPass').code, result('allPass').output).to.equal(0);
  });

  it('1 when a test failed', function () {
    expect(result('oneFails').code, result('oneFails').output).to.equal(1);
  });

  it('2 for a bad flag value, with a message naming the flag', function () {
    expectUsage(result('badWorkers'), /--workers/);
  });

  it('2 for a misspelt key in bulkhead.config.*, naming it, the nearest key and every key', function () {
    expectUsage(result('unknownConfigKey'), /"workerz": there is no such key in bulkhead\.config\.json\. Did you mean workers\? The keys are: workers, /);
  });

  it('2 for a hook in bulkhead.config.* that is not a function', function () {
    expectUsage(result('hookNotAFunction'), /"onConnect": it must be a function/);
  });

  it('2 for an unknown reporter, with a message naming it', function () {
    expectUsage(result('unknownReporter'), /no-such-reporter/);
  });

  it('2 for an unknown flag, with a message naming the flag', function () {
    expectUsage(result('unknownFlag'), /--no-such-flag/);
  });

  it('2 for a spec file that does not exist, with a message naming it', function () {
    expectUsage(result('missingSpec'), /test\/missing\.spec\.js/);
  });

  for (const [name, source] of [['closedPort', 'DATABASE_URL'], ['closedPortPg', 'the PG* variables']] as const) {
    it(`3 when the database cannot be reached (${source}), naming host, port, database and user, never the password`, function () {
      const r = result(name);
      expect(r.code, r.output).to.equal(3);
      for (const part of [/127\.0\.0\.1/, /(?::|port )1\b/, /\bnowhere_db\b/, /\bbob\b/]) expect(r.stderr, r.stderr).to.match(part);
      expect(r.stdout + r.stderr).to.not.include(PASSWORD);
    });
  }
});
