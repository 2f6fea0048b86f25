// Defect 5 of issue 10: a server restart must not burn the queue. In a 60-test run on two workers one test stops
// the server and has it started again a moment later; meanwhile both workers keep asking db() for connections.
// Only a test that was in the middle of a query when the server went fails, with the server's own cause; every
// test that asked for a connection while the server was away waits for it (said once) and runs against the
// restarted server; nothing is left or abandoned.
import { expect } from 'chai';
import { CTL_JS } from '../helpers/cluster.js';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

/** Ten tests per file, each a short query on db() and a check of what it wrote, as a real suite's would be. */
function suite(name: string, extra = ''): string {
  return `import { expect } from 'chai';
import { db } from 'bulkhead';
${extra === '' ? '' : "import { stop, restarted } from './restart.js';\n"}describe('${name}', function () {
  before(async function () {
    await (await db()).query('CREATE TABLE IF NOT EXISTS marks_${name} (n int)');
  });
  for (let n = 1; n <= 10; n++) {
    it('test ' + n, async function () {
${extra === '' ? '' : `      if (n === 3) { stop(); return; }\n      if (n === 10) await restarted();\n`}      const c = await db();
      await c.query('INSERT INTO marks_${name} SELECT $1 FROM pg_sleep(0.02)', [n]);
      expect((await c.query('SELECT count(*)::int AS k FROM marks_${name} WHERE n = $1', [n])).rows[0].k).to.equal(1);
    });
  }
});
`;
}

const FILES = {
  'test/ctl.js': CTL_JS,
  // Stops the server (synchronously: the test's own connection goes with it) and starts it again 300 ms later,
  // from a child process, while the workers go on.
  'test/restart.js': `import { execFile } from 'node:child_process';
import { ctl } from './ctl.js';
let started = Promise.resolve();
export function stop() {
  ctl(process.env.STOP);
  console.log('STOPPED');
  started = new Promise((resolve, reject) => setTimeout(() => {
    const c = JSON.parse(process.env.START);
    execFile(c.bin, c.args, c.uid !== undefined ? { uid: c.uid, gid: c.gid } : {}, (err) => (err ? reject(err) : resolve()));
  }, 300));
}
export const restarted = () => started;
`,
  ...Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => [`test/${name}.spec.js`, suite(name, name === 'c' ? 'restart' : '')])),
};

/**
 * What a test that was in the middle of its work when the server stopped fails with: pg's words for 57P01 or a cut
 * socket during a query, or, when the connection went between two of the test's queries, for the next one.
 */
const OUTAGE = /terminating connection due to administrator command|Connection terminated unexpectedly|server closed the connection|Client has encountered a connection error and is not queryable/;

describe('reliability: a server restart does not burn the queue (issue 10, defect 5)', function () {
  this.timeout(90000);
  const rig = clusterPerFile();
  let run: RunView;

  before(async function () {
    const r = rig();
    const env = { STOP: JSON.stringify(r.cluster.ctl('stop')), START: JSON.stringify(r.cluster.ctl('start')) };
    run = await runOn(r, FILES, ['-w', '2', '--timeout', '5000', 'test/*.spec.js'], { env });
  });

  it('every one of the 60 tests ran; only one that was mid-query when the server went failed, with that cause', function () {
    const r = run.r;
    expect(r.output).to.match(/^STOPPED$/m);
    expect(Object.keys(run.tests), r.output).to.have.length(60);
    const failed = run.record?.slots.flatMap((s) => s.files.flatMap((f) => f.tests.filter((t) => t.state !== 'passed').map((t) => ({ file: f.file, ...t })))) ?? [];
    expect(failed.length, r.output).to.be.at.most(1);
    for (const t of failed) {
      expect(t.state, r.output).to.equal('failed');
      expect(t.file, 'the other worker meets the stop').to.not.equal('test/c.spec.js');
      expect(t.error?.message, r.output).to.match(OUTAGE);
    }
    expect(r.code, r.output).to.equal(failed.length === 0 ? 0 : 1);
  });

  it('says once that it waits for the server; the tests after the stop ran against the restarted server', async function () {
    const r = run.r;
    const said = r.output.split('\n').filter((l) => l.includes('the server stopped accepting connections'));
    expect(said, r.output).to.have.length(1);
    expect(said[0]).to.match(/^bulkhead: the server stopped accepting connections \(.+\); tests that need it wait up to 10 s for it, and no new file starts meanwhile$/);
    // The stopping test's own worker asks db() first while the server is away; all its later tests pass.
    for (let n = 4; n <= 10; n++) expect(run.tests[`test/c.spec.js: c test ${n}`], r.output).to.equal('passed');
    expect(r.output).to.not.include('internal error');
  });

  it('leaves nothing on the server: no bulkhead session, none abandoned, no database', function () {
    expect(run.server, run.r.output).to.deep.equal(CLEAN_SERVER);
  });
});
