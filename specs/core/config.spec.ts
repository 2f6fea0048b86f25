// bulkhead is a drop-in for mocha: it reads the project's mocha configuration in every form, honours the
// run-shaping options, and gives specs the mocha context they expect.
import { expect } from 'chai';
import { closingLine, runProjects, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { notRun } from '../helpers/output.js';
import { scratchPerSuite } from '../helpers/server.js';

const ONLY_FILES = {
  'test/a.spec.js': `describe('a', function () { it('a1', () => {}); it('a2', () => {}); });\n`,
  'test/b.spec.js': `describe('b', function () { it.only('b1 only', () => {}); it('b2', () => {}); });\n`,
  'test/c.spec.js': `describe('c', function () { it('c1', () => {}); });\n`,
};

const PROJECTS: Record<string, { files: Record<string, string>; args: string[] }> = {
  yml: {
    args: ['-w', '2'],
    files: {
      '.mocharc.yml': "spec: 'checks/**/*.check.js'\ntimeout: 1500\nrequire:\n  - ./hooks/root.js\n",
      'hooks/root.js': 'export const mochaHooks = {\n  beforeEach() { globalThis.rootBeforeEach = (globalThis.rootBeforeEach ?? 0) + 1; },\n};\n',
      'checks/a.check.js': yamlCheck('yml a'),
      'checks/b.check.js': yamlCheck('yml b'),
      'test/outside.spec.js': "it('is outside the configured spec', () => {});\n",
    },
  },
  typescript: {
    args: ['-w', '2'],
    files: {
      '.mocharc.json': '{ "spec": ["src/**/*.test.ts", "src/**/*.test.mts"] }\n',
      'src/a.test.ts': `import path from 'node:path';
import { expect } from 'chai';

interface Seen { file: string; state: string | undefined; parent: string | undefined }

describe('typed', function () {
  afterEach(function () {
    const t = this.currentTest;
    const seen: Seen = { file: path.basename(t?.file ?? ''), state: t?.state, parent: t?.parent?.title };
    console.log('AFTER ' + JSON.stringify(seen));
  });
  it('passes with a type annotation', function () {
    const title: string | undefined = this.test?.title;
    expect(title).to.equal('passes with a type annotation');
  });
  it('fails on purpose', function () {
    expect(1 + 1).to.equal(3);
  });
});
`,
      'src/b.test.mts': "import { expect } from 'chai';\nconst kind: string = 'mts';\ndescribe('module', () => { it('runs an .mts spec', () => { expect(kind).to.equal('mts'); }); });\n",
    },
  },
  packageKey: {
    args: ['-w', '1'],
    files: {
      'package.json': '{ "type": "module", "mocha": { "spec": "suites/*.js", "ui": "tdd", "timeout": 2500 } }\n',
      'suites/t.js': `import { expect } from 'chai';
suite('tdd suite', function () {
  let ready = false;
  setup(function () { ready = true; });
  test('runs with the tdd interface and the package.json timeout', function () {
    expect(ready).to.equal(true);
    expect(this.timeout()).to.equal(2500);
  });
});
`,
    },
  },
  grep: {
    args: ['-w', '1', '--grep', 'alpha'],
    files: { 'test/g.spec.js': "describe('grep', function () { it('alpha one', () => {}); it('beta two', () => {}); it('alpha three', () => {}); });\n" },
  },
  bail: {
    args: ['-w', '1', '--bail'],
    files: {
      'test/a.spec.js': "describe('a', function () { it('a1', () => {}); it('a2 fails', () => { throw new Error('a2 boom'); }); it('a3', () => {}); });\n",
      'test/b.spec.js': "describe('b', function () { it('b1', () => {}); it('b2', () => {}); });\n",
    },
  },
  only: { args: ['-w', '2'], files: ONLY_FILES },
  forbidOnly: { args: ['-w', '2', '--forbid-only'], files: ONLY_FILES },
  globalFixtures: {
    args: ['-w', '2', '--verbose', '--require', './fixtures.js'],
    files: {
      'fixtures.js': `import { writeFileSync } from 'node:fs';
export function mochaGlobalSetup() { writeFileSync('setup-ran.txt', String(process.pid)); console.log('GLOBAL SETUP'); }
export function mochaGlobalTeardown() { console.log('GLOBAL TEARDOWN'); }
`,
      'test/a.spec.js': "import { readFileSync } from 'node:fs';\nit('sees the global setup', () => { if (readFileSync('setup-ran.txt', 'utf8') === '') throw new Error('no setup'); });\n",
      'test/b.spec.js': "it('runs beside it', () => {});\n",
    },
  },
  forbidPending: {
    args: ['-w', '1', '--forbid-pending'],
    files: {
      'test/p.spec.js': `describe('pending', function () {
  it('has no body');
  it.skip('is skipped', function () {});
  it('skips itself', function () { this.skip(); });
  it('runs', function () {});
});
`,
    },
  },
};

function yamlCheck(title: string): string {
  return `import { expect } from 'chai';
describe('${title}', function () {
  it('sees the root hook plugin', function () { expect(globalThis.rootBeforeEach).to.be.greaterThan(0); });
  it('has the configured timeout', function () { expect(this.timeout()).to.equal(1500); });
});
`;
}

describe('config: mocha configuration and options', function () {
  let result: (name: keyof typeof PROJECTS) => CliResult;

  // Independent projects, run side by side to keep the file fast.
  before(async function () {
    result = await runProjects(PROJECTS);
  });

  it('.mocharc.yml: spec, timeout and a root hook plugin (loaded in every worker) apply unchanged', function () {
    const r = result('yml');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['sees the root hook plugin', 'has the configured timeout', 'sees the root hook plugin', 'has the configured timeout'], failed: [] });
    expect(r.output).to.not.include('is outside the configured spec');
    expect(r.code).to.equal(0);
  });

  it('.mocharc.json: .ts and .mts specs run with no build step; this.test and this.currentTest (.file, .state, .parent) work', function () {
    const r = result('typescript');
    const { passed, failed } = specOutcomes(r.output);
    // Two files on two workers: either may be reported first.
    expect(passed.sort(), r.output).to.deep.equal(['passes with a type annotation', 'runs an .mts spec']);
    expect(failed).to.deep.equal(['fails on purpose']);
    expect(r.output).to.include('AFTER {"file":"a.test.ts","state":"passed","parent":"typed"}');
    expect(r.output).to.include('AFTER {"file":"a.test.ts","state":"failed","parent":"typed"}');
    expect(r.code).to.equal(1);
  });

  it('package.json "mocha": spec, ui tdd and timeout are read', function () {
    const r = result('packageKey');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['runs with the tdd interface and the package.json timeout'], failed: [] });
    expect(r.code).to.equal(0);
  });

  it('--grep runs only the matching tests', function () {
    const r = result('grep');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['alpha one', 'alpha three'], failed: [] });
    expect(r.output).to.not.include('beta two');
    expect(closingLine(r.output)).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
  });

  it('--bail stops after the first failure and lists every later test as not run', function () {
    const r = result('bail');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['a1'], failed: ['a2 fails'] });
    const reason = '--bail stopped the run after the first failure';
    expect(notRun(r.output)).to.deep.equal([
      { file: 'test/a.spec.js', title: 'a a3', reason },
      { file: 'test/b.spec.js', title: 'b b1', reason },
      { file: 'test/b.spec.js', title: 'b b2', reason },
    ]);
    expect(r.code).to.equal(1);
  });

  it('.only in one file of several runs only that test, as serial mocha does', function () {
    const r = result('only');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['b1 only'], failed: [] });
    expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 0, skipped: 0 });
    expect(r.code).to.equal(0);
  });

  it('--forbid-only fails the run when a file uses .only, naming the file', function () {
    const r = result('forbidOnly');
    expect(r.code, r.output).to.equal(1);
    expect(r.stderr).to.include('.only is forbidden');
    expect(r.stderr).to.include('test/b.spec.js');
    expect(specOutcomes(r.output).passed).to.deep.equal([]);
  });

  it('mochaGlobalSetup and mochaGlobalTeardown run once around the run; the closing line stays the last line', function () {
    const r = result('globalFixtures');
    expect(specOutcomes(r.output).passed.sort(), r.output).to.deep.equal(['runs beside it', 'sees the global setup']);
    expect(r.stdout.match(/GLOBAL SETUP/g), r.output).to.have.length(1);
    expect(r.stdout.match(/GLOBAL TEARDOWN/g), r.output).to.have.length(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1), r.stdout).to.equal('2 passed, 0 failed');
    expect(r.stdout.indexOf('GLOBAL TEARDOWN')).to.be.below(r.stdout.indexOf('2 passed, 0 failed'));
    expect(r.code).to.equal(0);
  });

  it('--forbid-pending fails every pending test (no body, it.skip, this.skip()) as serial mocha does', function () {
    const r = result('forbidPending');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['runs'], failed: ['has no body', 'is skipped', 'skips itself'] });
    expect(r.output.match(/Pending test forbidden/g), r.output).to.have.length(3);
    expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 3, skipped: 0 });
    expect(r.code).to.equal(1);
  });
});

// Their own database: the projects above copy the shared target for their workers, which needs it idle.
describe('config: TypeScript specs and db()', function () {
  const scratch = scratchPerSuite('tsdb');
  const PROJECTS_DB: Record<string, { files: Record<string, string>; args: string[] }> = {
    typescriptDb: {
      args: ['-w', '1'],
      files: {
        '.mocharc.json': '{ "spec": ["test/*.spec.ts"] }\n',
        'test/db.spec.ts': `import { expect } from 'chai';
import { db, workerSlot } from 'bulkhead';
import type pg from 'pg';

describe('typed db', function () {
    it('breaks its connection with a SQL error', async function () {
      const c: pg.Client = await db();
      await c.query('BEGIN');
      await c.query('SELECT 1/0');
    });
    it('gets a fresh connection afterwards', async function () {
      const { rows } = await (await db()).query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]?.one).to.equal(1);
      expect(workerSlot()).to.equal(1);
    });
});
`,
      },
    },
    // A CommonJS package: tsx compiles these specs to CommonJS, and their require('bulkhead') loads its own copy.
    typescriptCjs: {
      args: ['-w', '1'],
      files: {
        'package.json': '{ "name": "cjs-project" }\n',
        '.mocharc.json': '{ "spec": ["test/*.spec.cts", "test/*.spec.ts"] }\n',
        'test/a.spec.cts': `const { db } = require('bulkhead');
describe('cts', function () {
    it('queries through db() from a .cts spec', async function () {
      const { rows } = await (await db()).query('SELECT 2 AS two');
      if (rows[0].two !== 2) throw new Error('unexpected row');
    });
});
`,
        'test/b.spec.ts': `import { db } from 'bulkhead';
describe('ts in a CommonJS package', function () {
    it('leaves a transaction open', async function () {
      await (await db()).query('BEGIN');
    });
    it('starts outside a transaction', async function () {
      const c = await db();
      if (c.getTransactionStatus() !== 'I') throw new Error('still in a transaction');
    });
});
`,
      },
    },
  };
  let result: (name: keyof typeof PROJECTS_DB) => CliResult;

  before(async function () {
    result = await runProjects(PROJECTS_DB, { env: { DATABASE_URL: scratch().url }, serial: true });
  });

  it('TypeScript specs get db() and the reset rule, in an ESM package', function () {
    const r = result('typescriptDb');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['gets a fresh connection afterwards'], failed: ['breaks its connection with a SQL error'] });
    expect(r.output).to.include('connection rebuilds: 1 (w1: 1)');
    expect(r.code).to.equal(1);
  });

  it('.cts and .ts specs of a CommonJS package share the worker\'s connection and its reset rule', function () {
    const r = result('typescriptCjs');
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['queries through db() from a .cts spec', 'leaves a transaction open', 'starts outside a transaction'], failed: [] });
    expect(r.output).to.include('connection rebuilds: 1 (w1: 1)');
    expect(r.code).to.equal(0);
  });
});
