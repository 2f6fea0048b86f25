// The project's own mocha (issue 9, defect 5). A spec that takes `describe` from 'mocha' and checks that its test
// is an instance of that module's Test passes only when the mocha running it is the project's copy, so the same
// file proves which copy ran, under `mocha --require bulkhead/register` (the reset rule must act: a failed
// transaction is followed by a fresh connection) and under bulkhead. mocha 11 is the repository's `mocha11`
// package; mocha 12 is bulkhead's own. A copy outside the supported range is refused with exit 2 by both.
import { expect } from 'chai';
import { mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const suite = (major: number): string => `import { describe, it } from 'mocha';
import Mocha from 'mocha';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { db } from 'bulkhead';

const require = createRequire(import.meta.url);
let firstPid;
describe('the project mocha', function () {
  it('runs this file: its Test, its version', function () {
    expect(this.test).to.be.instanceOf(Mocha.Test);
    expect(require('mocha/package.json').version).to.match(/^${major}\\./);
  });
  it('breaks the connection with a database error', async () => {
    const c = await db();
    firstPid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await c.query('BEGIN');
    await c.query('SELECT 1/0');
  });
  it('passes on a fresh connection', async () => {
    const c = await db();
    expect(c.getTransactionStatus()).to.equal('I');
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
    expect(rows[0].pid).to.not.equal(firstPid);
  });
});
`;

const EXPECTED = {
  passed: ['runs this file: its Test, its version', 'passes on a fresh connection'],
  failed: ['breaks the connection with a database error'],
};

for (const [major, pkg] of [[11, 'mocha11'], [12, 'mocha']] as const) {
  describe(`compat: mocha ${major} in the project`, function () {
    let register: CliResult;
    let run: CliResult;
    // A second run of the same project: a project's own copy is bundled into one file for the workers during the
    // first run (src/run/mochabundle.ts), and the second run's workers load that file in its place.
    let again: CliResult;
    let cached: string[] = [];
    before(async function () {
      const fx = fixture({ 'test/copy.spec.js': suite(major) });
      try {
        symlinkSync(path.join(REPO, 'node_modules', pkg), path.join(fx.dir, 'node_modules', 'mocha'), 'dir');
        const bin = path.join(fx.dir, 'node_modules', 'mocha', 'bin', 'mocha.js');
        register = await runMocha(['--require', 'bulkhead/register', '--timeout', '10000', 'test/copy.spec.js'], { cwd: fx.dir }, bin);
        run = await runCli(['-w', '1', 'test/copy.spec.js'], { cwd: fx.dir });
        const cache = path.join(fx.dir, '.bulkhead', 'cache');
        cached = readdirSync(cache, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${d.name}/${readdirSync(path.join(cache, d.name)).sort().join(',')}`);
        again = await runCli(['-w', '1', 'test/copy.spec.js'], { cwd: fx.dir });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
        again = run;
      } finally {
        fx.remove();
      }
    });

    it('mocha --require bulkhead/register patches the running copy: db() works and the reset rule acts', function () {
      expect(specOutcomes(register.output), register.output).to.deep.equal(EXPECTED);
      expect(register.code, register.output).to.equal(1);
    });

    it(`bulkhead runs the spec on the project's mocha ${major}, with the same outcomes`, function () {
      expect(specOutcomes(run.output), run.output).to.deep.equal(EXPECTED);
      expect(run.code, run.output).to.equal(1);
    });

    it(major === 12 ? 'bulkhead\'s own mocha 12 ships as one file: nothing is cached' : 'the next run loads the project\'s copy as one cached file, with the same outcomes', function () {
      if (major === 12) {
        expect(cached).to.deep.equal([]);
        return;
      }
      expect(cached).to.have.lengthOf(1);
      // mocha.js, CommonJS by its own package.json: mocha's stack filter leaves out the frames of a file so named.
      expect(cached[0]).to.match(/^mocha-11\.[\d.]+-[0-9a-f]{12}\/mocha\.js,package\.json$/);
      expect(specOutcomes(again.output), again.output).to.deep.equal(EXPECTED);
      expect(again.code, again.output).to.equal(1);
    });
  });
}

describe('compat: a project mocha outside the supported range', function () {
  let register: CliResult;
  let run: CliResult;
  let copy: string;
  before(async function () {
    const fx = fixture({ 'test/copy.spec.js': suite(10) });
    try {
      // A mocha 10 as far as its package says, whose bin starts mocha 11's CLI: the copy that is running is judged.
      copy = path.join(fx.dir, 'node_modules', 'mocha');
      mkdirSync(path.join(copy, 'bin'), { recursive: true });
      writeFileSync(path.join(copy, 'package.json'), '{"name":"mocha","version":"10.8.2","main":"index.js"}\n');
      writeFileSync(path.join(copy, 'bin', 'mocha.js'), `require(${JSON.stringify(path.join(REPO, 'node_modules', 'mocha11', 'bin', 'mocha.js'))});\n`);
      copy = realpathSync(copy);
      register = await runMocha(['--require', 'bulkhead/register', 'test/copy.spec.js'], { cwd: fx.dir }, path.join(copy, 'bin', 'mocha.js'));
      run = await runCli(['-w', '1', 'test/copy.spec.js'], { cwd: fx.dir });
    } finally {
      fx.remove();
    }
  });

  it('bulkhead refuses it: exit 2, one paragraph naming both copies and the fix, nothing run', function () {
    expect(run.code, run.output).to.equal(2);
    expect(run.stdout, run.output).to.equal('');
    expect(run.stderr).to.include(`mocha 10.8.2 (${copy})`);
    expect(run.stderr).to.include(`its own copy is mocha 12.`);
    expect(run.stderr).to.include('npm install --save-dev mocha@12');
    expect(run.stderr.trim().split('\n'), run.stderr).to.have.lengthOf(1);
  });

  it('mocha --require bulkhead/register refuses it the same way', function () {
    expect(register.code, register.output).to.equal(2);
    expect(register.stderr).to.match(/^bulkhead\/register: The mocha running bulkhead\/register is mocha 10\.8\.2 /);
    expect(register.stderr).to.include(copy);
    expect(register.stderr.trim().split('\n'), register.stderr).to.have.lengthOf(1);
    expect(specOutcomes(register.output)).to.deep.equal({ passed: [], failed: [] });
  });
});
