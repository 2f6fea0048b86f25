// Containment: a file that exits, throws asynchronously, blocks its worker forever or fails to load fails
// visibly, named with its cause, while the other files still pass on the pool (or on a replacement worker).
import { expect } from 'chai';
import { closingLine, fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { notRun } from '../helpers/output.js';
import { CLEAN, scratchDatabase, watchServer } from '../helpers/server.js';
import type { ScratchDatabase, ServerState } from '../helpers/server.js';

// Two healthy files that use the database, dispatched after the culprit (files run in path order).
const HEALTHY = {
  'test/b-ok.spec.js': `import { db } from 'bulkhead';
describe('ok b', function () {
  it('b1', async () => { await (await db()).query('SELECT 1'); });
  it('b2', async () => { await (await db()).query('SELECT 2'); });
});
`,
  'test/c-ok.spec.js': `import { db } from 'bulkhead';
describe('ok c', function () {
  it('c1', async () => { await (await db()).query('SELECT 3'); });
});
`,
};
const HEALTHY_TESTS = ['b1', 'b2', 'c1'];

const LOOP = `import { db } from 'bulkhead';
describe('loop file', function () {
  it('before loop', async () => { await (await db()).query('SELECT 1'); });
  it('loops forever', () => { for (;;) {} }).timeout(300);
  it('after loop', () => {});
});
`;

// Every fixture runs with -w 2 but the last, which needs the looping file to follow another on the same worker.
const CASES: Record<string, { files: Record<string, string>; workers: string }> = {
  exit: {
    workers: '2',
    files: {
      ...HEALTHY,
      'test/a-exit.spec.js': `import { db } from 'bulkhead';
describe('exit file', function () {
  it('before exit', async () => { await (await db()).query('SELECT 1'); });
  it('calls process.exit', () => { process.exit(1); });
  it('after exit', () => {});
});
`,
    },
  },
  immediate: {
    workers: '2',
    files: {
      ...HEALTHY,
      'test/a-immediate.spec.js': `describe('immediate file', function () {
  it('throws in setImmediate', (done) => { setImmediate(() => { throw new Error('boom from setImmediate'); }); });
  it('runs on after it', () => {});
});
`,
    },
  },
  loop: { workers: '2', files: { ...HEALTHY, 'test/a-loop.spec.js': LOOP } },
  late: {
    workers: '2',
    files: {
      ...HEALTHY,
      'test/a-late.spec.js': `describe('late file', function () {
  it('passes, then throws', () => { setImmediate(() => { throw new Error('late boom'); }); });
  it('comes next', () => {});
});
`,
    },
  },
  // The three ways a file fails to load, side by side in one project.
  load: {
    workers: '2',
    files: {
      ...HEALTHY,
      'test/a-syntax.spec.js': `describe('syntax', () => { it('x', () => { let = ; }); });\n`,
      'test/a-toplevel.spec.js': `throw new Error('top-level boom');\n`,
      'test/a-missing.spec.js': `import { nothing } from './does-not-exist.js';\nit('m', () => {});\n`,
    },
  },
  loopAfterConnect: {
    workers: '1',
    files: {
      'test/a-connects.spec.js': `import { db } from 'bulkhead';\nit('connects', async () => { await (await db()).query('SELECT 1'); });\n`,
      'test/b-loop.spec.js': `describe('loop', function () { it('loops forever', () => { for (;;) {} }).timeout(300); });\n`,
    },
  },
};

describe('crash: containment of a crashing file', function () {
  const results = new Map<string, { r: CliResult; server: ServerState }>();
  const databases: ScratchDatabase[] = [];

  // The fixtures run side by side, each on a scratch database of its own: most of their time is the watchdog's
  // wait. A generous default timeout keeps the healthy tests far from theirs while the machine is busy.
  before(async function () {
    await Promise.all(
      Object.entries(CASES).map(async ([name, c]) => {
        const database = await scratchDatabase(`crash_${name.toLowerCase()}`);
        databases.push(database);
        const fx = fixture(c.files);
        try {
          const watch = await watchServer(database.name);
          const r = await runCli(['-w', c.workers, '--timeout', '20000'], { cwd: fx.dir, env: { DATABASE_URL: database.url } });
          results.set(name, { r, server: await watch.check() });
        } finally {
          fx.remove();
        }
      }),
    );
  });
  after(async function () {
    await Promise.all(databases.map((d) => d.drop()));
  });

  function result(name: keyof typeof CASES): { r: CliResult; server: ServerState } {
    const found = results.get(name);
    if (found === undefined) throw new Error(`the fixture "${name}" did not run`);
    return found;
  }

  /** What every crash fixture must show besides its own culprit. */
  function expectContained(name: keyof typeof CASES, passed: number, failed: number): void {
    const { r, server } = result(name);
    expect(specOutcomes(r.output).passed, r.output).to.include.members(HEALTHY_TESTS);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed, failed, skipped: 0 });
    expect(r.code).to.equal(1);
    expect(server).to.deep.equal(CLEAN);
  }

  it('process.exit(1) in a test fails that test, and the rest of its file is listed as not run', function () {
    const { r } = result('exit');
    expect(specOutcomes(r.output).failed, r.output).to.deep.equal(['calls process.exit']);
    expect(r.output).to.include('ProcessExitError: process.exit(1) was called by the test');
    expect(notRun(r.output)).to.deep.equal([{ file: 'test/a-exit.spec.js', title: 'exit file after exit', reason: 'process.exit(1) was called in the test "exit file calls process.exit"' }]);
    expectContained('exit', 4, 1);
  });

  it('a throw inside setImmediate during a test fails that test, and its file runs on as in serial mocha', function () {
    const { r } = result('immediate');
    expect(specOutcomes(r.output).failed, r.output).to.deep.equal(['throws in setImmediate']);
    expect(r.output).to.include('Uncaught Error: boom from setImmediate');
    expect(specOutcomes(r.output).passed).to.include('runs on after it');
    expectContained('immediate', 4, 1);
  });

  it('an async error after a test has passed fails the run, attributed to that test; the file goes on', function () {
    const { r } = result('late');
    expect(specOutcomes(r.output).passed, r.output).to.include.members(['passes, then throws', 'comes next']);
    expect(r.output).to.match(/^\s+\d+\) uncaught error in test\/a-late\.spec\.js after "late file passes, then throws" had passed$/m);
    expect(r.output).to.include('Error: late boom');
    expect(notRun(r.output)).to.deep.equal([]);
    expectContained('late', 5, 1);
  });

  it('an infinite loop under a short timeout: the watchdog terminates the worker and names the test', function () {
    const { r } = result('loop');
    expect(specOutcomes(r.output).failed, r.output).to.deep.equal(['loops forever']);
    expect(r.output).to.match(/WorkerCrash: loop file loops forever exceeded its timeout of 300 ms without yielding the event loop; bulkhead terminated the worker of slot \d/);
    expect(notRun(r.output)).to.deep.equal([{ file: 'test/a-loop.spec.js', title: 'loop file after loop', reason: 'the worker crashed in loop file loops forever' }]);
    expectContained('loop', 4, 1);
  });

  it('a worker killed by the watchdog has the connection it opened in an earlier file ended, not abandoned', function () {
    const { r, server } = result('loopAfterConnect');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['connects'], failed: ['loops forever'] });
    expect(server).to.deep.equal(CLEAN);
  });

  const LOAD_FAILURES: [string, string, RegExp][] = [
    ['syntax', 'a spec file with a syntax error', /SyntaxError\[ @\S+\/test\/a-syntax\.spec\.js \]/],
    ['toplevel', 'a spec file that throws at top level', /Error: top-level boom\n\s+at \S+\/test\/a-toplevel\.spec\.js:1/],
    ['missing', 'a spec file with a missing import', /Cannot find module '\S+\/test\/does-not-exist\.js' imported from \S+\/test\/a-missing\.spec\.js/],
  ];
  for (const [file, what, cause] of LOAD_FAILURES) {
    it(`${what} fails to load, named with its cause`, function () {
      const { r } = result('load');
      expect(r.output, r.output).to.match(new RegExp(`^ {2}\\d+\\) failed to load test/a-${file}\\.spec\\.js$`, 'm'));
      expect(r.output).to.match(cause);
    });
  }

  it('the files that fail to load do not stop the others', function () {
    expectContained('load', 3, 3);
  });
});
