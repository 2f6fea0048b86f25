// The run as a picture's data: one lane per worker slot (per shard after a merge), each test a bar from its start
// to its end, and markers where a connection was rebuilt, a worker thread was replaced, a fault was injected or a
// hook or file failed. Read from the run record alone, so a merged record draws as one run does; the HTML report
// (html.ts) and the Chrome trace (trace.ts) both draw this.
import type { RecordedTest, RunRecord } from '../plan/record.js';
import type { SerializedError } from '../protocol/messages.js';
import { rebuildText, sqlstateOf } from './junit.js';
import { slowThreshold } from '../plan/insight.js';

export type BarState = 'passed' | 'failed' | 'pending' | 'flaky';

export interface Lane {
  slot: number;
  shard?: number;
  label: string;
}

export interface Bar {
  slot: number;
  file: string;
  title: string;
  state: BarState;
  start: number;
  end: number;
  /** The connection generation of its slot it ran on (0: it never called db()). */
  generation: number | null;
  attempts: number;
  line?: number;
  slow: boolean;
  error?: { name: string; message: string; stack?: string; sqlstate?: string; expected?: string; actual?: string };
}

export interface Marker {
  kind: 'rebuild' | 'replaced' | 'chaos' | 'failure';
  slot: number;
  at: number;
  title: string;
  detail: string;
}

/** One run of a file on its lane, from its dispatch (the load included) to its end. */
export interface FileSpan {
  slot: number;
  file: string;
  start: number;
  end: number;
  incarnation: number;
}

export interface Timeline {
  lanes: Lane[];
  files: FileSpan[];
  bars: Bar[];
  markers: Marker[];
  /** Milliseconds from the first file's start (the time axis starts there: provisioning is not drawn) to the last event. */
  end: number;
}

function errorOf(e: SerializedError | undefined): Bar['error'] {
  if (e === undefined) return undefined;
  const sqlstate = sqlstateOf(e);
  return { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}), ...(sqlstate !== undefined ? { sqlstate } : {}), ...(e.expected !== undefined ? { expected: e.expected } : {}), ...(e.actual !== undefined ? { actual: e.actual } : {}) };
}

function stateOf(t: RecordedTest): BarState | null {
  if (t.state === 'notrun') return null;
  return t.flaky ? 'flaky' : t.state;
}

export function timeline(record: RunRecord): Timeline {
  const slow = slowThreshold(record);
  const lanes = [...record.slots].sort((a, b) => (a.shard ?? 0) - (b.shard ?? 0) || a.slot - b.slot).map((s) => ({ slot: s.slot, ...(s.shard !== undefined ? { shard: s.shard } : {}), label: s.shard !== undefined ? `s${s.shard} w${s.slot}` : `w${s.slot}` }));
  const bars: Bar[] = [];
  const markers: Marker[] = [];
  const files: FileSpan[] = [];
  let end = 0;
  for (const lane of record.slots) {
    let incarnation = 1;
    for (const f of lane.files) {
      end = Math.max(end, f.end ?? f.start);
      files.push({ slot: lane.slot, file: f.key, start: f.start, end: f.end ?? f.start, incarnation: f.incarnation });
      if (f.incarnation > incarnation) markers.push({ kind: 'replaced', slot: lane.slot, at: f.start, title: `worker replaced (thread ${f.incarnation})`, detail: `w${lane.slot} started thread ${f.incarnation} for ${f.file}: the previous one crashed or was stopped.` });
      incarnation = Math.max(incarnation, f.incarnation);
      for (const t of f.tests) {
        const state = stateOf(t);
        if (state === null || t.start === null || t.end === null) continue;
        const error = errorOf(t.error);
        bars.push({ slot: lane.slot, file: f.key, title: t.title, state, start: t.start, end: t.end, generation: t.generation, attempts: t.attempts, slow: t.end - t.start > slow, ...(t.line !== undefined ? { line: t.line } : {}), ...(error !== undefined ? { error } : {}) });
      }
      for (const x of f.failures) {
        markers.push({ kind: 'failure', slot: lane.slot, at: f.end ?? f.start, title: `${x.title} failed`, detail: `${f.key}: ${x.error.name}: ${x.error.message}\n${x.error.stack ?? ''}` });
      }
    }
  }
  for (const r of record.rebuilds) markers.push({ kind: 'rebuild', slot: r.slot, at: r.at, title: `connection ${r.generation} rebuilt`, detail: `${r.file}: ${rebuildText(r)}\nThe ${r.culprit.kind} that left it broken: ${r.culprit.title}` });
  for (const c of record.chaos) markers.push({ kind: 'chaos', slot: c.slot, at: c.at, title: `injected ${c.fault}`, detail: `${c.file}: ${c.title}` });
  // Times in the record count from the session's start; the picture counts from the first file's.
  const begin = Math.min(...record.slots.flatMap((s) => s.files.map((f) => f.start)), ...markers.map((m) => m.at));
  const zero = Number.isFinite(begin) ? begin : 0;
  for (const b of bars) {
    b.start -= zero;
    b.end -= zero;
  }
  for (const m of markers) m.at -= zero;
  for (const f of files) {
    f.start -= zero;
    f.end -= zero;
  }
  return { lanes, files, bars, markers, end: Math.max(0, end - zero, ...bars.map((b) => b.end), ...markers.map((m) => m.at)) };
}
