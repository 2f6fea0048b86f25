// The progress fold and its renderings, without a run: counts, what each worker runs, the time left from recorded
// durations, and when the live block is chosen over plain lines.
import { expect } from 'chai';
import { ProgressState, progressBlock, progressLine } from '../../src/reporters/progress.js';
import { progressKind } from '../../src/reporters/live.js';
import type { RunEvent } from '../../src/run/events.js';

const test = (id: string, title: string) => ({ id, suiteId: 'root', title, titlePath: ['s', title], pending: false, timeout: 2000, slow: 75 });

describe('progress: the fold and its renderings', function () {
  // a.spec.js is known to take 10 s and b.spec.js 4 s; c.spec.js has no recorded duration.
  const state = new ProgressState(3, 2, ['a.spec.js', 'b.spec.js', 'c.spec.js'], new Map([['a.spec.js', 10], ['b.spec.js', 4]]));
  const events: [number, RunEvent][] = [
    [0, { type: 'run:begin', files: 3, workers: 2, target: 'x' }],
    [0, { type: 'file:begin', file: 'a.spec.js', path: 'a.spec.js', round: 0, slot: 1, incarnation: 1 }],
    [0, { type: 'file:begin', file: 'b.spec.js', path: 'b.spec.js', round: 0, slot: 2, incarnation: 1 }],
    [100, { type: 'file:loaded', file: 'a.spec.js', suites: [], tests: [test('t1', 'one'), test('t2', 'two')] }],
    [100, { type: 'file:loaded', file: 'b.spec.js', suites: [], tests: [test('t1', 'bee')] }],
    [200, { type: 'test:begin', file: 'a.spec.js', testId: 't1', slot: 1 }],
    [300, { type: 'test:end', file: 'a.spec.js', testId: 't1', slot: 1, state: 'failed', duration: 100, attempt: 0, generation: 1 }],
    [300, { type: 'rebuild', file: 'a.spec.js', incarnation: 1, rebuild: { slot: 1, generation: 1, reasons: ['db-error'], message: 'x', culprit: { kind: 'test', title: 'one' } } }],
    [400, { type: 'test:begin', file: 'a.spec.js', testId: 't2', slot: 1 }],
    [500, { type: 'test:begin', file: 'b.spec.js', testId: 't1', slot: 2 }],
    [3000, { type: 'test:end', file: 'b.spec.js', testId: 't1', slot: 2, state: 'passed', duration: 100, attempt: 1, generation: 1 }],
    [4000, { type: 'file:end', file: 'b.spec.js', slot: 2 }],
  ];
  for (const [at, e] of events) state.handle(e, at);

  it('counts files, tests, failures, flaky tests and rebuilds, and names what each worker runs', function () {
    expect(progressBlock(state, 6000)).to.equal(['bulkhead: 1/3 files, 2 tests, 1 failed, 1 flaky, 1 rebuild, 6s, ~4s left', '  w1  a.spec.js › s two', '  w2  idle'].join('\n'));
  });

  it('estimates the time left from the recorded durations, and the mean of this run for a file without one', function () {
    // a: 10 s recorded, 6 s gone: 4 s; c: unknown, weighs the mean this run measured (b: 4 s); over 2 workers.
    expect(state.left(6000)).to.equal((4 + 4) / 2);
  });

  it('one plain line names the busy workers only', function () {
    expect(progressLine(state, 6000)).to.equal('bulkhead: progress: 1/3 files, 2 tests, 1 failed, 1 flaky, 1 rebuild, 6s, ~4s left; w1 a.spec.js › s two');
  });

  it('auto draws in place only on a sized terminal, outside CI, with TERM other than dumb and no NO_COLOR', function () {
    const tty = { isTTY: true, columns: 80 } as unknown as NodeJS.WritableStream;
    const pipe = {} as NodeJS.WritableStream;
    expect(progressKind('auto', tty, {}).kind).to.equal('live');
    for (const env of [{ CI: 'true' }, { TERM: 'dumb' }, { NO_COLOR: '1' }]) expect(progressKind('auto', tty, env)).to.deep.equal({ kind: 'plain', interval: 30_000 });
    expect(progressKind('auto', pipe, {}).kind).to.equal('plain');
    expect(progressKind('auto', { isTTY: true, columns: 0 } as unknown as NodeJS.WritableStream, {}).kind).to.equal('plain');
    expect(progressKind('plain', tty, {})).to.deep.equal({ kind: 'plain', interval: 0 });
    expect(progressKind('off', tty, {}).kind).to.equal('off');
  });
});
