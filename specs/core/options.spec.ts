// mocha's options as a compatibility test against serial mocha found them wanting: --dry-run, --fail-zero,
// --global under --check-leaks, --no-timeouts and duration strings, value flags with a space, attached short
// values, a --require that does not exist, and --delay.
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { normalizeMochaArgs } from '../../src/cli/mochaargs.js';
import { closingLine, runProjects, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { expectUsage } from '../helpers/output.js';

const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): Record<string, unknown> };
const { types, aliases } = require('mocha/lib/cli/run-option-metadata.cjs') as { types: Record<string, string[]>; aliases: Record<string, string[]> };

/** A server nobody listens on: a run that needs the database fails with exit 3. */
const NO_SERVER = { DATABASE_URL: 'postgres://bob@127.0.0.1:1/nowhere_db' };

const TIMEOUT_SPEC = { 'test/t.spec.js': "describe('t', function () { it('reports its timeout', function () { console.log('TIMEOUT ' + this.timeout()); }); });\n" };
const LEAKING = {
  'test/leak.spec.js': "describe('leak', function () { it('sets a global', function () { globalThis.myLeak = 1; }); it('is clean', function () {}); });\n",
};

const RUNS: Record<string, { files: Record<string, string>; args: string[]; env?: NodeJS.ProcessEnv; packages?: string[] }> = {
  dryRun: {
    args: ['-w', '2', '--dry-run'],
    env: NO_SERVER,
    files: {
      'test/a.spec.js': `import { db } from 'bulkhead';
before(function () { console.log('HOOK RAN'); });
describe('a', function () {
  beforeEach(function () { console.log('HOOK RAN'); });
  afterEach(function () { console.log('HOOK RAN'); });
  it('would fail', async function () { console.log('TEST RAN'); await db(); throw new Error('ran'); });
  it.skip('is pending', function () {});
});
`,
      'test/b.spec.js': "describe('b', function () { it('would fail too', function () { console.log('TEST RAN'); throw new Error('ran'); }); });\n",
    },
  },
  failZero: { args: ['-w', '1', '--fgrep', 'zzz', '--fail-zero'], files: TIMEOUT_SPEC },
  zeroWithoutFailZero: { args: ['-w', '1', '--fgrep', 'zzz'], files: TIMEOUT_SPEC },
  failZeroWithTests: { args: ['-w', '1', '--fail-zero'], files: TIMEOUT_SPEC },
  leakAllowedByFlag: { args: ['-w', '1', '--check-leaks', '--global', 'myLeak'], files: LEAKING },
  leakAllowedByRc: { args: ['-w', '1'], files: { ...LEAKING, '.mocharc.yml': 'check-leaks: true\nglobals:\n  - myLeak\n' } },
  leakAllowedByWildcard: { args: ['-w', '1', '--check-leaks', '--globals=my*'], files: LEAKING },
  leakDetected: { args: ['-w', '1', '--check-leaks'], files: LEAKING },
  checkLeaksClean: {
    args: ['-w', '2', '--check-leaks'],
    files: {
      'test/db.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('db', function () {
  it('queries', async function () { const { rows } = await (await db()).query('SELECT 1 AS one'); expect(rows[0].one).to.equal(1); });
  it('queries after a timer', async function () { await new Promise((r) => setTimeout(r, 1)); await (await db()).query('SELECT 2'); });
});
`,
      'test/typed.spec.ts': "describe('typed', function () { it('runs a .ts spec', function () { const n: number = 1; console.log('typed ' + n); }); });\n",
      '.mocharc.json': '{ "extension": ["js", "ts"] }\n',
    },
  },
  noTimeouts: { args: ['-w', '1', '--no-timeouts'], files: TIMEOUT_SPEC },
  rcTimeoutString: { args: ['-w', '1'], files: { ...TIMEOUT_SPEC, '.mocharc.yml': "timeout: '2s'\n" } },
  rcTimeoutFalse: { args: ['-w', '1'], files: { ...TIMEOUT_SPEC, '.mocharc.json': '{ "timeout": false }\n' } },
  badTimeout: { args: ['-w', '1', '--timeout', 'soon'], files: TIMEOUT_SPEC },
  importWithSpace: {
    args: ['-w', '1', '--import', 'tsx', '--import', './hooks.js'],
    packages: ['tsx'],
    files: {
      'hooks.js': 'export const mochaHooks = { beforeEach() { globalThis.hookRan = true; } };\n',
      'test/i.spec.js': "import { expect } from 'chai';\ndescribe('i', function () { it('sees the --import root hook', function () { expect(globalThis.hookRan).to.equal(true); }); });\n",
    },
  },
  attachedShort: { args: ['-w1', '-t4321'], files: TIMEOUT_SPEC },
  attachedJobs: { args: ['-j2', '-s=300'], files: { ...TIMEOUT_SPEC, 'test/u.spec.js': "describe('u', function () { it('reports its slow', function () { console.log('SLOW ' + this.slow()); }); });\n" } },
  missingRequire: { args: ['-w', '1', '-r', './nonexist.js'], files: TIMEOUT_SPEC },
  missingPackage: { args: ['-w', '1', '--require', 'no-such-package-anywhere'], files: TIMEOUT_SPEC },
  throwingRequire: { args: ['-w', '1', '-r', './broken.js'], files: { ...TIMEOUT_SPEC, 'broken.js': "throw new Error('setup broke');\n" } },
  delay: { args: ['-w', '1', '--delay'], files: TIMEOUT_SPEC },
  noConfig: { args: ['-w', '1', '--no-config'], files: { ...TIMEOUT_SPEC, '.mocharc.yml': "spec: 'nowhere/*.js'\ntimeout: 777\n" } },
  specAndExtensionRepeated: {
    args: ['-w', '1', '--spec', 'one/a.check.js', '--spec', 'two', '--extension', 'check.js', '--extension', 'cjs'],
    files: {
      'one/a.check.js': "it('one a', function () {});\n",
      'two/b.check.js': "it('two b', function () {});\n",
      'two/c.cjs': "it('two c', function () {});\n",
      'two/d.js': "it('two d is not a wanted extension', function () {});\n",
    },
  },
};

describe('options: mocha options that change what runs', function () {
  let result: (name: keyof typeof RUNS) => CliResult;

  before(async function () {
    result = await runProjects(RUNS);
  });


  it('--dry-run reports every test as passed without running a test or hook, and needs no database', function () {
    const r = result('dryRun');
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.not.include('RAN');
    expect(specOutcomes(r.output).passed.sort()).to.deep.equal(['would fail', 'would fail too']);
    expect(closingLine(r.output)).to.deep.equal({ passed: 2, failed: 0, skipped: 1 });
    expect(r.output).to.include('(dry-run)');
  });

  it('--fail-zero exits 1 with a message when no test was found; without it, or with tests, the run passes', function () {
    const r = result('failZero');
    expect(r.code, r.output).to.equal(1);
    expect(r.stderr).to.match(/^bulkhead: No test was found to run \(--fail-zero\): .*--fgrep/m);
    expect(result('zeroWithoutFailZero').code).to.equal(0);
    expect(result('failZeroWithTests').code, result('failZeroWithTests').output).to.equal(0);
  });

  it('--global, globals: in the rc file and wildcards allow a global under --check-leaks; an unlisted one is a leak', function () {
    for (const name of ['leakAllowedByFlag', 'leakAllowedByRc', 'leakAllowedByWildcard'] as const) {
      const r = result(name);
      expect(r.code, `${name}: ${r.output}`).to.equal(0);
      expect(closingLine(r.output), name).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    }
    const leak = result('leakDetected');
    expect(leak.code).to.equal(1);
    expect(leak.output).to.include("global leak(s) detected: 'myLeak'");
  });

  it('--check-leaks passes on a clean suite that uses db(), timers and TypeScript on several workers', function () {
    const r = result('checkLeaksClean');
    expect(r.code, r.output).to.equal(0);
    expect(closingLine(r.output)).to.deep.equal({ passed: 3, failed: 0, skipped: 0 });
  });

  it('--no-timeouts and timeout: false disable timeouts; timeout: "2s" is 2000 ms; a bad duration names the key', function () {
    expect(result('noTimeouts').output).to.include('TIMEOUT 0');
    expect(result('noTimeouts').code).to.equal(0);
    expect(result('rcTimeoutFalse').output).to.include('TIMEOUT 0');
    expect(result('rcTimeoutString').output).to.include('TIMEOUT 2000');
    expectUsage(result('badTimeout'), /"timeout": "soon" is not a duration/);
  });

  it('--import <module> with a space loads the module (tsx, and a root hook plugin)', function () {
    const r = result('importWithSpace');
    expect(r.code, r.output).to.equal(0);
    expect(specOutcomes(r.output).passed).to.deep.equal(['sees the --import root hook']);
  });

  it('short options take attached values: -w1, -t4321, -j2, -s=300', function () {
    const a = result('attachedShort');
    expect(a.code, a.output).to.equal(0);
    expect(a.output).to.include('TIMEOUT 4321');
    expect(a.output).to.include('on 1 worker(s)');
    const b = result('attachedJobs');
    expect(b.code, b.output).to.equal(0);
    expect(b.output).to.include('on 2 worker(s)');
    expect(b.output).to.include('SLOW 300');
  });

  it('a --require that does not exist is a one-paragraph usage error naming the module and the fix', function () {
    expectUsage(result('missingRequire'), /"\.\/nonexist\.js" given with --require.*Fix the path.*No test was run/);
    expectUsage(result('missingPackage'), /"no-such-package-anywhere" given with --require.*npm install --save-dev no-such-package-anywhere/);
  });

  it('a --require that throws while loading is named, exit 1, without an internal error', function () {
    const r = result('throwingRequire');
    expect(r.code, r.output).to.equal(1);
    expect(r.stderr.trim()).to.match(/^bulkhead: The --require\/--import module \S*broken\.js failed to load: setup broke\./);
    expect(r.output).to.not.include('internal error');
  });

  it('--delay is a usage error that says what to do instead', function () {
    expectUsage(result('delay'), /--delay .*not supported.*before\(\) hook/);
  });

  it('--no-config ignores .mocharc.*; --spec and --extension may be repeated', function () {
    const n = result('noConfig');
    expect(n.code, n.output).to.equal(0);
    expect(n.output).to.include('TIMEOUT 2000');
    const s = result('specAndExtensionRepeated');
    expect(s.code, s.output).to.equal(0);
    expect(specOutcomes(s.output).passed.sort()).to.deep.equal(['one a', 'two b', 'two c']);
  });

  it('every value-taking mocha option (and --import) reads the same with a space as with "="', function () {
    const valued = [...(types['array'] ?? []), ...(types['number'] ?? []), ...(types['string'] ?? [])];
    const names = [...valued.flatMap((n) => [n, ...(aliases[n] ?? [])]), 'import'];
    const parse = (argv: string[]): Record<string, unknown> => {
      const o = loadOptions(['--no-config', '--no-package', ...normalizeMochaArgs(argv)]);
      delete o['$0'];
      return o;
    };
    for (const name of names) {
      // config and package name files that must exist; the others only need a value.
      if (name === 'config' || name === 'package') continue;
      const value = ['retries', 'jobs', 'j'].includes(name) ? '3' : 'v1';
      const flag = name.length === 1 ? `-${name}` : `--${name}`;
      const spaced = parse([flag, value, 'spec.js']);
      expect(spaced, `${flag} ${value}`).to.deep.equal(parse([`${flag}=${value}`, 'spec.js']));
      expect(spaced['_'], `${flag} ${value} keeps the spec`).to.include('spec.js');
      if (name.length === 1) expect(parse([`-${name}${value}`, 'spec.js']), `-${name}${value}`).to.deep.equal(spaced);
    }
  });
});
