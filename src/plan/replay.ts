// `bulkhead replay <record>`: the same per-slot sequences (same tests, same order, same slots) on fresh slots,
// then a test-by-test comparison with the recorded outcomes.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config, Isolation } from '../config/types.js';
import { recordedFiles } from './discover.js';
import { errors, EXIT } from '../errors.js';
import { readRecord } from './record.js';
import type { RecordedState, RunRecord } from './record.js';
import { fixedPlan } from './schedule.js';
import type { PlanEntry } from './schedule.js';
import type { Target } from '../db/target.js';
import { session } from '../run/session.js';
import type { RunIO } from '../run/session.js';

/** The recorded schedule as a plan: each slot's files with exactly the tests it ran, in order. */
export function recordedPlan(record: RunRecord, root: string): PlanEntry[][] {
  const byRel = new Map(recordedFiles(root, record.slots.flatMap((s) => s.files.map((f) => f.file))).map((f) => [f.rel, f]));
  return record.slots
    .filter((s) => s.files.length > 0)
    .map((s) =>
      s.files.map((f) => {
        const file = byRel.get(f.file);
        if (file === undefined) throw errors.usage(`The recorded file ${f.file} is not among this project's spec files; run replay from the same project root with the same spec configuration.`);
        const ran = f.tests.filter((t) => t.state !== 'notrun').map((t) => t.title);
        return { file, round: f.round, ...(ran.length > 0 ? { tests: ran } : {}) };
      }),
    );
}

/**
 * Replay and bisect probes start from fresh databases, as the recorded run did: without this a one-slot replay
 * would run on the shared target, where rows left by an earlier replay or probe change the outcome. An isolation
 * given now, or recorded, is kept (a target whose name lacks "test" may only allow "shared").
 */
export function freshIsolation(config: Config, record: RunRecord): Isolation {
  const recorded = record.config['isolation'];
  return config.isolation ?? (recorded === 'database' || recorded === 'schema' || recorded === 'shared' ? recorded : 'database');
}

/**
 * The conditions of the recorded run that decide outcomes, unless given again now: its isolation (see above), the
 * setup its template was built from (without it the slots would lack the schema), --transaction, and --chaos
 * (seeded, so the same faults hit the same tests again).
 */
export function recordedConditions(config: Config, record: RunRecord): Pick<Config, 'isolation' | 'setup' | 'transaction' | 'chaos'> {
  const { setup, transaction, chaos } = record.config;
  return {
    isolation: freshIsolation(config, record),
    setup: config.setup ?? (typeof setup === 'string' && existsSync(setup) ? setup : null),
    transaction: config.transaction || transaction === true,
    chaos: config.chaos ?? (isChaos(chaos) ? chaos : null),
  };
}

function isChaos(value: unknown): value is NonNullable<Config['chaos']> {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return ['seed', 'terminate', 'drop', 'delay', 'delayMs'].every((k) => typeof c[k] === 'number');
}

function outcomes(record: RunRecord): Map<string, RecordedState> {
  const out = new Map<string, RecordedState>();
  for (const s of record.slots) for (const f of s.files) for (const t of f.tests) out.set(`${f.key}\u0000${t.title}`, t.state);
  return out;
}

export async function replayCommand(config: Config, io: RunIO, target: Target): Promise<number> {
  const file = path.resolve(config.root, config.recordArg ?? '');
  const recorded = readRecord(file);
  const slots = recordedPlan(recorded, config.root);
  const files = [...new Set(slots.flat().map((e) => e.file))];
  const replayConfig: Config = { ...config, ...recordedConditions(config, recorded), workers: slots.length, seed: recorded.seed };
  const result = await session(replayConfig, io, target, {
    files,
    workers: slots.length,
    exact: true,
    quiet: false,
    makePlan: () => fixedPlan(slots, recorded.seed),
    label: `, replaying ${path.relative(config.root, file)}`,
    epilogue: (now) => compare(recorded, now) + gone(recorded, now),
  });
  // A replay that could not run what the record names reproduces nothing: the record no longer fits the project.
  return vanished(recorded, result.record).length > 0 ? EXIT.usage : result.code;
}

/** Tests the record ran that the project no longer has: not even listed (renamed, removed, or their file changed). */
function vanished(before: RunRecord, after: RunRecord): string[] {
  const present = new Set<string>();
  for (const s of after.slots) for (const f of s.files) for (const t of f.tests) present.add(`${f.key}\u0000${t.title}`);
  return [...outcomes(before)].filter(([key, state]) => state !== 'notrun' && !present.has(key)).map(([key]) => key.replace('\u0000', ': '));
}

function gone(before: RunRecord, after: RunRecord): string {
  const missing = vanished(before, after);
  if (missing.length === 0) return '';
  const lines = missing.map((t) => `  ${t}`).join('\n');
  return `\nreplay: ${missing.length} recorded test${missing.length === 1 ? '' : 's'} no longer exist${missing.length === 1 ? 's' : ''} in this project (renamed or removed), so the replay could not run ${missing.length === 1 ? 'it' : 'them'}; replay a record written by the current code (exit 2):\n${lines}\n`;
}

/**
 * Test by test: did each recorded outcome happen again? Only the outcomes that differ are listed, grouped by the
 * change (recorded failed, now passed: N), since a replay of a thousand tests that reproduced is one line of news.
 */
export function compare(before: RunRecord, after: RunRecord): string {
  const now = outcomes(after);
  const changes = new Map<string, string[]>();
  let same = 0;
  let total = 0;
  for (const [key, state] of outcomes(before)) {
    if (state === 'notrun') continue;
    total++;
    const again = now.get(key) ?? 'notrun';
    if (again === state) {
      same++;
      continue;
    }
    const change = `recorded ${state}, now ${again}`;
    changes.set(change, [...(changes.get(change) ?? []), key.replace('\u0000', ': ')]);
  }
  const lines = [`replay: ${same} of ${total} outcomes reproduced${total === same ? '' : `; ${total - same} differ:`}`];
  for (const [change, titles] of changes) lines.push(`  ${change}: ${titles.length}`, ...titles.map((t) => `    ${t}`));
  return `\n${lines.join('\n')}\n`;
}
