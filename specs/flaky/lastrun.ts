// Readers for the run record a fixture run left behind, and scratch databases for runs that go side by side.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedState, RunRecord } from '../../src/plan/record.js';
import { scratchDatabase } from '../helpers/server.js';
import type { ScratchDatabase } from '../helpers/server.js';

export const LAST_RUN = path.join('.bulkhead', 'last-run.json');

export function loadRecord(dir: string, file = LAST_RUN): RunRecord {
  return JSON.parse(readFileSync(path.resolve(dir, file), 'utf8')) as RunRecord;
}

export interface RanTest {
  slot: number;
  /** The file's key: its path, with "#<round>" after the first round of --repeat. */
  key: string;
  round: number;
  title: string;
  state: RecordedState;
  attempts: number;
  flaky: boolean;
  message?: string;
}

/** Every test of the record, slot by slot, in the order each slot ran them. */
export function testsOf(record: RunRecord): RanTest[] {
  return record.slots.flatMap((s) =>
    s.files.flatMap((f) =>
      f.tests.map((t) => ({
        slot: s.slot,
        key: f.key,
        round: f.round,
        title: t.title,
        state: t.state,
        attempts: t.attempts,
        flaky: t.flaky,
        ...(t.error !== undefined ? { message: t.error.message } : {}),
      })),
    ),
  );
}

/** Full titles of the tests that ended in `state`, sorted. */
export function titlesIn(record: RunRecord, state: RecordedState): string[] {
  return testsOf(record)
    .filter((t) => t.state === state)
    .map((t) => t.title)
    .sort();
}

/** The record's schedule: per slot, the titles of the tests it ran, in order. */
export function schedule(record: RunRecord): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const t of testsOf(record)) if (t.state !== 'notrun') (out[t.slot] ??= []).push(t.title);
  return out;
}

/**
 * `count` scratch databases for the enclosing describe(), for CLI runs that go at the same time: two runs on one
 * database would meet in its slot databases, and CREATE DATABASE ... TEMPLATE needs the target to itself.
 */
export function scratchSet(label: string, count: number): () => ScratchDatabase[] {
  let made: ScratchDatabase[] = [];
  before(async function () {
    const settled = await Promise.allSettled(Array.from({ length: count }, () => scratchDatabase(label)));
    made = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  });
  after(async function () {
    await Promise.all(made.map((s) => s.drop()));
  });
  return () => {
    if (made.length !== count) throw new Error(`the scratch databases "${label}" are used before their before() hook ran`);
    return made;
  };
}
