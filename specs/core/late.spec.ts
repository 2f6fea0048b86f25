// Work a test leaves behind: a timer that throws or exits after its file ended, a client ended without await, and
// a multi-statement transaction under --transaction. Each is charged to the code that caused it, never to a later,
// innocent test, and none of it escapes (no lost error, no committed row).
import { expect } from 'chai';
import { closingLine, fixture, query, runCli, runProjects, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { scratchPerSuite } from '../helpers/server.js';

// File a's late work waits until b's first test runs, and b's test waits until it has fired: on events, not on time.
const WAIT_FOR_A = `describe('b waits', function () {
  it('b1 runs while a late timer of a fires', async function () {
    globalThis.bStarted = true;
    while (globalThis.lateFired !== true) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  });
  it('b2 runs after it', function () {});
});
`;

const CASES: Record<string, { files: Record<string, string>; args: string[] }> = {
  lastFile: {
    args: ['-w', '1'],
    files: {
      'test/a.spec.js': `describe('late', function () {
  it('schedules a throw for after the file', function () {
    setTimeout(() => { throw new Error('thrown late by a'); }, 200);
  });
});
`,
    },
  },
  nextFile: {
    args: ['-w', '1'],
    files: {
      'test/a.spec.js': `describe('a', function () {
  it('a1 schedules a late throw', function () {
    const later = () => { if (globalThis.bStarted !== true) return setImmediate(later); globalThis.lateFired = true; throw new Error('thrown late by a'); };
    setImmediate(later);
  });
});
`,
      'test/b.spec.js': WAIT_FOR_A,
    },
  },
  sameFile: {
    args: ['-w', '1'],
    files: {
      // The immediate runs right after the test ends, before mocha moves on: the test has passed by then.
      'test/a.spec.js': `describe('same file', function () {
  it('s1 throws from an immediate', function () { setImmediate(() => { throw new Error('thrown late by s1'); }); });
  it('s2 still runs', function () {});
  it('s3 still runs', function () {});
});
`,
    },
  },
  nextFileExit: {
    args: ['-w', '1'],
    files: {
      'test/a.spec.js': `describe('a', function () {
  it('a1 schedules a late process.exit', function () {
    const later = () => { if (globalThis.bStarted !== true) return setImmediate(later); globalThis.lateFired = true; process.exit(3); };
    setImmediate(later);
  });
});
`,
      'test/b.spec.js': WAIT_FOR_A,
    },
  },
};

describe('late work: errors and exits after a file ended', function () {
  let result: (name: keyof typeof CASES) => CliResult;

  before(async function () {
    result = await runProjects(CASES);
  });

  it('an error thrown by a timer after the last file ended fails the run, named with its file', function () {
    const r = result('lastFile');
    expect(r.output).to.include('uncaught error in test/a.spec.js');
    expect(r.output).to.include('thrown late by a');
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 1, failed: 1, skipped: 0 });
    expect(r.code).to.equal(1);
  });

  it("an earlier file's late throw is charged to that file while the next file's tests pass", function () {
    const r = result('nextFile');
    const { passed, failed } = specOutcomes(r.output);
    expect(passed, r.output).to.include.members(['a1 schedules a late throw', 'b1 runs while a late timer of a fires', 'b2 runs after it']);
    expect(failed.filter((f) => /b1|b2/.test(f)), r.output).to.deep.equal([]);
    expect(r.output).to.include('uncaught error in test/a.spec.js');
    expect(r.output).to.include('thrown late by a');
    expect(r.code).to.equal(1);
  });

  it('a late error between two tests of a file is charged to the finished test, and the file goes on', function () {
    const r = result('sameFile');
    expect(specOutcomes(r.output), r.output).to.deep.equal({
      passed: ['s1 throws from an immediate', 's2 still runs', 's3 still runs'],
      failed: ['uncaught error in test/a.spec.js after "same file s1 throws from an immediate" had passed'],
    });
    expect(r.output).to.include('thrown late by s1');
    expect(r.output).to.not.include('not run:');
    expect(r.code).to.equal(1);
  });

  it("an earlier file's late process.exit is charged to that file and does not stop the next file", function () {
    const r = result('nextFileExit');
    const { passed, failed } = specOutcomes(r.output);
    expect(passed, r.output).to.include.members(['b1 runs while a late timer of a fires', 'b2 runs after it']);
    expect(failed.filter((f) => /b1|b2/.test(f)), r.output).to.deep.equal([]);
    expect(r.output).to.include('uncaught error in test/a.spec.js');
    expect(r.output).to.include('process.exit(3)');
    expect(r.output).to.not.include('not run:');
    expect(r.code).to.equal(1);
  });
});

describe('late work on the connection', function () {
  const scratch = scratchPerSuite('late');

  before(async function () {
    await query('CREATE TABLE marks (v int)', [], scratch().url);
  });

  it('a client ended without await is rebuilt after the test that ended it, and the next test runs', async function () {
    const fx = fixture({
      'test/a.spec.js': `import { db } from 'bulkhead';
describe('ending', function () {
  it('ends the client without waiting', async function () { (await db()).end(); });
  it('queries next', async function () { await (await db()).query('SELECT 1'); });
});
`,
    });
    try {
      const r = await runCli(['-w', '1'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['ends the client without waiting', 'queries next'], failed: [] });
      expect(r.output).to.include('w1 gen 1 after test "ending ends the client without waiting": connection ended');
      expect(r.code).to.equal(0);
    } finally {
      fx.remove();
    }
  });

  it('a listener that throws inside the driver (a notification handler) gets its connection rebuilt; later tests pass', async function () {
    const fx = fixture({
      'test/a.spec.js': `import { db } from 'bulkhead';
describe('listen', function () {
  it('has a throwing notification handler', async function () {
    const c = await db();
    await c.query('LISTEN chan');
    c.on('notification', () => { throw new Error('handler throws'); });
    await c.query("NOTIFY chan, 'x'");
  });
  it('later 1', async function () { await (await db()).query('SELECT 1'); });
  it('later 2', async function () { await (await db()).query('SELECT 2'); });
});
`,
    });
    try {
      const r = await runCli(['-w', '1', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      const { passed, failed } = specOutcomes(r.output);
      expect(passed, r.output).to.include.members(['later 1', 'later 2']);
      expect(failed.filter((f) => /later/.test(f)), r.output).to.deep.equal([]);
      expect(r.output).to.include('w1 gen 1 after test "listen has a throwing notification handler": connection error (handler throws)');
      expect(r.output).to.not.include('not run:');
    } finally {
      fx.remove();
    }
  });

  it("an error in a driver callback fails the test that is running, not the file that first opened the connection", async function () {
    const fx = fixture({
      'test/a.spec.js': "import { db } from 'bulkhead';\nit('opens the connection', async () => { await (await db()).query('SELECT 1'); });\n",
      'test/b.spec.js': `import { db } from 'bulkhead';
describe('b', function () {
  it('throws from a query callback', function (done) {
    db().then((c) => c.query('SELECT 1', () => { throw new Error('thrown in a callback of b'); }));
  });
  it('runs after it', async () => { await (await db()).query('SELECT 2'); });
});
`,
    });
    try {
      const r = await runCli(['-w', '1'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['opens the connection', 'runs after it'], failed: ['throws from a query callback'] });
      expect(r.output).to.include('thrown in a callback of b');
      expect(r.output).to.not.include('uncaught error in test/a.spec.js');
    } finally {
      fx.remove();
    }
  });

  it('--transaction turns BEGIN and COMMIT inside a multi-statement query into savepoints: nothing is committed', async function () {
    const fx = fixture({
      'test/a.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
const marks = async () => (await (await db()).query('SELECT v FROM marks ORDER BY v')).rows.map((r) => r.v);
describe('several statements', function () {
  it('commits two rows in one string', async function () {
    await (await db()).query("BEGIN; INSERT INTO marks VALUES (1); /* ; */ INSERT INTO marks SELECT length('a;b'); COMMIT;");
    expect(await marks()).to.deep.equal([1, 3]);
  });
  it('sees none of them', async function () { expect(await marks()).to.deep.equal([]); });
  it('recovers from a failure inside one string with its own ROLLBACK', async function () {
    const c = await db();
    await c.query('CREATE UNIQUE INDEX marks_v ON marks (v)');
    await c.query('INSERT INTO marks VALUES (7)');
    try {
      await c.query('BEGIN; INSERT INTO marks VALUES (8); INSERT INTO marks VALUES (7); COMMIT');
      throw new Error('the duplicate was accepted');
    } catch (err) {
      if (err.code !== '23505') throw err;
      await c.query('ROLLBACK');
    }
    expect(await marks()).to.deep.equal([7]);
  });
  it('rolls back inside one string', async function () {
    await (await db()).query('BEGIN; INSERT INTO marks VALUES (5); ROLLBACK; INSERT INTO marks VALUES (6)');
    expect(await marks()).to.deep.equal([6]);
  });
  it('sees none again', async function () { expect(await marks()).to.deep.equal([]); });
});
`,
    });
    try {
      const r = await runCli(['-w', '1', '--transaction'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      expect(specOutcomes(r.output), r.output).to.deep.equal({
        passed: ['commits two rows in one string', 'sees none of them', 'recovers from a failure inside one string with its own ROLLBACK', 'rolls back inside one string', 'sees none again'],
        failed: [],
      });
      expect(await query('SELECT v FROM marks', [], scratch().url)).to.deep.equal([]);
      expect(r.code).to.equal(0);
    } finally {
      fx.remove();
    }
  });
});
