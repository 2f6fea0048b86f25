// An unhandled rejection that a test or hook left behind is not a failure in mocha 12, whenever it surfaces: in
// the test, between tests, or after the run's last test. bulkhead follows it by where the promise was made, so the
// outcome does not depend on timing (which on a parallel run decides whether a file is running when it surfaces).
// A rejection from a file's top level still fails the run (specs/reliability/outside.spec.ts).
import { expect } from 'chai';
import { fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';

const FILES = {
  'test/a-late.spec.js': `describe('late', function () {
  it('passes and leaves a rejection for after the run', function () {
    setTimeout(() => Promise.reject(new Error('late rejection')), 300);
  });
});
`,
  'test/b-inside.spec.js': `describe('inside', function () {
  it('passes and leaves a rejection behind at once', function () {
    Promise.reject(new Error('unawaited rejection'));
  });
  it('passes after it', async function () {
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
  it('rejects between its own tests', function () {
    setImmediate(() => Promise.reject(new Error('rejection between tests')));
  });
  it('passes last', function () {});
});
`,
};

const PASSED = ['passes after it', 'passes and leaves a rejection behind at once', 'passes and leaves a rejection for after the run', 'passes last', 'rejects between its own tests'];

describe('compat: unhandled rejections from test code, as in mocha 12', function () {
  this.timeout(60000);

  it('pass in serial mocha and in bulkhead at -w 1 and -w 2, whenever they surface', async function () {
    const fx = fixture(FILES);
    try {
      const serial = await runMocha(['test/*.spec.js'], { cwd: fx.dir });
      expect([serial.code, specOutcomes(serial.output).passed.sort()], serial.output).to.deep.equal([0, PASSED]);
      for (const workers of ['1', '2']) {
        const r = await runCli(['-w', workers, 'test/*.spec.js'], { cwd: fx.dir });
        expect([r.code, specOutcomes(r.output).passed.sort(), specOutcomes(r.output).failed], r.output).to.deep.equal([0, PASSED, []]);
        expect(r.output).to.not.match(/Error: (late rejection|unawaited rejection|rejection between tests)/);
      }
    } finally {
      fx.remove();
    }
  });
});
