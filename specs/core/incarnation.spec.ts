// A replaced worker keeps its slot: its new thread is a new incarnation (1, 2, 3: Playwright's workerIndex beside
// parallelIndex), and its connection generations go on from the slot's last one instead of starting at 1 again, so
// "w1 gen 2" names one connection of the run.
import { expect } from 'chai';
import { closingLine, fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { rebuilds } from '../helpers/output.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';
import type { RunRecord } from '../../src/plan/record.js';
import { loadRecord } from '../flaky/lastrun.js';

// One worker runs the files in path order: two broken connections, a process.exit() (the thread is replaced after
// the file), one more broken connection, a test that blocks the thread (the watchdog replaces it), and a last one.
const FILES = {
  'test/a-orders.spec.js': `import { db } from 'bulkhead';
describe('orders', function () {
  before(async function () {
    await (await db()).query('CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY)');
  });
  it('leaves a transaction open', async function () {
    const client = await db();
    await client.query('BEGIN');
    await client.query('INSERT INTO orders VALUES (1)');
  });
  it('ends its own backend', async function () {
    await (await db()).query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => undefined);
  });
});
`,
  'test/b-exit.spec.js': `import { db } from 'bulkhead';
describe('exit', function () {
  it('counts the orders, then calls process.exit', async function () {
    await (await db()).query('SELECT count(*) FROM orders');
    process.exit(3);
  });
});
`,
  'test/c-duplicate.spec.js': `import { db } from 'bulkhead';
describe('duplicate', function () {
  it('inserts the same order twice inside a transaction', async function () {
    const client = await db();
    await client.query('BEGIN');
    await client.query('INSERT INTO orders VALUES (1)');
    await client.query('INSERT INTO orders VALUES (1)');
  });
});
`,
  'test/d-block.spec.js': `import { db } from 'bulkhead';
describe('block', function () {
  // Connected under the run's timeout, so a busy machine cannot make the short one below expire first.
  before(async function () {
    await (await db()).query('SELECT 1');
  });
  it('blocks its worker', function () {
    for (;;) {}
  }).timeout(300);
});
`,
  'test/e-aborted.spec.js': `import { db } from 'bulkhead';
describe('aborted', function () {
  it('leaves an aborted transaction', async function () {
    const client = await db();
    await client.query('BEGIN');
    await client.query('SELECT 1/0').catch(() => undefined);
  });
});
`,
};

describe('incarnation: a replaced worker keeps its slot, and its connection generations go on', function () {
  const scratch = scratchPerSuite('incarnation');
  let r: CliResult;
  let server: ServerState;
  let record: RunRecord;
  before(async function () {
    const fx = fixture(FILES);
    try {
      const watch = await watchServer(scratch().name);
      // A generous mocha timeout: only the blocking test has a short one of its own.
      r = await runCli(['-w', '1', '--timeout', '20000'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      server = await watch.check();
      record = loadRecord(fx.dir);
    } finally {
      fx.remove();
    }
  });

  it('runs the files as planned: the exit and the blocked test fail, the rest pass, nothing is left open', function () {
    expect(specOutcomes(r.output), r.output).to.deep.equal({
      passed: ['leaves a transaction open', 'ends its own backend', 'leaves an aborted transaction'],
      failed: ['counts the orders, then calls process.exit', 'inserts the same order twice inside a transaction', 'blocks its worker'],
    });
    expect(closingLine(r.output)).to.deep.equal({ passed: 3, failed: 3, skipped: 0 });
    expect(r.code).to.equal(1);
    expect(server).to.deep.equal(CLEAN);
  });

  it('records which incarnation of the slot ran each file: a new one after process.exit() and after the watchdog', function () {
    expect(record.slots.map((s) => s.slot)).to.deep.equal([1]);
    const files = record.slots[0]?.files.map((f) => [f.file, f.incarnation]);
    expect(files, JSON.stringify(record.slots)).to.deep.equal([
      ['test/a-orders.spec.js', 1],
      ['test/b-exit.spec.js', 1],
      ['test/c-duplicate.spec.js', 2],
      ['test/d-block.spec.js', 2],
      ['test/e-aborted.spec.js', 3],
    ]);
  });

  it('records strictly increasing generations on the slot across its three threads', function () {
    // Generations 3 (closed by the exit's replacement) and 5 (ended by the watchdog) were not rebuilt after a test.
    expect(record.rebuilds.map((b) => [b.slot, b.incarnation, b.generation, b.culprit.title]), JSON.stringify(record.rebuilds)).to.deep.equal([
      [1, 1, 1, 'orders leaves a transaction open'],
      [1, 1, 2, 'orders ends its own backend'],
      [1, 2, 4, 'duplicate inserts the same order twice inside a transaction'],
      [1, 3, 6, 'aborted leaves an aborted transaction'],
    ]);
    // The tests that ran to their end, on the connection each one used last.
    const ended = record.slots[0]?.files.filter((f) => f.file !== 'test/d-block.spec.js') ?? [];
    const generations = ended.flatMap((f) => f.tests.map((t) => [t.title, t.generation]));
    expect(generations).to.deep.equal([
      ['orders leaves a transaction open', 1],
      ['orders ends its own backend', 2],
      ['exit counts the orders, then calls process.exit', 3],
      ['duplicate inserts the same order twice inside a transaction', 4],
      ['aborted leaves an aborted transaction', 6],
    ]);
  });

  it('the summary names each rebuilt connection once, with the thread of the slot once it was replaced', function () {
    const seen = rebuilds(r.output);
    expect(seen?.perSlot, r.output).to.equal('w1: 4');
    expect(seen?.list.map((b) => [b.slot, b.generation, b.thread])).to.deep.equal([
      [1, 1, 1],
      [1, 2, 1],
      [1, 4, 2],
      [1, 6, 3],
    ]);
    const named = seen?.list.map((b) => `w${b.slot} gen ${b.generation}`) ?? [];
    expect(new Set(named).size, r.output).to.equal(named.length);
    expect(r.output).to.include('  w1 gen 4 (thread 2) after test "duplicate inserts the same order twice inside a transaction": database error (23505 ');
  });
});
