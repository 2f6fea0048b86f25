// --shuffle[=seed]: files and the tests inside each suite in a seeded random order, the same for the same seed,
// files and workers; hooks stay with their suites; the seed is printed and recorded so the order can be had again.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import type { SpecFile } from '../../src/plan/discover.js';
import { plan } from '../../src/plan/schedule.js';
import { rng, shuffled } from '../../src/protocol/random.js';
import { loadRecord, schedule, scratchSet } from './lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

const FILES = ['a', 'b', 'c', 'd', 'e'];
const NESTED = ['x', 'y', 'z'];

// Every hook and test appends a line to its slot's log, so the order is read from what really ran.
function suiteFile(name: string): string {
  return `import { appendFileSync } from 'node:fs';
const log = (line) => appendFileSync(process.env.ORDER_LOG + '-w' + process.env.BULKHEAD_WORKER + '.log', line + '\\n');
function hooks(suite) {
  before(() => log('before ' + suite));
  beforeEach(function () { log('beforeEach ' + suite + ' > ' + this.currentTest.fullTitle()); });
  afterEach(function () { log('afterEach ' + suite + ' > ' + this.currentTest.fullTitle()); });
  after(() => log('after ' + suite));
}
describe('${name}', function () {
  hooks('${name}');
  for (let i = 1; i <= 5; i++) it('t' + i, function () { log('test ' + this.test.fullTitle()); });
  for (const inner of ${JSON.stringify(NESTED)}) {
    describe(inner, function () {
      hooks('${name} ' + inner);
      for (let i = 1; i <= 4; i++) it('u' + i, function () { log('test ' + this.test.fullTitle()); });
    });
  }
});
`;
}

const SUITES = Object.fromEntries(FILES.map((f) => [`test/${f}.spec.js`, suiteFile(f)]));

interface Run {
  r: CliResult;
  record: RunRecord;
  /** Per slot, every line its hooks and tests logged. */
  logs: Record<number, string[]>;
  /** Per slot, the tests in the order they ran. */
  tests: Record<number, string[]>;
}

/** The lines mocha must log for one suite, given the order its tests and child suites ran in. */
function expectedLog(suite: string, chain: string[], ran: string[]): string[] {
  const own = [...chain, suite];
  const direct = ran.filter((t) => t.startsWith(`${suite} `) && !NESTED.some((n) => t.startsWith(`${suite} ${n} `)));
  const children = [...new Set(ran.filter((t) => !direct.includes(t) && t.startsWith(`${suite} `)).map((t) => t.split(' ').slice(0, own.length + 1).join(' ')))];
  const lines = [`before ${suite}`];
  for (const t of direct) {
    lines.push(...own.map((s) => `beforeEach ${s} > ${t}`), `test ${t}`, ...[...own].reverse().map((s) => `afterEach ${s} > ${t}`));
  }
  for (const child of children) lines.push(...expectedLog(child, own, ran));
  lines.push(`after ${suite}`);
  return lines;
}

/** Per suite (file or nested), the order its own tests ran in. */
function suiteOrders(tests: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of tests) {
    const suite = t.split(' ').slice(0, -1).join(' ');
    out.set(suite, [...(out.get(suite) ?? []), t]);
  }
  return out;
}

describe('order: --shuffle', function () {
  const dbs = scratchSet('order', 6);
  const runs = new Map<string, Run>();
  let fx: Fixture;

  // The runs share no database (each has its own) and no log (each has its own prefix), so they go side by side.
  async function shuffle(name: string, value: string, db: number): Promise<Run> {
    const prefix = path.join(fx.dir, `log-${name}`);
    const flag = value === '' ? '--shuffle' : `--shuffle=${value}`;
    const r = await runCli(['-w', '2', flag, '--reporter', 'dot', '--record', `records/${name}.json`], { cwd: fx.dir, env: { DATABASE_URL: dbs()[db]?.url, ORDER_LOG: prefix } });
    const logs: Record<number, string[]> = {};
    const tests: Record<number, string[]> = {};
    for (const slot of [1, 2]) {
      logs[slot] = readFileSync(`${prefix}-w${slot}.log`, 'utf8').trimEnd().split('\n');
      tests[slot] = logs[slot].filter((l) => l.startsWith('test ')).map((l) => l.slice('test '.length));
    }
    const run = { r, record: loadRecord(fx.dir, `records/${name}.json`), logs, tests };
    runs.set(name, run);
    return run;
  }

  function run(name: string): Run {
    const found = runs.get(name);
    if (found === undefined) throw new Error(`the run "${name}" did not happen`);
    return found;
  }

  before(async function () {
    fx = fixture(SUITES);
    await Promise.all([shuffle('same1', '4242', 0), shuffle('same2', '4242', 1), shuffle('same3', '4242', 2), shuffle('other', '777', 3), shuffle('fresh', '', 4)]);
    const seed = run('fresh').record.seed;
    await shuffle('again', String(seed), 5);
  });

  after(function () {
    fx?.remove();
  });

  it('runs every test once, on two slots', function () {
    for (const [name, { r, tests }] of runs) {
      expect(r.code, `${name}: ${r.output}`).to.equal(0);
      expect(closingLine(r.output), name).to.deep.equal({ passed: 85, failed: 0, skipped: 0 });
      expect([...(tests[1] ?? []), ...(tests[2] ?? [])], name).to.have.length(85);
      expect(tests[1], name).to.not.be.empty;
      expect(tests[2], name).to.not.be.empty;
    }
  });

  it('records the order that really ran: the per-slot schedule matches what each worker logged', function () {
    for (const [name, { record, tests }] of runs) expect(schedule(record), name).to.deep.equal(tests);
  });

  it('gives the identical order in three runs with the same seed', function () {
    const first = run('same1').tests;
    expect(run('same2').tests).to.deep.equal(first);
    expect(run('same3').tests).to.deep.equal(first);
  });

  it('shuffles the files, the tests inside each suite and the sibling suites', function () {
    const { tests } = run('same1');
    const all = [...(tests[1] ?? []), ...(tests[2] ?? [])];
    const declared = (suite: string, count: number, prefix: string): string[] => Array.from({ length: count }, (_, i) => `${suite} ${prefix}${i + 1}`);
    const orders = suiteOrders(all);
    const moved = [...orders].filter(([suite, order]) => {
      const nested = suite.includes(' ');
      return order.join() !== declared(suite, nested ? 4 : 5, nested ? 'u' : 't').join();
    });
    // 20 suites of 4 or 5 tests: a real shuffle leaves almost none of them in declaration order.
    expect(moved.length, 'suites whose tests left declaration order').to.be.greaterThan(10);
    const nestedOrder = (file: string): string => [...new Set(all.filter((t) => t.startsWith(`${file} `) && /^\S+ [xyz] /.test(t)).map((t) => t.split(' ')[1]))].join('');
    expect(FILES.map(nestedOrder).filter((o) => o !== NESTED.join('')), 'files whose nested suites left declaration order').to.not.be.empty;
    const fileOrder = (slot: string[] | undefined): string[] => [...new Set((slot ?? []).map((t) => t.split(' ')[0] ?? ''))];
    const perSlot = [fileOrder(tests[1]), fileOrder(tests[2])];
    expect(perSlot.flat().sort()).to.deep.equal(FILES);
    expect(perSlot.flat(), 'files in sorted order, dealt round robin').to.not.deep.equal(['a', 'c', 'e', 'b', 'd']);
  });

  it('gives a different order for a different seed, inside suites as well as across files', function () {
    const a = run('same1').tests;
    const b = run('other').tests;
    expect(b).to.not.deep.equal(a);
    const ordersA = suiteOrders([...(a[1] ?? []), ...(a[2] ?? [])]);
    const ordersB = suiteOrders([...(b[1] ?? []), ...(b[2] ?? [])]);
    const differing = [...ordersA].filter(([suite, order]) => ordersB.get(suite)?.join() !== order.join());
    expect(differing.length, 'suites ordered differently by the two seeds').to.be.greaterThan(10);
  });

  it('prints the seed at the start and at the end, records it, and the recorded seed gives the same order again', function () {
    const fresh = run('fresh');
    const seed = fresh.record.seed;
    expect(seed).to.be.a('number');
    const header = fresh.r.output.split('\n').find((l) => l.startsWith('bulkhead: 5 files'));
    expect(header, fresh.r.output).to.match(new RegExp(`, seed ${seed}(,|$)`));
    expect(fresh.r.output).to.match(new RegExp(`^seed: ${seed} \\(reproduce the order with --shuffle=${seed}\\)$`, 'm'));
    const again = run('again');
    expect(again.record.seed).to.equal(seed);
    expect(again.tests).to.deep.equal(fresh.tests);
  });

  it('keeps every hook with its suite: before/after around the suite, each-hooks around each of its tests', function () {
    for (const [name, { logs, tests }] of runs) {
      for (const slot of [1, 2]) {
        const ran = tests[slot] ?? [];
        const files = [...new Set(ran.map((t) => t.split(' ')[0] ?? ''))];
        expect(logs[slot], `${name} w${slot}`).to.deep.equal(files.flatMap((f) => expectedLog(f, [], ran)));
      }
    }
  });
});

describe('order: the plan never shuffles the caller’s arrays', function () {
  const files: SpecFile[] = 'abcdefghij'.split('').map((c) => ({ rel: `test/${c}.spec.js`, path: `/project/test/${c}.spec.js` }));

  it('plan() leaves the file list as it was, even a frozen one', function () {
    const given = Object.freeze([...files]);
    const p = plan(given, { workers: 3, seed: 99, repeat: 1 });
    expect(given).to.deep.equal(files);
    expect(p.kind === 'slots' ? p.slots.flat().map((e) => e.file.rel) : []).to.have.members(files.map((f) => f.rel));
  });

  it('shuffled() returns a shuffled copy and leaves its input alone', function () {
    const input = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const out = shuffled(input, rng(5));
    expect(input).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(out).to.have.members([...input]).and.not.deep.equal([...input]);
  });

  it('plans the same slots for the same seed, files and workers, and others for another seed', function () {
    const order = (seed: number): string[][] => {
      const p = plan(files, { workers: 3, seed, repeat: 1 });
      return p.kind === 'slots' ? p.slots.map((s) => s.map((e) => e.file.rel)) : [];
    };
    expect(order(1)).to.deep.equal(order(1));
    expect(order(1)).to.not.deep.equal(order(2));
  });

  it('gives neighbouring seeds unrelated orders', function () {
    // A seed fed raw into the generator makes the first draws linear in it: seeds s and s+1 then never put the same
    // file last. Independent shuffles agree on the last of 10 items one time in 10.
    const items = Array.from({ length: 10 }, (_, i) => i);
    let same = 0;
    for (let s = 1; s <= 1000; s++) if (shuffled(items, rng(s)).at(-1) === shuffled(items, rng(s + 1)).at(-1)) same++;
    expect(same).to.be.within(60, 140);
  });
});
