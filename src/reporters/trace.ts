// The timeline in Chrome's trace-event format (--trace <file>), for Perfetto or chrome://tracing: one process per
// shard (one in all for a plain run), one thread (track) per worker slot, one complete event per test, and instant
// events for rebuilds, replaced workers, injected faults and failed hooks. Times are microseconds from the run's
// start.
import type { RunRecord } from '../plan/record.js';
import { timeline } from './timeline.js';

interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't';
  args?: Record<string, unknown>;
}

const us = (ms: number): number => Math.round(ms * 1000);

export function chromeTrace(record: RunRecord): string {
  const t = timeline(record);
  const pidOf = new Map(t.lanes.map((l) => [l.slot, l.shard ?? 1]));
  const pid = (slot: number): number => pidOf.get(slot) ?? 1;
  const events: TraceEvent[] = [];
  for (const p of new Set(pidOf.values())) events.push({ name: 'process_name', ph: 'M', pid: p, tid: 0, args: { name: record.merged !== undefined ? `bulkhead shard ${p}` : 'bulkhead' } });
  for (const l of t.lanes) events.push({ name: 'thread_name', ph: 'M', pid: pid(l.slot), tid: l.slot, args: { name: l.label } }, { name: 'thread_sort_index', ph: 'M', pid: pid(l.slot), tid: l.slot, args: { sort_index: l.slot } });
  for (const b of t.bars) {
    events.push({
      name: b.title,
      cat: b.state,
      ph: 'X',
      pid: pid(b.slot),
      tid: b.slot,
      ts: us(b.start),
      dur: us(b.end - b.start),
      args: { file: b.file, state: b.state, connection: b.generation, attempts: b.attempts, ...(b.line !== undefined ? { line: b.line } : {}), ...(b.error !== undefined ? { error: `${b.error.name}: ${b.error.message}`, ...(b.error.sqlstate !== undefined ? { sqlstate: b.error.sqlstate } : {}) } : {}) },
    });
  }
  for (const m of t.markers) events.push({ name: m.title, cat: m.kind, ph: 'i', s: 't', pid: pid(m.slot), tid: m.slot, ts: us(m.at), args: { detail: m.detail } });
  return `${JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms', otherData: { createdAt: record.createdAt, workers: record.workers, seed: record.seed } })}\n`;
}
