// `bulkhead bisect <record> --test "<full title>"`: for a test that failed in a recorded run but passes alone,
// finds the smallest set of tests that ran before it on its slot and make it fail (delta debugging, ddmin).
// Every probe is a one-slot run on freshly provisioned slot databases.
import path from 'node:path';
import type { Config } from '../config/types.js';
import { BulkheadError, EXIT, errors } from '../errors.js';
import { readRecord, writeRecord } from './record.js';
import type { RunRecord } from './record.js';
import { recordedConditions, recordedPlan } from './replay.js';
import { fixedPlan } from './schedule.js';
import type { PlanEntry } from './schedule.js';
import type { Target } from '../db/target.js';
import { infoStream, session } from '../run/session.js';
import type { RunIO } from '../run/session.js';

interface Candidate {
  /** Index of the file run in the slot's sequence. */
  entry: number;
  title: string;
}

export async function bisectCommand(config: Config, io: RunIO, target: Target): Promise<number> {
  const info = infoStream(config, io);
  const wanted = config.bisect.test;
  if (wanted === null) throw errors.usage('bisect needs the failing test: --test "<full title>" (the title as the reporter prints it, suites first).');
  const recordFile = path.resolve(config.root, config.recordArg ?? '');
  const record = readRecord(recordFile);
  const { sequence, candidates, targetEntry } = locate(record, recordedPlan(record, config.root), wanted, recordFile);
  // Each probe provisions its slot afresh, so nothing an earlier probe left behind decides the next one.
  // Without retries, so a test that was flaky (failed, then passed on a retry's fresh connection) fails a probe.
  const probeConfig: Config = { ...config, ...recordedConditions(config, record), workers: 1, seed: record.seed, mocha: { ...config.mocha, bail: false, retries: 0 } };

  let probes = 0;
  const cache = new Map<string, { failed: boolean; record: RunRecord }>();
  const keyOf = (subset: readonly Candidate[]): string => subset.map((c) => `${c.entry}:${c.title}`).join('\n');
  /** True when the target fails after exactly these candidates (in their recorded order). */
  const fails = async (subset: readonly Candidate[]): Promise<boolean> => {
    const key = keyOf(subset);
    const known = cache.get(key);
    if (known !== undefined) return known.failed;
    probes++;
    const slot = probePlan(sequence, subset, targetEntry, wanted);
    const result = await session(probeConfig, io, target, { files: [...new Set(slot.map((e) => e.file))], workers: 1, exact: true, quiet: true, makePlan: () => fixedPlan([slot], record.seed) });
    if (result.record.outcome.interrupted) throw new BulkheadError('ERR_BULKHEAD_USAGE', 'bisect was interrupted (Ctrl-C).', { exitCode: EXIT.interrupted });
    // A retry the test asks for itself (this.retries()) still runs: a pass on a retry is the failure seen.
    const failed = result.record.slots.some((s) => s.files.some((f) => f.tests.some((t) => t.title === wanted && (t.state === 'failed' || t.flaky))));
    info.write(`bisect: probe ${probes}: ${subset.length} test(s) before it -> ${failed ? 'fails' : 'passes'}\n`);
    cache.set(key, { failed, record: result.record });
    return failed;
  };

  info.write(`bisect: "${wanted}" ran after ${candidates.length} test(s) on its slot in ${path.relative(config.root, recordFile)}\n`);
  if (await fails([])) {
    info.write('bisect: the test fails on its own, so no earlier test is needed to make it fail; run it alone to debug it.\n');
    return EXIT.failed;
  }
  if (!(await fails(candidates))) {
    info.write('bisect: the test passes even after every recorded earlier test, so the failure did not reproduce; try `bulkhead replay` on the record, or --repeat.\n');
    return EXIT.failed;
  }
  let culprits = config.bisect.pair ? await single(candidates, fails) : await ddmin(candidates, fails);
  // --pair assumes one culprit; when that one alone does not reproduce it, the full search takes over.
  if (!(await fails(culprits))) culprits = await ddmin(candidates, fails);
  const reproduce = path.join(config.root, '.bulkhead', 'bisect.json');
  // The record of the last failing probe is the minimal schedule itself: replaying it reproduces the failure.
  const minimal = cache.get(keyOf(culprits));
  if (minimal !== undefined) writeRecord(reproduce, minimal.record);
  info.write(`bisect: ${probes} probes; the test fails when ${culprits.length === 1 ? 'this test runs' : 'these tests run'} before it on the same worker:\n`);
  for (const c of culprits) info.write(`  ${c.title}  (${sequence[c.entry]?.file.rel ?? ''})\n`);
  info.write(`reproduce: bulkhead replay ${path.relative(config.root, reproduce)}\n`);
  return EXIT.ok;
}

function locate(record: RunRecord, slots: PlanEntry[][], wanted: string, file: string): { sequence: PlanEntry[]; candidates: Candidate[]; targetEntry: number } {
  for (const [i, s] of record.slots.filter((x) => x.files.length > 0).entries()) {
    const entry = s.files.findIndex((f) => f.tests.some((t) => t.title === wanted && (t.state === 'failed' || t.flaky)));
    if (entry === -1) continue;
    const sequence = slots[i] ?? [];
    const candidates: Candidate[] = [];
    sequence.forEach((e, n) => {
      if (n > entry) return;
      for (const title of e.tests ?? []) {
        if (n === entry && title === wanted) break;
        candidates.push({ entry: n, title });
      }
    });
    return { sequence, candidates, targetEntry: entry };
  }
  throw errors.usage(`No failed or flaky test titled "${wanted}" is in the run record ${file}. Give the full title exactly as the summary shows it (suites first, separated by spaces).`);
}

function probePlan(sequence: PlanEntry[], subset: readonly Candidate[], targetEntry: number, wanted: string): PlanEntry[] {
  const out: PlanEntry[] = [];
  sequence.forEach((e, n) => {
    if (n > targetEntry) return;
    const tests = subset.filter((c) => c.entry === n).map((c) => c.title);
    if (n === targetEntry) tests.push(wanted);
    if (tests.length > 0) out.push({ ...e, tests });
  });
  return out;
}

/** --pair: assume one culprit and halve the candidates each probe: about log2(n) probes. */
async function single(c: Candidate[], fails: (s: readonly Candidate[]) => Promise<boolean>): Promise<Candidate[]> {
  let range = c;
  while (range.length > 1) {
    const half = range.slice(0, Math.ceil(range.length / 2));
    range = (await fails(half)) ? half : range.slice(half.length);
  }
  return range;
}

/** Zeller's ddmin: a 1-minimal failing subset, near log2(n) probes when one test is to blame. */
async function ddmin(c: Candidate[], fails: (s: readonly Candidate[]) => Promise<boolean>): Promise<Candidate[]> {
  let current = c;
  let n = 2;
  while (current.length >= 2) {
    const size = Math.ceil(current.length / n);
    const chunks = Array.from({ length: Math.ceil(current.length / size) }, (_, i) => current.slice(i * size, (i + 1) * size));
    let reduced = false;
    for (const chunk of chunks) {
      if (await fails(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && chunks.length > 2) {
      for (const chunk of chunks) {
        const complement = current.filter((x) => !chunk.includes(x));
        if (await fails(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}
