// Where the run is: files and tests done, failures, flaky tests, rebuilds, the time gone and the time left, and what
// each worker runs now. A fold of the event stream (like the record) and two pure renderings of it: the live block
// (reporters/live.ts draws it in place) and one plain line. The time left comes from the recorded durations
// (.bulkhead/timings.json): what the files not yet finished should take, shared over the workers; a file with no
// recorded duration weighs the mean of the ones this run finished.
import type { RunEvent } from '../run/events.js';
import type { Timings } from '../plan/timings.js';

interface Running {
  file: string;
  /** The file's plain path, the key of its duration. */
  path: string;
  began: number;
  test: string | null;
}

export class ProgressState {
  filesDone = 0;
  testsDone = 0;
  failed = 0;
  flaky = 0;
  rebuilds = 0;
  private begun = new Set<string>();
  readonly running = new Map<number, Running>();
  private readonly titles = new Map<string, Map<string, string>>();
  private readonly measured: number[] = [];
  private started: number | null = null;

  /**
   * @param files how many runs of files the plan has (files × --repeat rounds)
   * @param paths the plain paths of the planned files, for the time left
   */
  constructor(readonly files: number, readonly workers: number, private readonly paths: readonly string[], private readonly timings: Timings) {}

  handle(event: RunEvent, now: number): void {
    switch (event.type) {
      case 'run:begin':
        this.started = now;
        return;
      case 'file:begin':
        this.begun.add(event.path);
        this.running.set(event.slot, { file: event.file, path: event.path, began: now, test: null });
        return;
      case 'file:loaded':
        this.titles.set(event.file, new Map(event.tests.map((t) => [t.id, t.titlePath.join(' ')])));
        return;
      case 'test:begin': {
        const r = this.running.get(event.slot);
        if (r !== undefined && r.file === event.file) r.test = this.titles.get(event.file)?.get(event.testId) ?? null;
        return;
      }
      case 'test:end':
        this.testsDone++;
        if (event.state === 'failed') this.failed++;
        if (event.state === 'passed' && event.attempt > 0) this.flaky++;
        return;
      case 'hook:fail':
      case 'file:fail':
        this.failed++;
        return;
      case 'rebuild':
        this.rebuilds++;
        return;
      case 'file:end': {
        const r = this.running.get(event.slot);
        if (r !== undefined && r.file === event.file) {
          this.measured.push((now - r.began) / 1000);
          this.running.delete(event.slot);
        }
        this.filesDone++;
        this.titles.delete(event.file);
        return;
      }
      default:
        return;
    }
  }

  elapsed(now: number): number {
    return this.started === null ? 0 : (now - this.started) / 1000;
  }

  /** Seconds left, or null while nothing is known to estimate from. */
  left(now: number): number | null {
    const mean = this.measured.length > 0 ? this.measured.reduce((a, b) => a + b, 0) / this.measured.length : null;
    const expected = (p: string): number | null => this.timings.get(p) ?? mean;
    let work = 0;
    for (const r of this.running.values()) {
      const e = expected(r.path);
      if (e === null) return null;
      work += Math.max(0, e - (now - r.began) / 1000);
    }
    const waiting = Math.max(0, this.files - this.filesDone - this.running.size);
    // The files not begun yet, by their durations; repeat rounds and unknown order make this an estimate.
    const notBegun = this.paths.filter((p) => !this.begun.has(p));
    for (const p of notBegun.slice(0, waiting)) {
      const e = expected(p);
      if (e === null) return null;
      work += e;
    }
    const extra = waiting - Math.min(waiting, notBegun.length);
    if (extra > 0) {
      if (mean === null) return null;
      work += extra * mean;
    }
    return work / Math.max(1, this.workers);
  }
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The counts: `3/10 files, 42 tests, 2 failed, 1 flaky, 1 rebuild, 12s, ~20s left`. */
export function progressCounts(p: ProgressState, now: number): string {
  const left = p.left(now);
  return [
    `${p.filesDone}/${p.files} files`,
    plural(p.testsDone, 'test'),
    `${p.failed} failed`,
    `${p.flaky} flaky`,
    plural(p.rebuilds, 'rebuild'),
    duration(p.elapsed(now)),
    ...(left !== null && p.filesDone < p.files ? [`~${duration(left)} left`] : []),
  ].join(', ');
}

function doing(p: ProgressState, slot: number, width: number): string {
  const r = p.running.get(slot);
  if (r === undefined) return 'idle';
  const text = r.test === null ? r.file : `${r.file} › ${r.test}`;
  return text.length > width ? `${text.slice(0, Math.max(1, width - 1))}…` : text;
}

/** The live block: the counts, then one line per worker with what it runs now. */
export function progressBlock(p: ProgressState, now: number, columns = 100): string {
  const lines = [`bulkhead: ${progressCounts(p, now)}`];
  for (let slot = 1; slot <= p.workers; slot++) lines.push(`  w${slot}  ${doing(p, slot, Math.max(20, columns - 8))}`);
  return lines.join('\n');
}

/** One plain line, for logs: the counts and the busy workers. */
export function progressLine(p: ProgressState, now: number): string {
  const busy = [...p.running.keys()].sort((a, b) => a - b).map((slot) => `w${slot} ${doing(p, slot, 80)}`);
  return `bulkhead: progress: ${progressCounts(p, now)}${busy.length > 0 ? `; ${busy.join('; ')}` : ''}`;
}
