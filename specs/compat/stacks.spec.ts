// The stack traces in a failure report, as serial mocha prints them: mocha leaves its own frames out (those of
// node_modules/mocha/ and of any file named mocha.js), and so must bulkhead, whose workers run mocha from one
// bundled file. A frame of that file in a report is noise a user would have to read past on every failure, and a
// frame of the spec must read as serial mocha's does.
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';

const SPEC = `import { expect } from 'chai';
describe('stacks', function () {
  it('fails an assertion', function () {
    expect({ a: 1 }).to.deep.equal({ a: 2 });
  });
  it('throws', function () {
    throw new Error('thrown here');
  });
  it('times out', function (done) {
    this.timeout(50);
  });
});
`;

/** The "at ..." lines of the failure report, in order. */
function frames(output: string): string[] {
  return output.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim());
}

describe('compat: stack traces in failure reports', function () {
  this.timeout(60000);

  it('hold no frame of mocha itself, as in serial mocha: only the spec and node internals', async function () {
    const fx = fixture({ 'test/stacks.spec.js': SPEC });
    try {
      const serial = await runMocha(['test/stacks.spec.js'], { cwd: fx.dir });
      const ours = await runCli(['-w', '1', 'test/stacks.spec.js'], { cwd: fx.dir });
      // mocha exits with the number of failures, bulkhead with 1 (README: exit codes).
      expect([serial.code, ours.code], ours.output).to.deep.equal([3, 1]);
      const mine = frames(ours.output);
      expect(mine, ours.output).to.not.be.empty;
      for (const frame of mine) expect(frame, ours.output).to.match(/stacks\.spec\.js:\d+:\d+\)?$|\(node:internal\//);
      // The spec's own frames, line for line and named as serial mocha names them (`Context.<anonymous>`: the
      // bundle keeps the name of the function a test's `this` is made from, src/run/mochaplugin.ts).
      const spec = (lines: string[]): string[] => lines.filter((l) => l.includes('stacks.spec.js')).map((l) => l.replace(/\(\S*(stacks\.spec\.js:\d+:\d+)\)/, '($1)'));
      expect(spec(mine), ours.output).to.deep.equal(spec(frames(serial.output)));
    } finally {
      fx.remove();
    }
  });
});
