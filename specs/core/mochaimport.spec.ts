// Spec files that take describe/it from `import ... from 'mocha'` or require('mocha') instead of the globals, and
// compare what they get (mocha's Test class, this.timeout) with the globals. Worker threads run a one-file copy of
// mocha (workers/mocha.ts); this holds that the spec's own mocha is that very instance, as under serial mocha.
import { expect } from 'chai';
import { fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';

const ESM = `import Mocha, { describe, it } from 'mocha';
describe('esm named imports', function () {
  it('runs an it() imported from mocha', function () {});
  it('is a Test of the mocha it imported', function () {
    if (!(this.test instanceof Mocha.Test)) throw new Error('this.test is a Test of another mocha');
    if (!(this.test.parent instanceof Mocha.Suite)) throw new Error('the suite is a Suite of another mocha');
  });
  it('sets its own timeout', function () {
    this.timeout(1234);
    if (this.timeout() !== 1234) throw new Error('timeout not set');
  });
});
`;

const CJS = `const mocha = require('mocha');
mocha.describe('cjs require', function () {
  mocha.it('runs an it() required from mocha', function () {});
  mocha.it('shares the global describe with it', function () {
    if (!(this.test instanceof mocha.Test)) throw new Error('this.test is a Test of another mocha');
    if (typeof globalThis.describe !== 'function') throw new Error('no global describe');
  });
});
`;

describe('mocha imported by a spec file', function () {
  const fx = fixture({ 'test/esm.spec.js': ESM, 'test/cjs.spec.cjs': CJS }, { packages: ['mocha'] });
  const expected = [
    'runs an it() imported from mocha',
    'is a Test of the mocha it imported',
    'sets its own timeout',
    'runs an it() required from mocha',
    'shares the global describe with it',
  ].sort();
  after(() => fx.remove());

  it('passes the same tests under bulkhead -w 2 as under serial mocha', async function () {
    const args = ['--reporter', 'spec', 'test/esm.spec.js', 'test/cjs.spec.cjs'];
    const [serial, ours] = await Promise.all([runMocha(args, { cwd: fx.dir }), runCli(['-w', '2', ...args], { cwd: fx.dir })]);
    expect(serial.code, serial.output).to.equal(0);
    expect(ours.code, ours.output).to.equal(0);
    expect(specOutcomes(serial.output).passed.sort()).to.deep.equal(expected);
    expect(specOutcomes(ours.output)).to.deep.equal({ passed: specOutcomes(ours.output).passed, failed: [] });
    expect(specOutcomes(ours.output).passed.sort()).to.deep.equal(expected);
  });
});
