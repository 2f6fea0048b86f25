import { existsSync } from 'node:fs';
// An order-dependent failure: test B fails only when test A ran before it on the same worker. Replay of the failing
// record reproduces it every time, and bisect names A among more than 30 other tests in about log2(n) probes.
import path from 'node:path';
import { expect } from 'chai';
import { fixture, query, runCli } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import type { ScratchDatabase } from '../helpers/server.js';
import type { SpecFile } from '../../src/plan/discover.js';
import { plan } from '../../src/plan/schedule.js';
import { LAST_RUN, loadRecord, schedule, scratchSet, testsOf } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

const RECORD = 'records/first.json';
const LETTERS = 'abcdefgh'.split('');
const A = 'a A sets the session datestyle';
const B = 'h B formats a date';

// A leaves a session setting behind on the worker's connection; B, in another file, reads a date back as text.
function suiteFile(letter: string): string {
  const extra =
    letter === 'a' ? `  it('A sets the session datestyle', async function () { await (await db()).query("SET datestyle = 'SQL, DMY'"); });\n`
    : letter === 'h' ? `  it('B formats a date', async function () {
    const { rows } = await (await db()).query("SELECT DATE '2024-03-01'::text AS d");
    expect(rows[0].d).to.equal('2024-03-01');
  });\n`
    : `  it('t10', async function () { await (await db()).query('SELECT 10'); });\n`;
  return `import { db } from 'bulkhead';
import { expect } from 'chai';
describe('${letter}', function () {
  for (let i = 0; i < 10; i++) it('t' + i, async function () { await (await db()).query('SELECT $1::int', [i]); });
${extra}});
`;
}
const SUITES = Object.fromEntries(LETTERS.map((l) => [`test/${l}.spec.js`, suiteFile(l)]));

/**
 * A seed whose plan puts a.spec.js before h.spec.js on one slot, with h fourth there: 33 tests, A among them, then
 * run before B on its worker. Found with the planner itself; the recorded run below confirms it really happened.
 */
function seedPuttingAFirst(): number {
  const files: SpecFile[] = LETTERS.map((l) => ({ rel: `test/${l}.spec.js`, path: `/x/test/${l}.spec.js` }));
  for (let seed = 1; seed < 1000; seed++) {
    const p = plan(files, { workers: 2, seed, repeat: 1 });
    const slots = p.kind === 'slots' ? p.slots.map((s) => s.map((e) => e.file.rel[5])) : [];
    if (slots.some((s) => s.indexOf('h') === 3 && s.includes('a'))) return seed;
  }
  throw new Error('no seed in 1..999 puts a.spec.js before h.spec.js on one slot');
}

interface Bisect {
  r: CliResult;
  candidates: number;
  probes: number;
  progress: string[];
  culprits: string[];
  reproduce: string | undefined;
}

function readBisect(r: CliResult): Bisect {
  const lines = r.output.split('\n');
  const start = lines.findIndex((l) => /^bisect: \d+ probes;/.test(l));
  const culprits: string[] = [];
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    const m = /^ {2}(.+?) {2}\((.+)\)$/.exec(line);
    if (m === null) break;
    culprits.push(m[1] ?? '');
  }
  return {
    r,
    candidates: Number(/ran after (\d+) test\(s\) on its slot/.exec(r.output)?.[1] ?? NaN),
    probes: Number(/^bisect: (\d+) probes;/m.exec(r.output)?.[1] ?? NaN),
    progress: lines.filter((l) => /^bisect: probe \d+: /.test(l)),
    culprits,
    reproduce: /^reproduce: (bulkhead replay .+)$/m.exec(r.output)?.[1],
  };
}

/** "replay: N of M outcomes reproduced[; K differ:]" and the lines of what differs (a change, then its tests). */
function readReplay(r: CliResult): { same: number; total: number; lines: string[] } {
  const m = /^replay: (\d+) of (\d+) outcomes reproduced(?:; \d+ differ:)?$/m.exec(r.output);
  return { same: Number(m?.[1] ?? NaN), total: Number(m?.[2] ?? NaN), lines: r.output.split('\n').filter((l) => /^ {2}recorded \w+, now \w+: \d+$|^ {4}test\//.test(l)) };
}

interface Ordered {
  first: CliResult;
  record: RunRecord;
  replays: CliResult[];
  /** The schedule each replay recorded. */
  replayed: Record<number, string[]>[];
  ddmin: Bisect;
  pair: Bisect;
  again: CliResult;
}

/**
 * The recorded run, then ten replays and two bisects side by side (each on a database of its own), then the
 * command bisect printed.
 */
async function ordered(dbs: ScratchDatabase[]): Promise<Ordered> {
  const fx = fixture(SUITES);
  const fxPair = fixture(SUITES);
  try {
    const url = (i: number): string | undefined => dbs[i]?.url;
    // The record is kept apart from last-run.json, which every replay below writes again.
    const first = await runCli(['-w', '2', `--shuffle=${seedPuttingAFirst()}`, '--reporter', 'dot', '--timeout', '20000', '--record', RECORD], { cwd: fx.dir, env: { DATABASE_URL: url(0) } });
    const record = loadRecord(fx.dir, RECORD);
    fxPair.write(RECORD, JSON.stringify(record));
    // A session setting survives no new connection, so the probes may share their database (each bisect has its
    // own): a dozen probes stay quick. Fresh databases per probe are checked below, with a row as the culprit.
    const bisect = (dir: string, i: number, extra: string[]): Promise<CliResult> =>
      runCli(['bisect', RECORD, '--test', B, '--isolation', 'shared', '--timeout', '20000', ...extra], { cwd: dir, env: { DATABASE_URL: url(i) } });
    const [replays, ddmin, pair] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, (_, i) => runCli(['replay', RECORD, '--reporter', 'dot', '--timeout', '20000', '--record', `records/replay${i}.json`], { cwd: fx.dir, env: { DATABASE_URL: url(i) } }))),
      bisect(fx.dir, 10, []).then(readBisect),
      bisect(fxPair.dir, 11, ['--pair']).then(readBisect),
    ]);
    const replayed = replays.map((r, i) => {
      // A replay that wrote no record failed before its run: its own output says why.
      if (!existsSync(path.join(fx.dir, `records/replay${i}.json`))) throw new Error(`replay ${i} wrote no record (exit ${r.code}):\n${r.output}`);
      return schedule(loadRecord(fx.dir, `records/replay${i}.json`));
    });
    // The command bisect printed, as a user would paste it.
    const [, command, ...args] = (ddmin.reproduce ?? 'bulkhead replay missing').split(' ');
    const again = await runCli([command ?? '', ...args, '--reporter', 'dot'], { cwd: fx.dir, env: { DATABASE_URL: url(0) } });
    return { first, record, replays, replayed, ddmin, pair, again };
  } finally {
    fx.remove();
    fxPair.remove();
  }
}

// B fails when a row A inserted is still there. Replay and every bisect probe start from a fresh database, so the
// target itself never gains the row, and no probe sees a row an earlier probe left.
const ROWS = {
  'test/a.spec.js': `import { db } from 'bulkhead';
describe('rows a', function () {
  it('a1', async function () { await (await db()).query('SELECT count(*) FROM marks'); });
  it('A leaves a row behind', async function () { await (await db()).query("INSERT INTO marks VALUES ('A')"); });
});
`,
  'test/c.spec.js': `import { db } from 'bulkhead';
import { expect } from 'chai';
describe('rows c', function () {
  it('B expects no marks', async function () { expect((await (await db()).query('SELECT who FROM marks')).rows).to.deep.equal([]); });
});
`,
};

interface Fresh {
  first: CliResult;
  replay: CliResult;
  bisect: Bisect;
  /** Rows in the target's marks table after the replay, and after the bisect. */
  afterReplay: number;
  afterBisect: number;
}

async function fresh(scratch: ScratchDatabase): Promise<Fresh> {
  const url = scratch.url;
  const marks = async (): Promise<number> => Number((await query<{ n: string }>('SELECT count(*)::text AS n FROM marks', [], url))[0]?.n);
  await query('CREATE TABLE marks (who text)', [], url);
  const fx = fixture(ROWS);
  try {
    // A generous timeout: these runs go side by side with a dozen replays, and nothing here is about time.
    // One worker, in path order: A, then B on the same slot. The run itself uses a slot database of its own, so
    // the target stays empty; the record is then made to read like a default one-worker run's (no isolation set),
    // so what replay and bisect choose is their own default.
    const first = await runCli(['-w', '1', '--isolation', 'database', '--reporter', 'dot', '--timeout', '20000'], { cwd: fx.dir, env: { DATABASE_URL: url } });
    const recorded = loadRecord(fx.dir);
    fx.write(LAST_RUN, JSON.stringify({ ...recorded, config: { ...recorded.config, isolation: null } }));
    const replay = await runCli(['replay', LAST_RUN, '--reporter', 'dot', '--timeout', '20000'], { cwd: fx.dir, env: { DATABASE_URL: url } });
    const afterReplay = await marks();
    await query('DELETE FROM marks', [], url);
    // Probes in order: B alone, B after a1 and A, then (--pair) B after a1 alone: a probe that kept the row the
    // one before it left would fail there and blame a1.
    const bisect = readBisect(await runCli(['bisect', LAST_RUN, '--test', 'rows c B expects no marks', '--pair', '--timeout', '20000'], { cwd: fx.dir, env: { DATABASE_URL: url } }));
    return { first, replay, bisect, afterReplay, afterBisect: await marks() };
  } finally {
    fx.remove();
  }
}

describe('bisect: failures that depend on the order of tests', function () {
  const dbs = scratchSet('bisect', 13);
  let o: Ordered;
  let f: Fresh;

  // The fresh-database runs wait mostly on the server, the replays on the CPU: they go side by side.
  before(async function () {
    [o, f] = await Promise.all([ordered(dbs().slice(0, 12)), fresh(dbs()[12] as ScratchDatabase)]);
  });

  describe('B fails only after A on the same worker', function () {
    it('fails B in the recorded run, after A on the same slot, and passes every other test', function () {
      expect(o.first.code, o.first.output).to.equal(1);
      const tests = testsOf(o.record);
      expect(tests.filter((t) => t.state === 'failed').map((t) => t.title)).to.deep.equal([B]);
      expect(tests.filter((t) => t.state === 'passed')).to.have.length(87);
      const slot = tests.find((t) => t.title === B)?.slot ?? 0;
      const onSlot = schedule(o.record)[slot] ?? [];
      expect(onSlot.indexOf(A), 'A ran before B on the same slot').to.be.within(0, onSlot.indexOf(B) - 1);
      expect(onSlot.indexOf(B), 'tests before B on its slot: A and at least 30 others').to.be.at.least(31);
    });

    it('replay reproduces the failure 10 times out of 10, test by test', function () {
      expect(o.replays).to.have.length(10);
      for (const r of o.replays) {
        expect(r.code, r.output).to.equal(1);
        const { same, total, lines } = readReplay(r);
        expect({ same, total }, r.output).to.deep.equal({ same: 88, total: 88 });
        expect(lines, 'only what differs is listed, and nothing does').to.deep.equal([]);
      }
    });

    it('runs the recorded per-slot sequences exactly: the same tests, in the same order, on the same slots', function () {
      for (const [i, replayed] of o.replayed.entries()) expect(replayed, `replay ${i}`).to.deep.equal(schedule(o.record));
    });

    it('bisect names A, showing each probe, in at most 2*ceil(log2 n)+2 probes', function () {
      const { ddmin } = o;
      expect(ddmin.r.code, ddmin.r.output).to.equal(0);
      expect(ddmin.culprits, ddmin.r.output).to.deep.equal([A]);
      expect(ddmin.candidates).to.be.at.least(31);
      expect(ddmin.progress).to.have.length(ddmin.probes);
      // The first probe runs B alone (it passes), the second after every candidate (it fails).
      expect(ddmin.progress[0]).to.equal('bisect: probe 1: 0 test(s) before it -> passes');
      expect(ddmin.progress[1]).to.equal(`bisect: probe 2: ${ddmin.candidates} test(s) before it -> fails`);
      // Then ddmin halves the candidates: with one culprit, each halving tests at most both halves (2 probes), and
      // ceil(log2 n) halvings leave one test. Two more for the probes above.
      expect(ddmin.probes).to.be.at.most(2 * Math.ceil(Math.log2(ddmin.candidates)) + 2);
    });

    it('bisect --pair names A in at most ceil(log2 n)+3 probes', function () {
      const { pair } = o;
      expect(pair.r.code, pair.r.output).to.equal(0);
      expect(pair.culprits, pair.r.output).to.deep.equal([A]);
      expect(pair.progress).to.have.length(pair.probes);
      // One probe per halving (the half that fails is kept, else the other), plus B alone, B after everything, and
      // at most one to confirm the last test standing when it was never probed by itself.
      expect(pair.probes).to.be.at.most(Math.ceil(Math.log2(pair.candidates)) + 3);
    });

    it('prints the command that reproduces the failure, and that command does', function () {
      expect(o.ddmin.reproduce).to.equal(`bulkhead replay ${path.join('.bulkhead', 'bisect.json')}`);
      expect(o.again.code, o.again.output).to.equal(1);
      expect(readReplay(o.again), o.again.output).to.deep.equal({
        same: 2,
        total: 2,
        lines: [],
      });
    });
  });

  describe('replay and bisect on fresh databases, never on the target', function () {
    it('records B failing after A', function () {
      expect(f.first.code, f.first.output).to.equal(1);
      expect(f.first.output).to.match(/^2 passed, 1 failed$/m);
    });

    it('replays a one-slot record on a fresh slot database: the failure again, the target untouched', function () {
      expect(f.replay.code, f.replay.output).to.equal(1);
      expect(readReplay(f.replay), f.replay.output).to.include({ same: 3, total: 3 });
      expect(f.afterReplay, 'rows A left in the target database').to.equal(0);
    });

    it('bisects with every probe on a fresh database: A is named, the target untouched', function () {
      expect(f.bisect.r.code, f.bisect.r.output).to.equal(0);
      expect(f.bisect.culprits, f.bisect.r.output).to.deep.equal(['rows a A leaves a row behind']);
      expect(f.afterBisect, 'rows A left in the target database').to.equal(0);
    });
  });
});
