// Defect 9 of issue 10 (the record parts): a structurally damaged run record is refused with exit 2 and a message
// that says where it is damaged and what to do, by every command that reads one (replay, bisect, --last-failed),
// never "internal error"; and a replay whose recorded tests no longer exist in the project says so and exits 2
// instead of running nothing and passing.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { CLEAN_SERVER, clusterPerFile, readRun, watchCluster } from './support.js';
import type { ServerView } from './support.js';

const FILES = {
  'test/a.spec.js': `import { db } from 'bulkhead';
describe('a', function () {
  it('keeps its name', async function () { await (await db()).query('SELECT 1'); });
  it('is renamed later', function () {});
});
`,
  'test/b.spec.ts': "describe('b', function () { it('passes', function () {}); });\n",
};

type Damage = (r: { slots: { files: unknown; slot: unknown }[] }) => void;

/** Each damage, and where the message must say the record is damaged. */
const DAMAGES: Record<string, { damage: Damage; where: string }> = {
  'files: null': { damage: (r) => void ((r.slots[0] as { files: unknown }).files = null), where: 'record.slots[0].files is null where a list belongs' },
  'tests not a list': {
    damage: (r) => void (((r.slots[0] as { files: { tests: unknown }[] }).files[0] as { tests: unknown }).tests = { first: 1 }),
    where: 'record.slots[0].files[0].tests is an object where a list belongs',
  },
  'a null slot': { damage: (r) => void ((r.slots as unknown[])[0] = null), where: 'record.slots[0] is null where an object belongs' },
};

describe('reliability: damaged records and replays of tests that are gone (issue 10, defect 9)', function () {
  this.timeout(90000);
  const rig = clusterPerFile();
  let fx: Fixture;
  let first: CliResult;
  const damaged: Record<string, { replay: CliResult; lastFailed: CliResult }> = {};
  let replay: CliResult;
  let server: ServerView;

  before(async function () {
    fx = fixture(FILES);
    const env = { DATABASE_URL: rig().url };
    const watch = await watchCluster(rig().cluster);
    first = await runCli(['-w', '2', 'test/*.spec.js', 'test/*.spec.ts'], { cwd: fx.dir, env });
    const good = readFileSync(path.join(fx.dir, '.bulkhead', 'last-run.json'), 'utf8');
    writeFileSync(path.join(fx.dir, 'good.json'), good);
    // The damaged records are refused before any server is opened: they run side by side.
    await Promise.all(
      Object.entries(DAMAGES).map(async ([name, { damage }], i) => {
        const record = JSON.parse(good) as Parameters<Damage>[0];
        damage(record);
        writeFileSync(path.join(fx.dir, `bad${i}.json`), JSON.stringify(record));
        const dir = fixture({ ...FILES, '.bulkhead/last-run.json': JSON.stringify(record) });
        try {
          const [r1, r2] = await Promise.all([
            runCli(['replay', `bad${i}.json`], { cwd: fx.dir, env }),
            runCli(['--last-failed', 'test/*.spec.js', 'test/*.spec.ts'], { cwd: dir.dir, env }),
          ]);
          damaged[name] = { replay: r1, lastFailed: r2 };
        } finally {
          dir.remove();
        }
      }),
    );
    // The project moves on: one recorded test is renamed.
    fx.write('test/a.spec.js', FILES['test/a.spec.js'].replace('is renamed later', 'has a new name'));
    replay = await runCli(['replay', 'good.json'], { cwd: fx.dir, env });
    server = await watch.check();
  });

  after(function () {
    fx?.remove();
  });

  it('the recorded run passes, every test accounted for', function () {
    expect(first.code, first.output).to.equal(0);
    expect(readRun({ ...fx, dir: fx.dir }, 'good.json').tests).to.deep.equal({
      'test/a.spec.js: a keeps its name': 'passed',
      'test/a.spec.js: a is renamed later': 'passed',
      'test/b.spec.ts: b passes': 'passed',
    });
  });

  for (const [name, { where }] of Object.entries(DAMAGES)) {
    it(`a record with ${name}: replay and --last-failed exit 2, saying where it is damaged and what to do`, function () {
      const { replay: r1, lastFailed: r2 } = damaged[name] ?? {};
      for (const r of [r1, r2]) {
        expect(r?.code, r?.output).to.equal(2);
        expect(r?.stderr).to.include(`is damaged: ${where}; run the suite again to write a fresh one (or restore the file).`);
        expect(r?.output).to.not.include('internal error');
      }
    });
  }

  it('a replay whose recorded test no longer exists runs the rest, names the missing one, and exits 2', function () {
    expect(replay.output).to.include('replay: 1 recorded test no longer exists in this project (renamed or removed)');
    expect(replay.output).to.match(/^ {2}test\/a\.spec\.js: a is renamed later$/m);
    expect(replay.output).to.include('replay: 2 of 3 outcomes reproduced; 1 differ:');
    expect(replay.output).to.match(/^2 passed, 0 failed$/m);
    expect(replay.code, replay.output).to.equal(2);
  });

  it('leaves no session, abandons none, and drops its databases', function () {
    expect(server, replay.output).to.deep.equal(CLEAN_SERVER);
  });
});
