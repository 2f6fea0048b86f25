// The bad-input table: every input that bulkhead refuses, one row each. Each row must exit 2 with one paragraph
// that names the problem and the fix, before anything runs: the target is a server nobody listens on (a run that
// reached it would exit 3) and the spec file leaves a marker that must not appear. Then the inputs that are
// honoured rather than refused: the one-and-done lists, --parallel, --node-option, .mocharc "jobs", colour.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli, runProjects } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { expectUsage } from '../helpers/output.js';

/** A server nobody listens on: reaching it would be exit 3, not 2. */
const NO_SERVER = { DATABASE_URL: 'postgres://p9b@127.0.0.1:1/nowhere_test' };

const SPEC = `import { writeFileSync } from 'node:fs';
describe('s', function () { it('runs', function () { writeFileSync(new URL('../RAN', import.meta.url), 'ran'); console.log('TEST RAN'); }); });
`;

interface Row {
  args: string[];
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** The problem and the fix, both named in the one paragraph. */
  problem: RegExp;
  fix: RegExp;
}

const RECORD = '{"version":1}\n';

const ROWS: Record<string, Row> = {
  'a bisect flag on a plain run (--test)': { args: ['--test', 'a b'], problem: /--test cannot be used with a plain run/, fix: /bulkhead bisect .* --test "<full title>".*--grep/ },
  'a bisect flag on a plain run (--pair)': { args: ['--pair'], problem: /--pair cannot be used with a plain run/, fix: /bulkhead bisect .*--pair/ },
  '--shuffle with replay': { args: ['replay', 'rec.json', '--shuffle'], files: { 'rec.json': RECORD }, problem: /--shuffle cannot be used with "bulkhead replay"/, fix: /drop --shuffle/ },
  '--repeat with replay': { args: ['replay', 'rec.json', '--repeat', '3'], files: { 'rec.json': RECORD }, problem: /--repeat cannot be used with "bulkhead replay"/, fix: /drop it/ },
  'a misspelt bulkhead flag': { args: ['--workerz', '2'], problem: /Unknown option --workerz\./, fix: /Did you mean --workers\?/ },
  'a misspelt mocha flag': { args: ['--grpe', 'x'], problem: /Unknown option --grpe\./, fix: /Did you mean --grep\?/ },
  'a misspelt .mocharc key': { args: [], files: { '.mocharc.yml': 'timout: 5000\n' }, problem: /"timout": mocha has no such option/, fix: /Did you mean timeout\?/ },
  'a misspelt bulkhead.config key': { args: [], files: { 'bulkhead.config.json': '{ "isolaton": "schema" }\n' }, problem: /"isolaton": there is no such key in bulkhead.config.json/, fix: /Did you mean isolation\?/ },
  'a config value of the wrong type': { args: [], files: { 'bulkhead.config.json': '{ "transaction": "yes" }\n' }, problem: /"transaction": "yes" is a string, not a boolean/, fix: /true or false, without quotes/ },
  'an unknown leak policy': { args: [], files: { 'bulkhead.config.json': '{ "leaks": "loud" }\n' }, problem: /"leaks": "loud" is not a leak policy/, fix: /'report'.*'fail'.*'ignore'/ },
  'a malformed .mocharc.json': { args: [], files: { '.mocharc.json': '{\n  "spec": "test",\n  "timeout": 2000,\n}\n' }, problem: /\.mocharc\.json is not valid JSON at line 4, column 1/, fix: /no comma after the last item/ },
  'a malformed bulkhead.config.json': { args: [], files: { 'bulkhead.config.json': '{\n  "workers": 2\n  "transaction": true\n}\n' }, problem: /bulkhead\.config\.json is not valid JSON at line 3, column 3/, fix: /Fix the file, or pass --no-config-file/ },
  'DATABASE_URL that is not a URL': { args: [], env: { DATABASE_URL: 'localhost 5432 app_test' }, problem: /"DATABASE_URL": it is not a URL/, fix: /postgres:\/\/user@localhost:5432\/app_test/ },
  "DATABASE_URL with another server's scheme": { args: [], env: { DATABASE_URL: 'mysql://root:secret@127.0.0.1:3306/app_test' }, problem: /"DATABASE_URL": its scheme "mysql:" is not PostgreSQL's/, fix: /Use postgres:, postgresql: or socket:/ },
  'a Node option a thread cannot take (--node-option)': { args: ['--node-option', 'max-old-space-size=64'], problem: /--max-old-space-size=64 .* cannot be applied to bulkhead's workers/, fix: /NODE_OPTIONS="--max-old-space-size=64"/ },
  'a Node option a thread cannot take (given directly)': { args: ['--expose-gc'], problem: /--expose-gc .* cannot be applied/, fix: /NODE_OPTIONS="--expose-gc"/ },
  'a mocha flag bulkhead cannot honour': { args: ['--allow-uncaught'], problem: /--allow-uncaught .* is not supported by bulkhead/, fix: /Remove it/ },
};

describe('bad input: exit 2, the problem and the fix in one paragraph, nothing run', function () {
  this.timeout(60_000);
  const results = new Map<string, { r: CliResult; ran: boolean }>();

  before(async function () {
    await Promise.all(
      Object.entries(ROWS).map(async ([name, row]) => {
        const fx = fixture({ 'test/s.spec.js': SPEC, ...row.files });
        try {
          const r = await runCli(row.args, { cwd: fx.dir, env: { ...NO_SERVER, ...row.env } });
          results.set(name, { r, ran: existsSync(path.join(fx.dir, 'RAN')) });
        } finally {
          fx.remove();
        }
      }),
    );
  });

  for (const [name, row] of Object.entries(ROWS)) {
    it(name, function () {
      const { r, ran } = results.get(name) ?? { r: null, ran: true };
      if (r === null) throw new Error('did not run');
      expectUsage(r, row.problem);
      expect(r.stderr).to.match(row.fix);
      expect(r.output, 'no password in the output').to.not.include('secret');
      expect(ran, 'no test ran').to.equal(false);
      expect(r.output).to.not.include('TEST RAN');
    });
  }
});

describe('mocha flags that are honoured', function () {
  this.timeout(120_000);
  let get: (name: 'parallel' | 'nodeOption' | 'jobs' | 'noColors' | 'color' | 'noColorEnv' | 'listReporters' | 'listInterfaces') => CliResult;
  const FAILING = "describe('c', function () { it('passes', function () {}); it('fails', function () { throw new Error('boom'); }); });\n";
  const ESC = '\u001b[';

  before(async function () {
    get = await runProjects({
      listReporters: { args: ['--list-reporters'], env: NO_SERVER, files: { 'test/s.spec.js': SPEC } },
      listInterfaces: { args: ['--list-interfaces'], env: NO_SERVER, files: { 'test/s.spec.js': SPEC } },
      parallel: { args: ['-w', '1', '--parallel'], files: { 'test/s.spec.js': SPEC } },
      nodeOption: {
        args: ['-w', '1', '-n', 'enable-source-maps', '--no-warnings'],
        files: { 'test/n.spec.js': "describe('n', function () { it('sees the options', function () { console.log('EXECARGV ' + JSON.stringify(process.execArgv)); }); });\n" },
      },
      jobs: {
        args: [],
        files: {
          '.mocharc.yml': 'parallel: true\njobs: 2\n',
          'test/a.spec.js': "describe('a', function () { it('a', function () { console.log('SLOT ' + process.env.BULKHEAD_WORKER); }); });\n",
          'test/b.spec.js': "describe('b', function () { it('b', function () { console.log('SLOT ' + process.env.BULKHEAD_WORKER); }); });\n",
        },
      },
      noColors: { args: ['-w', '1', '-C'], env: { NO_COLOR: '', FORCE_COLOR: '1' }, files: { 'test/c.spec.js': FAILING } },
      color: { args: ['-w', '1', '--color'], env: { NO_COLOR: '1', FORCE_COLOR: '0' }, files: { 'test/c.spec.js': FAILING } },
      noColorEnv: { args: ['-w', '1'], env: { NO_COLOR: '1', FORCE_COLOR: '1' }, files: { 'test/c.spec.js': FAILING } },
    });
  });

  it('--list-reporters and --list-interfaces print the lists and run nothing (exit 0)', function () {
    const reporters = get('listReporters');
    expect(reporters.code, reporters.output).to.equal(0);
    expect(reporters.stdout).to.match(/^\n {4}doc +- HTML documentation\n/);
    expect(reporters.stdout).to.match(/^ {4}spec +- hierarchical & verbose \[default\]$/m);
    expect(reporters.stdout).to.not.match(/^ {4}(base|html) /m);
    const interfaces = get('listInterfaces');
    expect(interfaces.code, interfaces.output).to.equal(0);
    expect(interfaces.stdout).to.equal('\n    bdd     - BDD or RSpec style [default]\n    exports - Node.js module ("exports") style\n    qunit   - QUnit style\n    tdd     - traditional "suite"/"test" instead of BDD\'s "describe"/"it"\n\n');
    for (const r of [reporters, interfaces]) expect(r.output).to.not.match(/TEST RAN|passed/);
  });

  it('--parallel is accepted: the run is the same', function () {
    const r = get('parallel');
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/^1 passed, 0 failed$/m);
  });

  it('--node-option and a Node flag given directly reach the worker threads', function () {
    const r = get('nodeOption');
    expect(r.code, r.output).to.equal(0);
    const argv = JSON.parse(/^EXECARGV (.*)$/m.exec(r.output)?.[1] ?? '[]') as string[];
    expect(argv).to.include.members(['--enable-source-maps', '--no-warnings']);
  });

  it('.mocharc "jobs" (mocha --parallel\'s count) sets the number of workers', function () {
    const r = get('jobs');
    expect(r.code, r.output).to.equal(0);
    expect([...r.output.matchAll(/^SLOT (\d+)$/gm)].map((m) => m[1]).sort()).to.deep.equal(['1', '2']);
  });

  it('-C beats FORCE_COLOR, --color beats NO_COLOR, NO_COLOR beats FORCE_COLOR: for the ✔, the ✖ and the diffs', function () {
    expect(get('noColors').output).to.not.include(ESC);
    expect(get('noColorEnv').output).to.not.include(ESC);
    const colored = get('color').output;
    expect(colored).to.include(`${ESC}32m`);
    expect(colored).to.include(`${ESC}31m`);
    for (const n of ['noColors', 'color', 'noColorEnv'] as const) expect(get(n).code).to.equal(1);
  });
});
