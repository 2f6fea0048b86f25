// The Plan as data: which files (and, for replay and bisect, which tests) run on which slot, in what order.
// Pure functions only; run/dispatch.ts executes a plan, the run record stores the schedule that was executed.
import type { SpecFile } from './discover.js';
import { hash32, rng, shuffled } from '../protocol/random.js';

export interface PlanEntry {
  file: SpecFile;
  /** Full titles of the tests to run, in order; undefined runs every test of the file. */
  tests?: string[];
  /** Which repetition this is (0-based), for --repeat. */
  round: number;
}

/**
 * The key of one run of a file in the event stream and the record: its root-relative path, with "#<n>" appended for
 * the nth --repeat round after the first, so two rounds of one file on two slots never mix.
 */
export function runKey(rel: string, round: number): string {
  return round === 0 ? rel : `${rel}#${round + 1}`;
}

/** The path and the (0-based) round a run key names: the inverse of runKey. */
export function parseRunKey(key: string): { rel: string; round: number } {
  const m = /^(.*)#(\d+)$/.exec(key);
  return m === null ? { rel: key, round: 0 } : { rel: m[1] ?? key, round: Number(m[2]) - 1 };
}

export type Plan =
  /** Files are taken from one queue by whichever slot is free: the fastest wall time. */
  | { kind: 'queue'; seed: number | null; entries: PlanEntry[] }
  /** Each slot runs its own fixed sequence: the same seed, files and workers always give the same schedule. */
  | { kind: 'slots'; seed: number | null; slots: PlanEntry[][] };

export interface PlanOptions {
  workers: number;
  /** --shuffle: files are shuffled and dealt to slots; tests are shuffled inside their suites by the workers. */
  seed: number | null;
  repeat: number;
  /**
   * Recorded seconds per file (plan/timings.ts): the queue takes the longest first, so a long file that sorts late
   * does not start last and leave the other slots idle. Absent or empty, or one worker (where order cannot shorten
   * the run): path order, as mocha runs files.
   */
  weights?: ReadonlyMap<string, number>;
}

export function plan(files: readonly SpecFile[], options: PlanOptions): Plan {
  const rounds = Math.max(1, options.repeat);
  const expand = (list: readonly SpecFile[]): PlanEntry[] => list.flatMap((file) => Array.from({ length: rounds }, (_, round) => ({ file, round })));
  if (options.seed === null) return { kind: 'queue', seed: null, entries: expand(options.workers > 1 ? longestFirst(files, options.weights) : files) };
  const order = shuffled(files, rng(options.seed));
  const slots: PlanEntry[][] = Array.from({ length: Math.max(1, Math.min(options.workers, order.length)) }, () => []);
  expand(order).forEach((entry, i) => slots[i % slots.length]?.push(entry));
  return { kind: 'slots', seed: options.seed, slots };
}

/** Stable: files of equal weight (every file, when nothing is known) keep their order. */
function longestFirst(files: readonly SpecFile[], weights: ReadonlyMap<string, number> | undefined): readonly SpecFile[] {
  if (weights === undefined || weights.size === 0) return files;
  return [...files].sort((a, b) => (weights.get(b.rel) ?? 0) - (weights.get(a.rel) ?? 0));
}

/** A plan that runs exactly the given per-slot sequences (replay, bisect probes). */
export function fixedPlan(slots: PlanEntry[][], seed: number | null): Plan {
  return { kind: 'slots', seed, slots };
}

/** Number of slots a plan needs. */
export function slotCount(p: Plan, workers: number): number {
  if (p.kind === 'slots') return p.slots.length;
  return Math.max(1, Math.min(workers, p.entries.length));
}

/** The seed a worker uses to shuffle the tests of one file: independent per file, stable across machines. */
export function fileSeed(seed: number, rel: string): number {
  return hash32(rel, seed);
}
