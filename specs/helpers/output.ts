// Readers for the parts of bulkhead's closing summary that specs assert on.
import { expect } from 'chai';

export interface Rebuild {
  slot: number;
  generation: number;
  /** Which of the slot's threads it was: "(thread N)" after the generation, 1 when the line names none. */
  thread: number;
  kind: 'test' | 'hook' | 'file';
  title: string;
  /** The words after the title: the reasons and the SQLSTATE or message. */
  why: string;
}

/** "connection rebuilds: N (w1: a, w2: b)" and the one line per rebuild that follows it. */
export function rebuilds(output: string): { total: number; perSlot: string; list: Rebuild[] } | null {
  const head = /^connection rebuilds: (\d+) \(([^)]*)\)$/m.exec(output);
  if (head === null) return null;
  const list: Rebuild[] = [];
  for (const m of output.matchAll(/^ {2}w(\d+) gen (\d+)(?: \(thread (\d+)\))? after (test|hook|file) "(.*)": (.*)$/gm)) {
    list.push({ slot: Number(m[1]), generation: Number(m[2]), thread: Number(m[3] ?? 1), kind: m[4] as Rebuild['kind'], title: m[5] ?? '', why: m[6] ?? '' });
  }
  return { total: Number(head[1]), perSlot: head[2] ?? '', list };
}

export interface NotRun {
  file: string;
  title: string;
  reason: string;
}

/** The "not run: N" section: one "  <file>: <title> (<reason>)" line per test that never ran. */
export function notRun(output: string): NotRun[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /^not run: \d+$/.test(l));
  if (start < 0) return [];
  const out: NotRun[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}(\S+): (.+?) \((.+)\)$/.exec(line);
    if (m === null) break;
    out.push({ file: m[1] ?? '', title: m[2] ?? '', reason: m[3] ?? '' });
  }
  return out;
}

/** Exit 2: one paragraph on stderr that starts with "bulkhead:" and names `mentions`; no test ran, nothing crashed. */
export function expectUsage(r: { code: number | null; stdout: string; stderr: string; output: string }, mentions: RegExp): void {
  expect(r.code, r.output).to.equal(2);
  const message = r.stderr.trim();
  expect(message).to.match(/^bulkhead: /);
  expect(message, 'one paragraph').to.not.match(/\n\s*\n/);
  expect(message).to.match(mentions);
  expect(r.output).to.not.match(/passing|passed|internal error/);
}
