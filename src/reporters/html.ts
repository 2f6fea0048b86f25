// `bulkhead report` and --html <file>: one self-contained HTML page (no network) from a run record. The timeline is
// SVG drawn here, from the data (timeline.ts): a lane per worker slot, grouped per shard after a merge, a bar per
// test coloured by outcome, markers for rebuilds, replaced workers, injected faults and failed hooks. Bars thinner
// than a unit of the 1200-unit axis are drawn as one aggregate bar (a run of 20,000 tests stays a few thousand
// elements); a click on a bar, an aggregate or a marker shows its details from the data embedded in the page. The
// markup is built with xmlbuilder2 (it escapes); the small script and style are constants (htmlassets.ts).
import path from 'node:path';
import { createRequire } from 'node:module';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';

// Loaded when a report is written, not with every run (~90 ms to load).
const load = createRequire(import.meta.url);
import type { RunRecord } from '../plan/record.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './htmlassets.js';
import { timeline } from './timeline.js';
import { insight, seconds, workersText } from '../plan/insight.js';
import type { Bar, Timeline } from './timeline.js';

const WIDTH = 1200;
const LABEL = 70;
const LANE = 24;
const AXIS = 24;
const RANK: Record<Bar['state'], number> = { failed: 3, flaky: 2, pending: 1, passed: 0 };

interface Drawn {
  /** Indexes into the timeline's bars. */
  members: number[];
  x: number;
  w: number;
}

/** The bars of one lane as drawn: thin neighbours folded into one aggregate at least a unit wide. */
function fold(t: Timeline, slot: number, scale: number): Drawn[] {
  const order = t.bars.map((b, i) => ({ b, i })).filter(({ b }) => b.slot === slot).sort((a, b) => a.b.start - b.b.start);
  const out: Drawn[] = [];
  for (const { b, i } of order) {
    const x = LABEL + b.start * scale;
    const w = Math.max((b.end - b.start) * scale, 0.5);
    const last = out[out.length - 1];
    if (last !== undefined && w < 1 && last.w < 1 && x - (last.x + last.w) < 1) {
      last.members.push(i);
      last.w = Math.max(last.w, x + w - last.x);
    } else {
      out.push({ members: [i], x, w });
    }
  }
  return out;
}

function axis(svg: XMLBuilder, t: Timeline, scale: number, height: number): void {
  const step = [100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000].find((s) => t.end / s <= 12) ?? 1_800_000;
  for (let ms = 0; ms <= t.end; ms += step) {
    const x = LABEL + ms * scale;
    svg.ele('line', { class: 'tick', x1: x.toFixed(1), x2: x.toFixed(1), y1: AXIS - 4, y2: height });
    svg.ele('text', { class: 'tick', x: x.toFixed(1), y: AXIS - 8 }).txt(ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`);
  }
}

function svgTimeline(body: XMLBuilder, t: Timeline): void {
  const scale = (WIDTH - LABEL - 10) / Math.max(1, t.end);
  const height = AXIS + t.lanes.length * LANE + 4;
  const svg = body.ele('svg', { id: 'timeline', xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', role: 'img', 'aria-label': 'one lane per worker, a bar per test' });
  axis(svg, t, scale, height);
  t.lanes.forEach((lane, row) => {
    const y = AXIS + row * LANE;
    const g = svg.ele('g', { class: 'lane', 'data-slot': lane.slot, ...(lane.shard !== undefined ? { 'data-shard': lane.shard } : {}) });
    g.ele('text', { class: 'label', x: 4, y: y + LANE / 2 + 4 }).txt(lane.label);
    for (const f of t.files.filter((x) => x.slot === lane.slot)) {
      const attrs = { class: 'file', x: (LABEL + f.start * scale).toFixed(2), y: y + 1, width: Math.max((f.end - f.start) * scale, 0.5).toFixed(2), height: LANE - 2 };
      g.ele('rect', attrs).ele('title').txt(`${f.file}: ${Math.round(f.end - f.start)} ms, loading included`);
    }
    for (const d of fold(t, lane.slot, scale)) {
      const bars = d.members.map((i) => t.bars[i] as Bar);
      const state = bars.reduce((s, b) => (RANK[b.state] > RANK[s] ? b.state : s), 'passed' as Bar['state']);
      const kinds = new Set(bars.flatMap((b) => [b.state, ...(b.slow ? ['slow'] : [])]));
      const attrs = { class: `bar ${state}`, x: d.x.toFixed(2), y: y + 3, width: d.w.toFixed(2), height: LANE - 6, 'data-kinds': [...kinds].join(' ') };
      // No <title> per bar: the click shows the test, and half the elements keep a large run's page quick.
      if (d.members.length === 1) g.ele('rect', { ...attrs, 'data-bar': d.members[0] });
      else g.ele('rect', { ...attrs, 'data-group': d.members.join(',') });
    }
    t.markers.forEach((m, i) => {
      if (m.slot !== lane.slot) return;
      const x = LABEL + m.at * scale;
      const points = `${x.toFixed(1)},${y + 1} ${(x - 5).toFixed(1)},${y - 6} ${(x + 5).toFixed(1)},${y - 6}`;
      g.ele('polygon', { class: `marker ${m.kind}`, points, transform: `translate(0 ${LANE / 2 + 2})`, 'data-marker': i }).ele('title').txt(m.title);
    });
  });
}

function metadata(body: XMLBuilder, record: RunRecord, recordPath: string | null): void {
  const o = record.outcome;
  const dl = body.ele('dl', { id: 'meta' });
  const row = (k: string, v: string): void => {
    dl.ele('dt').txt(k);
    dl.ele('dd').txt(v);
  };
  row('outcome', `${o.passed} passed, ${o.failed} failed, ${o.skipped} skipped, ${o.notRun} not run, ${o.flaky} flaky${o.interrupted ? ' (interrupted)' : ''}`);
  row('rebuilds', String(record.rebuilds.length));
  row('workers', String(record.workers));
  // Where the time went: the summary's line (plan/insight.ts); the slow tests are in the list below.
  const x = insight(record);
  if (x.files.length > 0) {
    row('time', workersText(x));
    row('slowest files', x.files.map((f) => `${f.file} ${seconds(f.seconds)}`).join(', '));
  }
  row('created', record.createdAt);
  row('seed', record.seed === null ? 'none (sorted order)' : String(record.seed));
  if (record.shard !== undefined) row('shard', `${record.shard.index}/${record.shard.total} (plan ${record.shard.plan})`);
  if (record.merged !== undefined) row('merged', record.merged.map((m) => (m.shard !== null ? `shard ${m.shard}/${m.total}` : m.file)).join(', '));
  row('target', record.target);
  row('versions', Object.entries(record.versions).map(([k, v]) => `${k} ${v}`).join(', '));
  if (recordPath !== null) row('replay', `bulkhead replay ${recordPath}`);
}

interface Notable {
  kind: 'failed' | 'flaky' | 'slow' | 'notrun';
  file: string;
  title: string;
  text: string;
  diff?: string;
}

function notable(record: RunRecord, t: Timeline): Notable[] {
  const out: Notable[] = [];
  for (const b of t.bars) {
    if (b.state === 'failed') {
      const e = b.error;
      out.push({ kind: 'failed', file: b.file, title: b.title, text: e === undefined ? 'failed' : `${e.sqlstate !== undefined ? `SQLSTATE ${e.sqlstate}\n` : ''}${e.stack ?? `${e.name}: ${e.message}`}`, ...(e?.expected !== undefined && e.actual !== undefined ? { diff: `- expected: ${e.expected}\n+ actual:   ${e.actual}` } : {}) });
    }
    if (b.state === 'flaky') out.push({ kind: 'flaky', file: b.file, title: b.title, text: `passed on attempt ${b.attempts}` });
  }
  for (const m of t.markers) if (m.kind === 'failure') out.push({ kind: 'failed', file: '', title: m.title, text: m.detail });
  const slow = t.bars.filter((b) => b.slow).sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 200);
  for (const b of slow) out.push({ kind: 'slow', file: b.file, title: b.title, text: `${Math.round(b.end - b.start)} ms` });
  for (const s of record.slots) for (const f of s.files) for (const x of f.tests) if (x.state === 'notrun') out.push({ kind: 'notrun', file: f.key, title: x.title, text: x.reason ?? 'not run' });
  for (const n of record.notRunFiles) out.push({ kind: 'notrun', file: n.file, title: '(the whole file)', text: n.reason });
  return out;
}

function lists(body: XMLBuilder, items: Notable[]): void {
  const filters = body.ele('div', { id: 'filters' });
  for (const kind of ['failed', 'flaky', 'slow', 'notrun'] as const) {
    const label = filters.ele('label');
    label.ele('input', { type: 'checkbox', 'data-filter': kind });
    label.txt(` ${kind === 'notrun' ? 'not run' : kind} (${items.filter((i) => i.kind === kind).length})`);
  }
  const list = body.ele('ol', { id: 'tests' });
  for (const i of items) {
    const li = list.ele('li', { class: `item ${i.kind}`, 'data-kind': i.kind });
    li.ele('span', { class: 'kind' }).txt(i.kind === 'notrun' ? 'not run' : i.kind);
    li.ele('span', { class: 'title' }).txt(`${i.file !== '' ? `${i.file}: ` : ''}${i.title}`);
    li.ele('pre').txt(i.text);
    if (i.diff !== undefined) li.ele('pre', { class: 'diff' }).txt(i.diff);
  }
}

/** The page; `recordPath` (relative to the project) names the record in the replay command. */
export function htmlReport(record: RunRecord, recordPath: string | null = null): string {
  const t = timeline(record);
  const { fragment } = load('xmlbuilder2') as typeof import('xmlbuilder2');
  const body = fragment();
  const main = body.ele('main');
  main.ele('h1').txt(`bulkhead run of ${record.createdAt}`);
  metadata(main, record, recordPath === null ? null : recordPath.split(path.sep).join('/'));
  main.ele('h2').txt('Workers');
  svgTimeline(main, t);
  main.ele('div', { id: 'details' }).txt('Click a bar or a marker for its details.');
  main.ele('h2').txt('Tests');
  lists(main, notable(record, t));
  // Inside <script>, "</" would end the element: the JSON spells "<" as \u003c.
  const data = JSON.stringify({ bars: t.bars, markers: t.markers }).replace(/</g, '\\u003c');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>bulkhead report</title><style>${PAGE_STYLE}</style></head><body>` +
    body.end({ allowEmptyTags: true }) +
    `<script type="application/json" id="bulkhead-data">${data}</script><script>${PAGE_SCRIPT}</script></body></html>\n`
  );
}
