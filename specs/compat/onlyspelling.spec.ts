// .only that the probe's text scan did not see. With .only in another file, a file that spells it `it['only']`,
// or gets it from shared examples through a helper that re-exports them, was never loaded: its .only test was
// lost without a word, where serial mocha runs it. And under --forbid-only, a .only no text scan can see
// (`it[key]`) ran as if allowed: exit 0 where mocha fails the run. Both are compared with serial mocha.
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const SPELLINGS = {
  'test/a.spec.js': "describe('a', () => { it.only('a focused', () => {}); it('a plain', () => {}); });\n",
  'test/b.spec.js': "describe('b', () => { it['only']('b focused by brackets', () => {}); it('b plain', () => {}); });\n",
  'test/c.spec.js': "import { shared } from './helpers/index.js';\ndescribe('c', () => { shared(); it('c plain', () => {}); });\n",
  'test/helpers/index.js': "export { shared } from './shared.js';\n",
  'test/helpers/shared.js': "export function shared() { it.only('c focused in shared examples', () => {}); }\n",
  'test/d.spec.js': "describe('d', () => { it('d plain', () => {}); });\n",
  '.mocharc.json': '{ "spec": "test/*.spec.js" }\n',
};

const HIDDEN = {
  'test/x.spec.js': "const key = ['on', 'ly'].join('');\ndescribe('x', () => { it[key]('x focused', () => {}); it('x plain', () => {}); });\n",
  'test/y.spec.js': "describe('y', () => { it('y plain', () => {}); });\n",
  '.mocharc.json': '{ "spec": "test/*.spec.js" }\n',
};

function passed(r: CliResult): string[] {
  return (JSON.parse(r.stdout) as { passes: { fullTitle: string }[] }).passes.map((t) => t.fullTitle).sort();
}

async function both(files: Record<string, string>, args: string[]): Promise<{ mocha: CliResult; bulkhead: CliResult }> {
  const fx = fixture(files);
  try {
    const [mocha, bulkhead] = await Promise.all([runMocha(args, { cwd: fx.dir }), runCli(['-w', '2', ...args], { cwd: fx.dir })]);
    return { mocha, bulkhead };
  } finally {
    fx.remove();
  }
}

describe('compat: .only the text scan missed', function () {
  this.timeout(60_000);

  it('runs the .only tests of every file, spelt with brackets or reached through re-exporting helpers', async function () {
    const { mocha, bulkhead } = await both(SPELLINGS, ['--reporter', 'json']);
    expect(mocha.code, mocha.output).to.equal(0);
    expect(bulkhead.code, bulkhead.output).to.equal(0);
    const focused = ['a a focused', 'b b focused by brackets', 'c c focused in shared examples'];
    expect(passed(mocha)).to.deep.equal(focused);
    expect(passed(bulkhead)).to.deep.equal(focused);
  });

  it('fails a --forbid-only run whose .only only shows once the file loads, as mocha fails it', async function () {
    const { mocha, bulkhead } = await both(HIDDEN, ['--forbid-only']);
    expect(mocha.code, mocha.output).to.not.equal(0);
    expect(mocha.output).to.include('`.only` forbidden by --forbid-only');
    expect(bulkhead.code, bulkhead.output).to.equal(1);
    expect(bulkhead.stdout).to.include('failed to load test/x.spec.js').and.include('`.only` forbidden by --forbid-only');
    // None of the file's tests ran; each is listed.
    expect(bulkhead.stdout).to.match(/not run: 2\n {2}test\/x\.spec\.js: x x focused \(the file failed to load\)\n {2}test\/x\.spec\.js: x x plain/);
  });
});
