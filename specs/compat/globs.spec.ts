// `spec` and `ignore` hold globs, and a glob may hold a comma inside braces (`*.spec.{js,cjs}`): mocha keeps each
// value whole, and so must bulkhead. Splitting at the comma found no file at all (exit 2) for a package.json
// "mocha" key that serial mocha runs. The same CommonJS project goes through both, compared on the json report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const PROJECT = {
  'package.json': JSON.stringify({ type: 'commonjs', mocha: { spec: ['test/**/*.spec.{js,cjs}'], ignore: ['test/skip/{a,b}.spec.js'] } }),
  'test/one.spec.js': "describe('one', function () { it('passes', function () {}); });\n",
  'test/deep/two.spec.cjs': "describe('two', function () { it('fails', function () { throw new Error('two boom'); }); });\n",
  'test/skip/a.spec.js': "describe('ignored a', function () { it('must not run', function () {}); });\n",
  'test/skip/c.spec.js': "describe('kept c', function () { it('runs', function () {}); });\n",
  'test/three.spec.mjs': "describe('three', function () { it('is not matched', function () {}); });\n",
};

interface Outcome { passes: string[]; failures: string[]; pending: string[] }

function outcome(dir: string, file: string): Outcome {
  const j = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<keyof Outcome, { fullTitle: string }[]>;
  const titles = (k: keyof Outcome): string[] => j[k].map((t) => t.fullTitle).sort();
  return { passes: titles('passes'), failures: titles('failures'), pending: titles('pending') };
}

describe('compat: spec and ignore globs with braces are kept whole, as mocha keeps them', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let mocha: CliResult;
  let bulkhead: CliResult;

  before(async function () {
    fx = fixture(PROJECT);
    const json = (file: string): string[] => ['--reporter', 'json', '--reporter-option', `output=${file}`];
    [mocha, bulkhead] = await Promise.all([runMocha(json('mocha.json'), { cwd: fx.dir }), runCli([...json('bulkhead.json'), '-w', '2'], { cwd: fx.dir })]);
  });
  after(() => fx.remove());

  it('runs the files the brace globs match, less the ignored ones, with the outcomes serial mocha has', function () {
    expect(mocha.code, mocha.output).to.equal(1);
    expect(bulkhead.code, bulkhead.output).to.equal(1);
    const expected = { passes: ['kept c runs', 'one passes'], failures: ['two fails'], pending: [] };
    expect(outcome(fx.dir, 'mocha.json')).to.deep.equal(expected);
    expect(outcome(fx.dir, 'bulkhead.json')).to.deep.equal(expected);
  });

  it('takes a brace glob given on the command line whole too, the ignore globs still applying', async function () {
    const args = (file: string): string[] => ['test/skip/{a,c}.spec.js', '--reporter', 'json', '--reporter-option', `output=${file}`];
    const [m, b] = await Promise.all([runMocha(args('cli-mocha.json'), { cwd: fx.dir }), runCli(args('cli-bulkhead.json'), { cwd: fx.dir })]);
    expect([m.code, b.code], b.output).to.deep.equal([1, 1]);
    expect(outcome(fx.dir, 'cli-mocha.json').passes).to.include('kept c runs').and.not.include('ignored a must not run');
    expect(outcome(fx.dir, 'cli-bulkhead.json')).to.deep.equal(outcome(fx.dir, 'cli-mocha.json'));
  });
});
