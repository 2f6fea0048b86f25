// Worker lifecycle hooks from bulkhead.config.js. Every hook and every test appends a line to one log file
// (appends are atomic, so the file's order is the order things happened in), and the spec reads the story back:
// onWorkerStart once per worker before its first test, with its slot and database; onConnect on every new
// connection; onReset after a rebuild, with the cause; onWorkerStop at shutdown, after the worker's last test.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closingLine, fixture } from '../helpers/fixture.js';
import { BARRIER_JS, BARRIER_SQL, barrierEnv, createTarget, runOn } from './support.js';
import type { Target } from './support.js';

const CONFIG = `import { appendFileSync } from 'node:fs';
const log = (entry) => appendFileSync(process.env.HOOK_LOG, JSON.stringify(entry) + '\\n');
export default {
  onWorkerStart: ({ slot, db }) => log({ hook: 'start', slot, db }),
  onWorkerStop: ({ slot }) => log({ hook: 'stop', slot }),
  onReset: ({ slot, cause }) => log({ hook: 'reset', slot, cause }),
  onConnect: async (client) => {
    const { rows } = await client.query('SELECT current_database() AS d');
    log({ hook: 'connect', slot: Number(process.env.BULKHEAD_WORKER), db: rows[0].d });
  },
};
`;

/** A test body that logs itself (with the worker's slot) and then does `body`. */
const test = (title: string, body = "await (await db()).query('SELECT 1');"): string =>
  `  it('${title}', async () => {
    appendFileSync(process.env.HOOK_LOG, JSON.stringify({ test: '${title}', slot: Number(process.env.BULKHEAD_WORKER) }) + '\\n');
    ${body}
  });
`;
const HEAD = "import { appendFileSync } from 'node:fs';\nimport { db } from 'bulkhead';\nimport { barrier } from './barrier.js';\n";

// a and b meet at the barrier, so each worker runs one of them; c and d follow on whichever worker is free.
const FILES = {
  'bulkhead.config.js': CONFIG,
  'test/barrier.js': BARRIER_JS,
  'test/a.spec.js': `${HEAD}describe('a', function () {
  this.timeout(20000);
  before(() => barrier(2));
${test('a1')}${test('a2 breaks the connection', "const c = await db(); await c.query('CREATE TEMP TABLE u (v int PRIMARY KEY)'); await c.query('INSERT INTO u VALUES (1), (1)');")}${test('a3')}});
`,
  'test/b.spec.js': `${HEAD}describe('b', function () {
  this.timeout(20000);
  before(() => barrier(2));
${test('b1')}});
`,
  'test/c.spec.js': `${HEAD}describe('c', function () {
${test('c1')}});
`,
  'test/d.spec.js': `${HEAD}describe('d', function () {
${test('d1')}});
`,
};

type Entry = { hook?: string; test?: string; slot: number; db?: string | null; cause?: string };

describe('databases: worker lifecycle hooks', function () {
  let target: Target;
  let dir: string;
  before(async function () {
    target = await createTarget('hooks', BARRIER_SQL);
    dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-hooks-'));
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    await target.drop();
  });

  for (const isolation of ['database', 'shared'] as const) {
    it(`run in order, once per worker, with the slot, its database and the cause of a reset (${isolation})`, async function () {
      const fx = fixture(FILES);
      const logFile = path.join(dir, `${isolation}.log`);
      try {
        const r = await runOn(target, fx, ['-w', '2', '--isolation', isolation, 'test/*.spec.js'], { ...barrierEnv(target), HOOK_LOG: logFile });
        expect(r.code, r.output).to.equal(1);
        expect(closingLine(r.output), r.output).to.deep.equal({ passed: 5, failed: 1, skipped: 0 });
        const entries = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Entry);
        const dbOf = (slot: number): string => (isolation === 'database' ? `${target.name}_bulkhead_w${slot}` : target.name);

        expect(entries.filter((e) => e.test !== undefined)).to.have.lengthOf(6);
        for (const slot of [1, 2]) {
          const mine = entries.map((e, i) => ({ ...e, i })).filter((e) => e.slot === slot);
          const tests = mine.filter((e) => e.test !== undefined);
          const starts = mine.filter((e) => e.hook === 'start');
          const stops = mine.filter((e) => e.hook === 'stop');
          expect(tests.length, `tests on w${slot}`).to.be.greaterThan(0);
          // Once per worker, before its first test, with its slot and database; and once at shutdown, after its last.
          expect(starts.map(({ slot: s, db }) => ({ slot: s, db })), `onWorkerStart of w${slot}`).to.deep.equal([{ slot, db: dbOf(slot) }]);
          expect(starts[0]?.i).to.be.lessThan(tests[0]?.i ?? -1);
          expect(stops, `onWorkerStop of w${slot}`).to.have.lengthOf(1);
          expect(stops[0]?.i).to.be.greaterThan(tests[tests.length - 1]?.i ?? Infinity);
          // Every connection of the worker went through onConnect, on the slot's database.
          const connects = mine.filter((e) => e.hook === 'connect');
          const broken = tests.some((t) => t.test === 'a2 breaks the connection');
          expect(connects.map((e) => e.db), `onConnect of w${slot}`).to.deep.equal(broken ? [dbOf(slot), dbOf(slot)] : [dbOf(slot)]);
        }

        // One reset, on the slot that ran the breaking test, with its cause, after it and before the next test there.
        const resets = entries.map((e, i) => ({ ...e, i })).filter((e) => e.hook === 'reset');
        expect(resets, JSON.stringify(entries)).to.have.lengthOf(1);
        const broke = entries.findIndex((e) => e.test === 'a2 breaks the connection');
        expect(resets[0]?.slot).to.equal(entries[broke]?.slot);
        expect(resets[0]?.cause).to.match(/duplicate key value violates unique constraint/);
        const next = entries.findIndex((e) => e.test === 'a3');
        expect(resets[0]?.i).to.be.greaterThan(broke).and.lessThan(next);
      } finally {
        fx.remove();
      }
    });
  }
});
