// .only that a spec file does not spell as `.only(`: chosen by a condition, or called in shared examples the file
// imports. Serial mocha runs only those tests; so must bulkhead, across its workers.
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const FILES = {
  'test/a.spec.js': "describe('a', () => { it('a plain test', () => {}); it('another plain test', () => {}); });\n",
  'test/b.spec.js': "const pick = process.env.FOCUS ? it.only : it;\ndescribe('b', () => { pick('b focused by a condition', () => {}); it('b plain', () => {}); });\n",
  'test/c.spec.js': "import { sharedExamples } from './shared.js';\ndescribe('c', () => { sharedExamples(); it('c plain', () => {}); });\n",
  'test/shared.js': "export function sharedExamples() { it.only('c focused in shared examples', () => {}); }\n",
  '.mocharc.json': '{ "spec": "test/*.spec.js" }\n',
};

function passed(r: CliResult): string[] {
  const json = JSON.parse(r.stdout) as { passes: { fullTitle: string }[] };
  return json.passes.map((t) => t.fullTitle).sort();
}

describe('compat: .only that is not written as .only(', function () {
  let mocha: CliResult;
  let bulkhead: CliResult;

  before(async function () {
    const fx = fixture(FILES);
    try {
      [mocha, bulkhead] = await Promise.all([
        runMocha(['--reporter', 'json'], { cwd: fx.dir, env: { FOCUS: '1' } }),
        runCli(['-w', '2', '--reporter', 'json'], { cwd: fx.dir, env: { FOCUS: '1' } }),
      ]);
    } finally {
      fx.remove();
    }
  });

  it('runs exactly the tests serial mocha runs: the focused ones, in both files, and exits as it does', function () {
    expect(passed(mocha), mocha.output).to.deep.equal(['b b focused by a condition', 'c c focused in shared examples']);
    expect(passed(bulkhead), bulkhead.output).to.deep.equal(passed(mocha));
    expect(bulkhead.code).to.equal(mocha.code);
  });
});
