// The summary's flaky hint (src/reporters/summary.ts) names the fresh connection as the cure only when the failed
// attempt met a database error; a test that failed without one is flaky for another reason.
import { expect } from 'chai';
import { renderSummary } from '../../src/reporters/summary.js';
import type { RecordedTest, RunRecord } from '../../src/plan/record.js';

function record(tests: Partial<RecordedTest>[]): RunRecord {
  return {
    format: 'bulkhead-run', version: 1, createdAt: '2026-01-01T00:00:00.000Z', versions: {}, config: {}, seed: null, workers: 1, target: 'x',
    slots: [{ slot: 1, files: [{ file: 'test/a.spec.js', key: 'test/a.spec.js', round: 0, incarnation: 1, start: 0, end: 10, failures: [], tests: tests.map((t, i) => ({ id: `t${i + 1}`, title: `t${i + 1}`, state: 'passed', start: 0, end: 1, generation: 1, attempts: 2, flaky: true, ...t })) }] }],
    rebuilds: [], sessionsEnded: [], chaos: [], notRunFiles: [], leaks: [],
    outcome: { passed: tests.length, failed: 0, skipped: 0, notRun: 0, flaky: tests.length, interrupted: false },
  };
}

describe('unit: the flaky hint in the summary', () => {
  it('a database error on the failed attempt: a fresh connection cured it, and bisect finds the test that left the state', () => {
    const text = renderSummary(record([{ databaseRetry: true }]), { failOnFlaky: false });
    expect(text).to.match(/a fresh connection cured it: .*; to find that test:\n {4}bulkhead bisect \.bulkhead\/last-run\.json --test 't1'/);
  });

  it('no database error on the failed attempt: the connection is not named as the cure', () => {
    const text = renderSummary(record([{}]), { failOnFlaky: false });
    expect(text).to.not.include('a fresh connection cured');
    expect(text).to.match(/its failed attempt met no database error, so the connection is not the suspect.*; to look for an earlier test that causes it:\n {4}bulkhead bisect/);
  });

  it('a mix says how many of them met a database error', () => {
    expect(renderSummary(record([{ databaseRetry: true }, {}]), { failOnFlaky: false })).to.match(/ 1 of them met a database error on the failed attempt/);
  });
});
