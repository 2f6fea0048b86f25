// Rounds: every runner once per round, interleaved, so that drift on a noisy machine (other jobs, the server's
// own background work) lands on every runner alike. The direction alternates per round (A B C, C B A, ...),
// which also cancels a linear drift within a round.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Project } from './project.js';
import { runOnce, runner } from './runners.js';
import type { Runner, RunSample } from './runners.js';
import { bareConnects } from './server.js';
import type { Suite } from './suites.js';
import type { RebuildSample } from './summary.js';
import { fmt } from './stats.js';

export interface RoundContext {
  project: Project;
  /** DATABASE_URL and anything else every runner gets. */
  env: NodeJS.ProcessEnv;
  progress: (line: string) => void;
  /** Checked between runs: Ctrl-C stops after the current run. */
  stopped: () => boolean;
}

export function describe(s: RunSample, label: string): string {
  const rss = s.peakRssKb === null ? '' : `  rss ${(s.peakRssKb / 1024).toFixed(0)} MB  cpu ${fmt(s.cpuS)} s  load ${s.load1.toFixed(1)}`;
  const first = s.firstTestMs === null ? '' : `  first test ${s.firstTestMs} ms`;
  const cascade = s.suite === 'cascade' ? `  cascaded ${s.cascaded}` : '';
  return `${label.padEnd(22)} ${fmt(s.wallMs / 1000).padStart(6)} s${first}${rss}${cascade}${s.valid ? '' : `  INVALID: ${s.problem ?? ''}`}`;
}

export async function runRounds(ctx: RoundContext, suite: Suite, runners: readonly Runner[], rounds: number): Promise<RunSample[]> {
  const samples: RunSample[] = [];
  for (let round = 0; round < rounds && !ctx.stopped(); round++) {
    const order = round % 2 === 0 ? runners : [...runners].reverse();
    for (const r of order) {
      if (ctx.stopped()) break;
      const sample = await runOnce(ctx.project, r, suite, round, ctx.env);
      samples.push(sample);
      ctx.progress(`  [${suite.name} ${round + 1}/${rounds}] ${describe(sample, r.label)}`);
    }
  }
  return samples;
}

export interface RebuildResult {
  runs: RunSample[];
  samples: RebuildSample[];
  bare: { connect: number[]; closeAndConnect: number[] };
}

/** bulkhead -w 1 on the rebuild fixture, then as many bare connects in this process, `rounds` times over. */
export async function runRebuild(ctx: RoundContext, suite: Suite, rounds: number, url: string): Promise<RebuildResult> {
  const result: RebuildResult = { runs: [], samples: [], bare: { connect: [], closeAndConnect: [] } };
  const w1 = runner('bulkhead-w1');
  for (let round = 0; round < rounds && !ctx.stopped(); round++) {
    const file = path.join(ctx.project.out, `rebuild-${round}.jsonl`);
    const run = await runOnce(ctx.project, w1, suite, round, { ...ctx.env, BENCH_OUT: file });
    result.runs.push(run);
    const got = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RebuildSample) : [];
    rmSync(file, { force: true });
    result.samples.push(...got);
    const bare = await bareConnects(url, Math.max(got.length, 10) + 1);
    result.bare.connect.push(...bare.connect);
    result.bare.closeAndConnect.push(...bare.closeAndConnect);
    const missed = got.filter((s) => !s.rebuilt).length;
    ctx.progress(`  [rebuild ${round + 1}/${rounds}] ${describe(run, w1.label)}  ${got.length} rebuilds${missed > 0 ? ` (${missed} not rebuilt)` : ''}, ${bare.connect.length} bare connects`);
  }
  return result;
}
