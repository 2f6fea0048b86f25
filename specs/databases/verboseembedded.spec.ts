// --verbose with the embedded server (issue 9, defect 8): the server's log and initdb's transcript go to a file whose
// path is printed, never between the reporter's lines; the phase times add up to the total; under NO_COLOR (with
// FORCE_COLOR set too) neither bulkhead's lines nor mocha's carry a colour code. One run: the embedded server is slow
// to start, and a fresh fixture's empty cluster cache makes it run initdb as well.
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const SPEC = (n: number): string => `import { db } from 'bulkhead';
describe('f${n}', () => { it('queries', async () => { await (await db()).query('SELECT ${n}'); }); });
`;

/** Lines only the server or initdb write: a log line's severity, initdb's banner and its closing advice. */
const SERVER_LINE = /\b(LOG|FATAL|WARNING|DEBUG\d?|STATEMENT):\s|The files belonging to this database system|initdb|Success\. You can now start|pg_ctl/;

describe('databases: --verbose --embedded keeps the server log out of the output', function () {
  let r: CliResult;
  let logFile: string | null = null;
  let log = '';
  before(async function () {
    const fx = fixture({ 'test/a.spec.js': SPEC(1), 'test/b.spec.js': SPEC(2) });
    chmodSync(fx.dir, 0o755);
    try {
      r = await runCli(['--embedded', '--verbose', '-w', '2', 'test/*.spec.js'], {
        cwd: fx.dir,
        cleanEnv: true,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', FORCE_COLOR: '1' },
      });
      logFile = /^bulkhead: the embedded server's log and initdb's transcript: (.+)$/m.exec(r.stdout)?.[1] ?? null;
      if (logFile !== null && existsSync(logFile)) log = readFileSync(logFile, 'utf8');
    } finally {
      fx.remove();
    }
  });

  it('runs green and names the log file, in the project\'s .bulkhead folder', function () {
    expect(r.code, r.output).to.equal(0);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    expect(logFile, r.output).to.be.a('string');
    expect(path.basename(logFile ?? ''), r.output).to.equal('embedded-server.log');
  });

  it('the file has the server\'s log and initdb\'s transcript; stdout and stderr have none of it', function () {
    expect(log, log).to.match(/database system is ready to accept connections/);
    expect(log, log).to.match(/The files belonging to this database system/);
    const leaked = r.output.split('\n').filter((line) => SERVER_LINE.test(line) && !line.startsWith("bulkhead: the embedded server's log"));
    expect(leaked, r.output).to.deep.equal([]);
  });

  it('the phases add up to the total, within rounding', function () {
    const m = /^bulkhead: phases: startup (\d+) ms, provisioning (\d+) ms, dispatch (\d+) ms \(to the first test\), tests (\d+) ms, teardown (\d+) ms$/m.exec(r.output);
    const total = /^bulkhead: run \d+ ms, total (\d+) ms$/m.exec(r.output);
    expect(m, r.output).to.not.equal(null);
    expect(total, r.output).to.not.equal(null);
    const sum = (m?.slice(1) ?? []).map(Number).reduce((a, b) => a + b, 0);
    // Five values rounded on their own: the sum is within 3 ms of the rounded total.
    expect(Math.abs(sum - Number(total?.[1])), r.output).to.be.at.most(3);
    // The embedded server started before provisioning: startup holds it, so it is the longest phase here.
    expect(Number(m?.[1]), r.output).to.be.greaterThan(Number(m?.[4]));
  });

  it('NO_COLOR holds over FORCE_COLOR for bulkhead\'s lines and the reporter\'s: no escape code anywhere', function () {
    // eslint-disable-next-line no-control-regex
    expect(r.output, JSON.stringify(r.output)).to.not.match(/\u001b\[/);
  });
});
