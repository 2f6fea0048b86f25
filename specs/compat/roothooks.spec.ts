// Root hook plugins (issue 9, defect 6). Serial mocha runs a plugin's beforeAll/afterAll once for the run; mocha
// --parallel once per file, which ends an app's pool after the first file. bulkhead runs them once per worker by
// default and per file with `rootHooks: 'per-file'`; hooks at a spec file's top level stay per file in every case.
// The same fixture under serial mocha is the control; each hook call is logged to a file by the fixture.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const FILES = ['a', 'b', 'c', 'd'];

const HOOKS_JS = `import { appendFileSync } from 'node:fs';
const log = (what) => appendFileSync(new URL('../hooks.log', import.meta.url), what + ' ' + (process.env.BULKHEAD_WORKER ?? '-') + '\\n');
export const mochaHooks = {
  beforeAll() {
    log('beforeAll');
    this.fromRootHook = 'set';
    if (process.env.FAIL_BEFORE_ALL === '1') throw new Error('migrations failed');
  },
  afterAll(done) {
    log('afterAll');
    done(process.env.FAIL_AFTER_ALL === '1' ? new Error('cleanup failed') : undefined);
  },
  beforeEach() {
    log('beforeEach');
  },
};
`;

function files(): Record<string, string> {
  const out: Record<string, string> = {
    'test/hooks.js': HOOKS_JS,
    '.mocharc.yml': 'require: test/hooks.js\nspec: test/*.spec.js\n',
  };
  for (const f of FILES) {
    out[`test/${f}.spec.js`] = `import { appendFileSync } from 'node:fs';
before(() => appendFileSync(new URL('../hooks.log', import.meta.url), 'file-before ${f}\\n'));
describe('${f}', () => {
  it('${f} one', function () {
    // What the plugin's beforeAll put on \`this\` reaches every test, as in serial mocha.
    if (this.fromRootHook !== 'set') throw new Error('this.fromRootHook is ' + this.fromRootHook);
  });
  it('${f} two', () => {});
});
`;
  }
  return out;
}

interface Seen {
  code: number | null;
  passed: string[];
  failed: { title: string; message: string }[];
  /** How often each hook ran, and on how many distinct workers. */
  calls: Record<string, number>;
  workers: Record<string, number>;
}

function seen(fx: Fixture, r: CliResult): Seen {
  let json: { passes: { fullTitle: string }[]; failures: { fullTitle: string; err: { message?: string } }[] };
  try {
    json = JSON.parse(r.stdout) as typeof json;
  } catch {
    throw new Error(`no JSON report (exit ${r.code}):\n${r.output}`);
  }
  const lines = readFileSync(path.join(fx.dir, 'hooks.log'), 'utf8').trim().split('\n');
  const calls: Record<string, number> = {};
  const workers: Record<string, Set<string>> = {};
  for (const line of lines) {
    const [what = '', who = ''] = line.split(' ');
    calls[what] = (calls[what] ?? 0) + 1;
    (workers[what] ??= new Set()).add(who);
  }
  return {
    code: r.code,
    passed: json.passes.map((t) => t.fullTitle).sort(),
    failed: json.failures.map((t) => ({ title: t.fullTitle, message: t.err.message ?? '' })),
    calls,
    workers: Object.fromEntries(Object.entries(workers).map(([k, v]) => [k, v.size])),
  };
}

const ALL = FILES.flatMap((f) => [`${f} ${f} one`, `${f} ${f} two`]).sort();

describe('root hook plugins: once per worker by default, per file on request, compared with serial mocha', function () {
  this.timeout(120_000);
  const fixtures: Fixture[] = [];
  const runs = new Map<string, Seen>();

  before(async () => {
    const run = async (name: string, go: (fx: Fixture) => Promise<CliResult>, extra: Record<string, string> = {}): Promise<void> => {
      const fx = fixture({ ...files(), ...extra });
      fixtures.push(fx);
      runs.set(name, seen(fx, await go(fx)));
    };
    const bulkhead = (args: string[], env: NodeJS.ProcessEnv = {}) => (fx: Fixture) => runCli(['--isolation', 'shared', '--reporter', 'json', ...args], { cwd: fx.dir, env });
    await Promise.all([
      run('mocha', (fx) => runMocha(['--reporter', 'json'], { cwd: fx.dir })),
      run('per-worker', bulkhead(['-w', '2'])),
      run('per-file', bulkhead(['-w', '2']), { 'bulkhead.config.js': "export default { rootHooks: 'per-file' };\n" }),
      run('mocha failing', (fx) => runMocha(['--reporter', 'json'], { cwd: fx.dir, env: { FAIL_BEFORE_ALL: '1' } })),
      run('failing', bulkhead(['-w', '1'], { FAIL_BEFORE_ALL: '1' })),
      run('mocha failing after', (fx) => runMocha(['--reporter', 'json'], { cwd: fx.dir, env: { FAIL_AFTER_ALL: '1' } })),
      run('failing after', bulkhead(['-w', '2'], { FAIL_AFTER_ALL: '1' })),
    ]);
  });

  after(() => {
    for (const fx of fixtures) fx.remove();
  });

  it('serial mocha: beforeAll and afterAll once, a file-level before per file', () => {
    const m = runs.get('mocha');
    expect(m).to.deep.include({ code: 0, passed: ALL, failed: [], calls: { beforeAll: 1, afterAll: 1, beforeEach: 8, 'file-before': 4 } });
  });

  it('per worker (the default): beforeAll and afterAll once on each of the 2 workers, the rest as in serial mocha', () => {
    const b = runs.get('per-worker');
    expect(b).to.deep.include({ code: 0, passed: ALL, failed: [], calls: { beforeAll: 2, afterAll: 2, beforeEach: 8, 'file-before': 4 } });
    expect(b?.workers).to.deep.include({ beforeAll: 2, afterAll: 2 });
  });

  it("rootHooks: 'per-file': beforeAll and afterAll around every file, as mocha --parallel", () => {
    const b = runs.get('per-file');
    expect(b).to.deep.include({ code: 0, passed: ALL, failed: [], calls: { beforeAll: 4, afterAll: 4, beforeEach: 8, 'file-before': 4 } });
  });

  it('a failing per-worker afterAll fails under the title serial mocha gives it, once per worker, every test passed', () => {
    const m = runs.get('mocha failing after');
    const b = runs.get('failing after');
    expect([m?.passed, m?.failed.map((f) => f.title)]).to.deep.equal([ALL, ['"after all" hook: afterAll in "{root}"']]);
    expect([b?.code, b?.passed, b?.failed.map((f) => f.title)]).to.deep.equal([1, ALL, ['"after all" hook: afterAll in "{root}"', '"after all" hook: afterAll in "{root}"']]);
    expect(b?.failed[0]?.message).to.match(/^the root hook plugin's afterAll failed on worker [12] \(it runs once per worker, as the worker closes: rootHooks 'per-worker'\): cleanup failed$/);
  });

  it('a failing per-worker beforeAll runs no test, as in serial mocha, and names the worker and the files it stopped', () => {
    const m = runs.get('mocha failing');
    const b = runs.get('failing');
    expect(m?.passed).to.deep.equal([]);
    expect(m?.failed.map((f) => f.title)).to.deep.equal(['"before all" hook: beforeAll in "{root}"']);
    expect(b?.passed).to.deep.equal([]);
    expect(b?.code).to.equal(1);
    // Once, on worker 1, and its afterAll still runs as the worker closes (serial mocha runs it too).
    expect(b?.calls).to.deep.include({ beforeAll: 1, afterAll: m?.calls['afterAll'] ?? 0 });
    expect(b?.failed.map((f) => f.title)).to.deep.equal(FILES.map(() => '"before all" hook: beforeAll in "{root}"'));
    expect(b?.failed[0]?.message).to.equal(
      "the root hook plugin's beforeAll failed on worker 1 (it runs once per worker, before its first file: rootHooks 'per-worker'), so no file of this worker runs: migrations failed",
    );
    expect(b?.failed[3]?.message).to.equal(
      "the root hook plugin's beforeAll failed on worker 1 in test/a.spec.js, so this file is not run either; files it stopped so far: test/a.spec.js, test/b.spec.js, test/c.spec.js, test/d.spec.js. The error: migrations failed",
    );
  });
});
