// A test that throws an error whose properties throw as they are read (a getter, a Proxy). Serial mocha fails
// that test and goes on. bulkhead's worker threw while it serialised the failure: the test was reported as
// "uncaught error ... after it had passed" and the file's run never ended, holding the whole run until a signal.
import { expect } from 'chai';
import { closingLine, fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const PROJECT = {
  'test/hostile.spec.js': `describe('hostile errors', function () {
  it('throws an error with a getter that throws', function () {
    const e = new Error('getter boom');
    Object.defineProperty(e, 'bad', { enumerable: true, get() { throw new Error('getter trap'); } });
    throw e;
  });
  it('throws a proxy that throws on every read', function () {
    const trap = () => { throw new Error('proxy trap'); };
    throw new Proxy(new Error('px'), { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap });
  });
  it('throws an error whose cause getter throws', function () {
    const e = new Error('cause boom');
    Object.defineProperty(e, 'cause', { get() { throw new Error('cause trap'); } });
    throw e;
  });
  it('passes after them', function () {});
});
`,
  'test/other.spec.js': "describe('other', function () { it('passes too', function () {}); });\n",
};

interface Report { passes: { fullTitle: string }[]; failures: { fullTitle: string }[] }

function titles(r: CliResult): { passes: string[]; failures: string[] } {
  const j = JSON.parse(r.stdout) as Report;
  return { passes: j.passes.map((t) => t.fullTitle).sort(), failures: j.failures.map((t) => t.fullTitle).sort() };
}

describe('core: errors whose properties throw as they are read', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let mocha: CliResult;
  let json: CliResult;
  let spec: CliResult;

  before(async function () {
    fx = fixture(PROJECT);
    [mocha, json, spec] = await Promise.all([
      // mocha's own json reporter prints nothing for such errors (it throws reading them): its spec reporter.
      runMocha([], { cwd: fx.dir }),
      runCli(['-w', '2', '--reporter', 'json'], { cwd: fx.dir }),
      runCli(['-w', '1'], { cwd: fx.dir }),
    ]);
  });
  after(() => fx.remove());

  it('fails exactly the throwing tests and runs the rest, as serial mocha does', function () {
    const expected = {
      passes: ['hostile errors passes after them', 'other passes too'],
      failures: ['hostile errors throws a proxy that throws on every read', 'hostile errors throws an error whose cause getter throws', 'hostile errors throws an error with a getter that throws'],
    };
    const serial = specOutcomes(mocha.output);
    expect(serial.passed.sort(), mocha.output).to.deep.equal(['passes after them', 'passes too']);
    expect(serial.failed.map((t) => `hostile errors ${t}`).sort()).to.deep.equal(expected.failures);
    expect(specOutcomes(spec.output)).to.deep.equal(specOutcomes(mocha.output));
    expect(titles(json), json.stderr).to.deep.equal(expected);
    expect(json.code).to.equal(1);
  });

  it('ends the run with each failure charged to its test, not as an uncaught error after it passed', function () {
    expect(spec.code, spec.output).to.equal(1);
    expect(closingLine(spec.output)).to.deep.equal({ passed: 2, failed: 3, skipped: 0 });
    expect(spec.output).to.include('Error: getter boom').and.not.include('uncaught error').and.not.include('not run:');
  });
});
