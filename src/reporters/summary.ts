// Folds the event stream into counts, rebuilds per slot and the tests that never ran, and prints the closing
// summary: its last line reads exactly "N passed, N failed" (", N skipped" when any were skipped).
import type { RunEvent } from '../run/events.js';
import type { RebuildInfo, TestInfo } from '../protocol/messages.js';
import { describeReasons } from '../protocol/messages.js';
import type { Redactor } from '../db/redact.js';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  notRun: { file: string; title: string; reason: string }[];
  rebuilds: RebuildInfo[];
  fileFailures: number;
  flaky: { file: string; title: string; attempts: number }[];
  chaos: { file: string; slot: number; fault: string; title: string }[];
  leaks: { file: string; slot: number; count: number; applicationNames: string[] }[];
}

export class Summary {
  readonly tally: Tally = { passed: 0, failed: 0, skipped: 0, notRun: [], rebuilds: [], fileFailures: 0, flaky: [], chaos: [], leaks: [] };
  /** Set by the run for the closing lines: the --shuffle seed and whether flaky tests fail the run. */
  seed: number | null = null;
  failOnFlaky = false;
  private readonly titles = new Map<string, TestInfo>();

  constructor(
    private readonly workers: number,
    private readonly redactor: Redactor,
  ) {}

  handle(event: RunEvent): void {
    const t = this.tally;
    switch (event.type) {
      case 'file:loaded':
        for (const test of event.tests) this.titles.set(`${event.file}\u0000${test.id}`, test);
        return;
      case 'test:end':
        if (event.state === 'passed' && event.attempt > 0) {
          const info = this.titles.get(`${event.file}\u0000${event.testId}`);
          t.flaky.push({ file: event.file, title: info?.titlePath.join(' ') ?? event.testId, attempts: event.attempt + 1 });
        }
        if (event.state === 'passed') t.passed++;
        else if (event.state === 'failed') t.failed++;
        else t.skipped++;
        return;
      case 'hook:fail':
        t.failed++;
        return;
      case 'file:fail':
        t.failed++;
        t.fileFailures++;
        return;
      case 'test:notrun': {
        const info = this.titles.get(`${event.file}\u0000${event.testId}`);
        t.notRun.push({ file: event.file, title: info?.titlePath.join(' ') ?? (event.testId === '*' ? '(every test in the file)' : event.testId), reason: event.reason });
        return;
      }
      case 'rebuild':
        t.rebuilds.push(event.rebuild);
        return;
      case 'chaos':
        t.chaos.push({ file: event.file, slot: event.slot, fault: event.fault, title: event.title });
        return;
      default:
        return;
    }
  }

  leak(file: string, slot: number, leak: { count: number; applicationNames: string[] }): void {
    this.tally.leaks.push({ file, slot, ...leak });
  }

  get ok(): boolean {
    return this.tally.failed === 0 && !(this.failOnFlaky && this.tally.flaky.length > 0);
  }

  render(): string {
    const t = this.tally;
    const lines: string[] = [''];
    const perSlot = Array.from({ length: this.workers }, (_, i) => `w${i + 1}: ${t.rebuilds.filter((r) => r.slot === i + 1).length}`);
    lines.push(`connection rebuilds: ${t.rebuilds.length} (${perSlot.join(', ')})`);
    for (const r of t.rebuilds) {
      // A server error quotes the offending value, which may be a connection string with its password.
      const what = this.redactor.redact(r.sqlstate !== undefined ? `${r.sqlstate} ${r.message}` : r.message);
      // Without a fault to quote, the reasons already say it all.
      const detail = what === r.reasons.join(', ') ? '' : ` (${firstLine(what)})`;
      lines.push(`  w${r.slot} gen ${r.generation} after ${r.culprit.kind} "${r.culprit.title}": ${describeReasons(r.reasons)}${detail}`);
    }
    if (t.flaky.length > 0) {
      lines.push(`flaky: ${t.flaky.length}${this.failOnFlaky ? ' (--fail-on-flaky: the run fails)' : ''}`);
      for (const f of t.flaky) lines.push(`  ${f.file}: ${f.title} (passed on attempt ${f.attempts})`);
    }
    if (t.chaos.length > 0) {
      lines.push(`injected faults: ${t.chaos.length}`);
      for (const c of t.chaos) lines.push(`  ${c.fault} on w${c.slot} in ${c.file}: ${c.title}`);
    }
    if (t.leaks.length > 0) {
      lines.push(`leaked connections: ${t.leaks.reduce((n, l) => n + l.count, 0)} (closed at the end of the run)`);
      for (const l of t.leaks) lines.push(`  ${l.file} (w${l.slot}): ${l.count} session(s) left open [${l.applicationNames.join(', ') || 'no application_name'}]`);
    }
    if (t.notRun.length > 0) {
      lines.push(`not run: ${t.notRun.length}`);
      for (const n of t.notRun) lines.push(`  ${n.file}: ${n.title} (${n.reason})`);
    }
    if (this.seed !== null) lines.push(`seed: ${this.seed} (reproduce the order with --shuffle=${this.seed})`);
    lines.push(`${t.passed} passed, ${t.failed} failed${t.skipped > 0 ? `, ${t.skipped} skipped` : ''}`);
    return `${lines.join('\n')}\n`;
  }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
