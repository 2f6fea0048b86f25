// Our headline comparison: the same suite, once under bulkhead and once under plain serial mocha with one
// shared pg.Client. bulkhead keeps every "pass" green; the naive client turns one failure into a cascade.
import { expect } from 'chai';
import { fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { HEADLINE, HEADLINE_FAILURES, HEADLINE_PASSES, headlineSuite } from '../helpers/headline.js';
import { scratchPerSuite } from '../helpers/server.js';

describe('naive: the headline suite, bulkhead against plain mocha with a shared client', function () {
  // One database per runner: each run creates the suite's table.
  const forBulkhead = scratchPerSuite('naive_bulkhead');
  const forMocha = scratchPerSuite('naive_mocha');
  let bulkhead: CliResult;
  let naive: CliResult;
  before(async function () {
    const fx = fixture({ 'test/bulkhead.spec.js': headlineSuite('bulkhead'), 'naive/naive.spec.js': headlineSuite('naive') });
    try {
      bulkhead = await runCli(['-w', '1', '--timeout', '10000', 'test/bulkhead.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: forBulkhead().url } });
      naive = await runMocha(['--timeout', '10000', 'naive/naive.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: forMocha().url } });
    } finally {
      fx.remove();
    }
  });

  it('bulkhead: every "pass" test passes; only the four deliberate failures fail', function () {
    expect(specOutcomes(bulkhead.output), bulkhead.output).to.deep.equal({ passed: HEADLINE_PASSES, failed: HEADLINE_FAILURES });
  });

  it('plain mocha: the first database failure cascades into every later test that touches the database', function () {
    const { passed, failed } = specOutcomes(naive.output);
    expect(passed, naive.output).to.deep.equal([HEADLINE.pass1]);
    expect(failed).to.include.members(HEADLINE_PASSES.filter((t) => t !== HEADLINE.pass1));
    // The cascade's signature: commands ignored in the transaction the second test left aborted.
    expect(naive.output).to.include('current transaction is aborted, commands ignored until end of transaction block');
    expect(naive.code).to.not.equal(0);
  });
});
