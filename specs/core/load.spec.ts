// Containment while a file loads and around a crash: the load watchdog fails a file whose top level never returns
// (and replaces its worker), a crashed file's open suites are closed so the next file is not nested inside it,
// a test whose beforeEach ran is still watched, and process.exit() outside a test is named where it was called.
import { expect } from 'chai';
import { closingLine, fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { notRun } from '../helpers/output.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';

const OK_FILE = `import { db } from 'bulkhead';
describe('ok after', function () {
  it('runs on a replacement worker', async () => { await (await db()).query('SELECT 1'); });
});
`;

describe('load: containment while a file loads, and after a crash', function () {
  const scratch = scratchPerSuite('load');

  /** Runs a one-worker project, so every file after the culprit runs on the slot's replacement worker. */
  async function run(files: Record<string, string>, args: string[] = []): Promise<{ r: CliResult; server: ServerState }> {
    const fx = fixture(files);
    try {
      const watch = await watchServer(scratch().name);
      const r = await runCli(['-w', '1', '--timeout', '20000', ...args], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      return { r, server: await watch.check() };
    } finally {
      fx.remove();
    }
  }

  it('a top-level endless loop and a top-level await that never settles fail their files; the run goes on', async function () {
    const { r, server } = await run({
      // The limit comes from the config file here; --load-timeout is the same key on the command line.
      'bulkhead.config.json': '{ "loadTimeout": 2000 }\n',
      'test/a-loop.spec.js': "describe('loop top', function () { it('never reached', () => {}); });\nfor (;;) {}\n",
      'test/b-await.spec.mjs': "describe('await top', function () { it('never reached either', () => {}); });\nawait new Promise(() => {});\n",
      'test/c-ok.spec.js': OK_FILE,
    });
    for (const file of ['test/a-loop.spec.js', 'test/b-await.spec.mjs']) {
      expect(r.output, r.output).to.match(new RegExp(`^ {2}\\d+\\) failed to load ${file.replace('.', '\\.')}$`, 'm'));
      expect(r.output).to.include(`WorkerCrash: ${file} did not finish loading within 2000 ms`);
    }
    expect(specOutcomes(r.output).passed).to.deep.equal(['runs on a replacement worker']);
    expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 2, skipped: 0 });
    expect(r.code).to.equal(1);
    expect(server).to.deep.equal(CLEAN);
  });

  it('--load-timeout on the command line sets the limit', async function () {
    const { r } = await run({ 'test/a-loop.spec.js': 'for (;;) {}\n', 'test/c-ok.spec.js': OK_FILE }, ['--load-timeout', '1500']);
    expect(r.output, r.output).to.include('WorkerCrash: test/a-loop.spec.js did not finish loading within 1500 ms');
    expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 1, skipped: 0 });
  });

  it("a crashed file's open suites are closed: the next file's suite is not printed inside them", async function () {
    const { r } = await run({
      'test/a-crash.spec.js': `describe('outer', function () {
  describe('inner', function () {
    it('loops', () => { for (;;) {} }).timeout(300);
    it('never runs', () => {});
  });
});
`,
      'test/b-ok.spec.js': OK_FILE,
    });
    expect(r.output, r.output).to.match(/^ {2}outer\n {4}inner\n {6}1\) loops\n/m);
    // At the top level, as the first file's suite was: two spaces, then its test at four.
    expect(r.output).to.match(/^ {2}ok after\n {4}✔ runs on a replacement worker/m);
    expect(notRun(r.output)).to.deep.equal([{ file: 'test/a-crash.spec.js', title: 'outer inner never runs', reason: 'the worker crashed in outer inner loops' }]);
  });

  it('a test that blocks after its beforeEach hook ran is still stopped by the watchdog', async function () {
    const { r } = await run({
      'test/a-each.spec.js': `describe('each', function () {
  beforeEach(function () {});
  it('loops after its hook', () => { for (;;) {} }).timeout(300);
});
`,
      'test/b-ok.spec.js': OK_FILE,
    });
    expect(r.output, r.output).to.match(/WorkerCrash: each loops after its hook exceeded its timeout of 300 ms without yielding the event loop/);
    expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 1, skipped: 0 });
  });

  it('process.exit() in a hook or at top level is named as the cause, with where it was called', async function () {
    const { r } = await run({
      'test/a-hook.spec.js': `describe('first', function () {
  before(function () { process.exit(1); });
  it('t1', () => {});
});
describe('sibling', function () {
  it('t2', () => {});
});
`,
      'test/b-top.spec.js': "describe('top', function () { it('t3', () => {}); });\nprocess.exit(2);\n",
      'test/b-throw.spec.js': "describe('thrower', function () { it('t4', () => {}); });\nthrow new Error('thrown after describe');\n",
      'test/c-ok.spec.js': OK_FILE,
    });
    const exit = 'process.exit(1) was called in the "before all" hook for "t1"';
    expect(notRun(r.output), r.output).to.deep.equal([
      { file: 'test/a-hook.spec.js', title: 'first t1', reason: exit },
      { file: 'test/a-hook.spec.js', title: 'sibling t2', reason: exit },
      // Declared before their files failed to load: reported once each, never lost.
      { file: 'test/b-throw.spec.js', title: 'thrower t4', reason: 'the file failed to load' },
      { file: 'test/b-top.spec.js', title: 'top t3', reason: 'process.exit(2) was called at the top level of test/b-top.spec.js' },
    ]);
    expect(r.output).to.include('thrown after describe');
    expect(r.output).to.include(`ProcessExitError: ${exit}; bulkhead failed the hook`);
    expect(r.output).to.match(/^ {2}\d+\) failed to load test\/b-top\.spec\.js$/m);
    expect(r.output).to.include('ProcessExitError: process.exit(2) was called at the top level of test/b-top.spec.js');
    expect(r.output).to.not.include('called by the test');
    expect(specOutcomes(r.output).passed).to.deep.equal(['runs on a replacement worker']);
  });
});
