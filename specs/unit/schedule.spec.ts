// The plan as data (src/plan/schedule.ts): a shared queue without a seed, fixed per-slot sequences with one; the
// same seed, files and workers give the same schedule; --repeat expands every file.
import { expect } from 'chai';
import { fileSeed, fixedPlan, plan, slotCount } from '../../src/plan/schedule.js';
import type { Plan, PlanEntry } from '../../src/plan/schedule.js';
import type { SpecFile } from '../../src/plan/discover.js';

const files = (n: number): SpecFile[] => Array.from({ length: n }, (_, i) => ({ path: `/p/test/f${String(i).padStart(2, '0')}.spec.js`, rel: `test/f${String(i).padStart(2, '0')}.spec.js` }));
const names = (entries: readonly PlanEntry[]): string[] => entries.map((e) => `${e.file.rel}#${e.round}`);
const slotNames = (p: Plan): string[][] => (p.kind === 'slots' ? p.slots.map(names) : []);

describe('unit: plan', () => {
  it('without a seed: one queue of the files in the order given, for whichever slot is free', () => {
    const p = plan(files(3), { workers: 2, seed: null, repeat: 1 });
    expect(p.kind).to.equal('queue');
    expect(p.seed).to.equal(null);
    expect(p.kind === 'queue' ? names(p.entries) : null).to.deep.equal(['test/f00.spec.js#0', 'test/f01.spec.js#0', 'test/f02.spec.js#0']);
  });

  it('--repeat: each file n times, its rounds numbered from 0 and kept together', () => {
    const p = plan(files(2), { workers: 4, seed: null, repeat: 3 });
    expect(p.kind === 'queue' ? names(p.entries) : null).to.deep.equal(['test/f00.spec.js#0', 'test/f00.spec.js#1', 'test/f00.spec.js#2', 'test/f01.spec.js#0', 'test/f01.spec.js#1', 'test/f01.spec.js#2']);
    // Fewer than one round still runs every file once.
    const zero = plan(files(2), { workers: 4, seed: null, repeat: 0 });
    expect(zero.kind === 'queue' ? names(zero.entries) : null).to.deep.equal(['test/f00.spec.js#0', 'test/f01.spec.js#0']);
  });

  it('with a seed: fixed sequences per slot, dealt in turn from a shuffled order, every file exactly once', () => {
    const p = plan(files(7), { workers: 3, seed: 42, repeat: 1 });
    expect(p).to.include({ kind: 'slots', seed: 42 });
    const slots = slotNames(p);
    expect(slots.map((s) => s.length)).to.deep.equal([3, 2, 2]);
    expect(slots.flat().sort()).to.deep.equal(names(files(7).map((file) => ({ file, round: 0 }))));
  });

  it('the same seed, files and workers give the same schedule; another seed another order', () => {
    const a = slotNames(plan(files(12), { workers: 3, seed: 7, repeat: 1 }));
    expect(slotNames(plan(files(12), { workers: 3, seed: 7, repeat: 1 }))).to.deep.equal(a);
    expect(slotNames(plan(files(12), { workers: 3, seed: 8, repeat: 1 }))).to.not.deep.equal(a);
  });

  it('with a seed, no more slots than files, and at least one', () => {
    expect(slotNames(plan(files(2), { workers: 8, seed: 1, repeat: 1 })).length).to.equal(2);
    expect(slotNames(plan([], { workers: 8, seed: 1, repeat: 1 }))).to.deep.equal([[]]);
  });

  it('with a seed and --repeat, the rounds of a file are dealt like files', () => {
    const slots = slotNames(plan(files(2), { workers: 2, seed: 3, repeat: 2 }));
    expect(slots.flat().sort()).to.deep.equal(['test/f00.spec.js#0', 'test/f00.spec.js#1', 'test/f01.spec.js#0', 'test/f01.spec.js#1']);
    expect(slots.map((s) => s.length)).to.deep.equal([2, 2]);
  });

  it('fixedPlan runs the given sequences as they are (replay, bisect probes)', () => {
    const [a, b] = files(2) as [SpecFile, SpecFile];
    const sequences: PlanEntry[][] = [[{ file: b, round: 0, tests: ['b t2', 'b t1'] }], [{ file: a, round: 1 }]];
    expect(fixedPlan(sequences, 5)).to.deep.equal({ kind: 'slots', seed: 5, slots: sequences });
  });

  it('slotCount: a fixed plan needs its own slot count; a queue no more slots than entries, and at least one', () => {
    expect(slotCount(plan(files(5), { workers: 2, seed: 9, repeat: 1 }), 8)).to.equal(2);
    expect(slotCount(plan(files(3), { workers: 8, seed: null, repeat: 1 }), 8)).to.equal(3);
    expect(slotCount(plan(files(3), { workers: 2, seed: null, repeat: 1 }), 2)).to.equal(2);
    expect(slotCount(plan([], { workers: 2, seed: null, repeat: 1 }), 2)).to.equal(1);
  });

  it('fileSeed: stable for a file and seed, different across files and seeds', () => {
    expect(fileSeed(42, 'test/a.spec.js')).to.equal(fileSeed(42, 'test/a.spec.js'));
    expect(fileSeed(42, 'test/a.spec.js')).to.not.equal(fileSeed(42, 'test/b.spec.js'));
    expect(fileSeed(42, 'test/a.spec.js')).to.not.equal(fileSeed(43, 'test/a.spec.js'));
  });
});
