// npm run bench [-- --quick] : bulkhead against mocha (serial and --parallel) on generated suites, as ratios,
// with cascades, rebuild latency, provisioning, time to first test, peak RSS, the scaling curve and the realised
// spread of duration- against count-balanced shards alongside.
// Writes bench/results/<date>.json and .md. Steps are numbered; the server is left as found on every exit path.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, createProject, writeFiles } from './lib/project.js';
import { METHOD, renderMarkdown, uniqueBase, writeAtomic } from './lib/report.js';
import type { BenchRecord } from './lib/report.js';
import { runRebuild, runRounds } from './lib/rounds.js';
import type { RebuildResult, RoundContext } from './lib/rounds.js';
import { DEFAULT_RUNNERS, RUNNERS, killRunning, provisionProbe, runOnce, runner } from './lib/runners.js';
import type { RunSample } from './lib/runners.js';
import { bareClones, createBenchDatabase, dropAll, leftovers } from './lib/server.js';
import type { CloneSample } from './lib/server.js';
import { cascade, dbBound, overhead, rebuild } from './lib/suites.js';
import { floorMs, innerLoop, pools, timers } from './lib/realworld.js';
import type { Suite } from './lib/suites.js';
import { profileRun, renderProfile } from './lib/profile.js';
import { cascadeRows, provisionRows, rebuildRows, shardRows, target, wallRows } from './lib/summary.js';
import { SHARDS, runShards, shardsSuite } from './lib/shards.js';
import type { ShardsResult } from './lib/shards.js';
import { median, ratio } from './lib/stats.js';

const HELP = `Usage: npm run bench -- [--quick] [--rounds N] [--suites a,b] [--runners a,b] [--keep] [--profile]

  --quick          2 timing rounds, 1 cascade round, 2 rebuild runs, 1 provisioning round at 1 and 4 slots, 1 round
                   of shards; the full mode runs 5, 3, 5 and 3 at 1, 2, 4 and 8 slots, and 3
  --rounds N       timing rounds, and rounds of shards (default 2 and 1 quick, 5 and 3 full)
  --suites list    dbbound,overhead,pools,timers,innerloop,cascade,rebuild,provisioning,shards (default: all)
  --runners list   ${RUNNERS.map((r) => r.id).join(',')} (default: all but bulkhead-embedded;
                   pools, timers and innerloop take their own subsets of it)
  --keep           keep the generated project (its path is printed)
  --bulkhead DIR   measure the build in DIR (bin/, dist/, package.json; e.g. a patched copy) instead of this checkout
  --out DIR        results directory (default bench/results)
  --profile        instead of timing: one bulkhead run per suite under node --cpu-prof (main thread and workers)
                   and --verbose, folded into where the time goes; writes <date>-profile.md
                   (default runners bulkhead-w2,bulkhead-w8 and suites dbbound,overhead)
Environment: BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres); needs CREATE DATABASE.
`;

const ALL_SUITES = ['dbbound', 'overhead', 'pools', 'timers', 'innerloop', 'cascade', 'rebuild', 'provisioning', 'shards'];

/** The runners each real-world-shaped suite needs for its targets (the others would only cost time). */
const SUITE_RUNNERS = {
  pools: ['mocha-serial', 'mocha-j2', 'bulkhead-w2'],
  timers: ['mocha-j4', 'bulkhead-w4'],
  innerloop: ['mocha-serial', 'bulkhead-embedded'],
} as const;

interface Options {
  quick: boolean;
  profile: boolean;
  rounds: number | null;
  suites: string[] | null;
  runners: string[] | null;
  keep: boolean;
  out: string;
  bulkhead: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, profile: false, rounds: null, suites: null, runners: null, keep: false, out: path.join(REPO, 'bench', 'results'), bulkhead: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--rounds') o.rounds = Number(value());
    else if (a === '--suites') o.suites = value().split(',');
    else if (a === '--runners') o.runners = value().split(',').map((id) => runner(id).id);
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--bulkhead') o.bulkhead = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${a}\n${HELP}`);
  }
  for (const s of o.suites ?? []) if (!ALL_SUITES.includes(s)) throw new Error(`bench: unknown suite ${s}; known: ${ALL_SUITES.join(', ')}`);
  if (o.rounds !== null && !(Number.isInteger(o.rounds) && o.rounds > 0)) throw new Error('bench: --rounds needs a whole number above 0');
  return o;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

let stop = false;

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const rounds = { timing: opts.rounds ?? (opts.quick ? 2 : 5), cascade: opts.quick ? 1 : 3, rebuild: opts.quick ? 2 : 5, provisioning: opts.quick ? 1 : 3, shards: opts.rounds ?? (opts.quick ? 1 : 3) };
  const want = (s: string): boolean => (opts.suites ?? ALL_SUITES).includes(s);
  const runners = (opts.runners === null ? DEFAULT_RUNNERS : RUNNERS).filter((r) => (opts.runners ?? RUNNERS.map((x) => x.id)).includes(r.id));
  const subset = (name: keyof typeof SUITE_RUNNERS) => RUNNERS.filter((r) => (SUITE_RUNNERS[name] as readonly string[]).includes(r.id) && (opts.runners ?? RUNNERS.map((x) => x.id)).includes(r.id));
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const t0 = performance.now();
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0)}s`;

  // 1. The project: a snapshot of the built package and the generated suites.
  const project = createProject(opts.bulkhead ?? REPO);
  const suites = { dbbound: dbBound(), overhead: overhead(), pools: pools(), timers: timers(), innerloop: innerLoop(), cascade: cascade(), rebuild: rebuild(opts.quick ? 6 : 10), shards: shardsSuite() };
  for (const s of Object.values(suites)) writeFiles(project, s.files);
  log(`bench: ${opts.quick ? 'quick' : 'full'} mode, project ${project.dir}`);
  let samples: RunSample[] = [];
  let rebuildResult: RebuildResult = { runs: [], samples: [], bare: { connect: [], closeAndConnect: [] } };
  let clones: CloneSample[] = [];
  let shards: ShardsResult = { full: null, timings: {}, partitions: { duration: [], count: [] }, samples: [] };
  let postgres = 'unknown';
  try {
    // 2. The bench's own database (dropped at the end), then a warm-up that fills the page cache for both sides.
    const bench = await createBenchDatabase();
    postgres = bench.server;
    log(`bench: database ${bench.name} on PostgreSQL ${bench.server}`);
    const ctx: RoundContext = { project, env: { DATABASE_URL: bench.url }, progress: log, stopped: () => stop };
    if (opts.profile) {
      await profileAll(opts, ctx, suites, log);
      return 0;
    }
    log('bench: warm-up (not measured)');
    for (const id of ['mocha-serial', 'bulkhead-w2']) await runOnce(project, runner(id), suites.overhead, -1, ctx.env);
    // bulkhead takes the longest files first from the durations its last run recorded, as it does for users from
    // their second run on; the embedded server's first start (its cluster cached afterwards) is not the inner loop.
    if (want('pools')) await runOnce(project, runner('bulkhead-w2'), suites.pools, -1, ctx.env);
    if (want('timers')) await runOnce(project, runner('bulkhead-w4'), suites.timers, -1, ctx.env);
    if (want('innerloop')) await runOnce(project, runner('bulkhead-embedded'), suites.innerloop, -1, ctx.env);

    // 3. Timing suites, interleaved rounds.
    for (const name of ['dbbound', 'overhead'] as const) {
      if (!want(name) || stop) continue;
      log(`bench: ${name} (${suites[name].tests} tests), ${rounds.timing} rounds × ${runners.length} runners [${elapsed()}]`);
      samples.push(...(await runRounds(ctx, suites[name], runners, rounds.timing)));
    }
    // 3b. The real-world-shaped suites and the inner loop, each with the runners its targets compare.
    for (const name of ['pools', 'timers', 'innerloop'] as const) {
      if (!want(name) || stop) continue;
      const rs = subset(name);
      log(`bench: ${name} (${suites[name].tests} tests), ${rounds.timing} rounds × ${rs.length} runners [${elapsed()}]`);
      samples.push(...(await runRounds(ctx, suites[name], rs, rounds.timing)));
    }
    // 4. Cascades: the same runners on the poisoned suite.
    if (want('cascade') && !stop) {
      log(`bench: cascade, ${rounds.cascade} round(s) [${elapsed()}]`);
      samples.push(...(await runRounds(ctx, suites.cascade, runners, rounds.cascade)));
    }
    // 5. Rebuild latency against bare connects.
    if (want('rebuild') && !stop) {
      log(`bench: rebuild latency, ${rounds.rebuild} run(s) [${elapsed()}]`);
      rebuildResult = await runRebuild(ctx, suites.rebuild, rounds.rebuild, bench.url);
      samples.push(...rebuildResult.runs);
    }
    // 6. Provisioning: bare clones, and bulkhead's own provisioning of the same slots from the same template.
    if (want('provisioning') && !stop) {
      log(`bench: provisioning (bare CREATE DATABASE … TEMPLATE per slot, then bulkhead -w N), ${rounds.provisioning} round(s) [${elapsed()}]`);
      clones = await bareClones(opts.quick ? [1, 4] : [1, 2, 4, 8], rounds.provisioning, log, provisionProbe(project));
    }
    // 7. Shards (issue 12): a full run for the timings, then 4 shards by duration and 4 by count, one after another.
    if (want('shards') && !stop) {
      log(`bench: shards (${suites.shards.tests} tests), a full run, then ${rounds.shards} round(s) × ${SHARDS} shards × duration/count [${elapsed()}]`);
      shards = await runShards(ctx, suites.shards, rounds.shards);
    }
    samples = samples.filter((s) => s.round >= 0);
  } finally {
    // 8. Leave the server as found, whatever happened above.
    const dropped = await dropAll();
    log(`bench: dropped ${dropped.length} database(s) [${elapsed()}]`);
    if (opts.keep) log(`bench: kept ${project.root}`);
    else project.remove();
  }

  // 9. Summaries, targets, files.
  const wall = ['dbbound', 'overhead', 'pools', 'timers', 'innerloop'].filter(want).flatMap((name) => wallRows(samples, name));
  const row = (suite: string, id: string) => wall.find((r) => r.suite === suite && r.runner === id);
  const rebuildTable = rebuildRows(rebuildResult.samples, rebuildResult.bare);
  const rebuildAll = median(rebuildResult.samples.filter((s) => s.rebuilt).map((s) => s.total));
  const bareConnect = median(rebuildResult.bare.connect);
  const w1 = row('dbbound', 'bulkhead-w1')?.peakRssMb ?? null;
  const w8 = row('dbbound', 'bulkhead-w8')?.peakRssMb ?? null;
  const marginal = w1 !== null && w8 !== null ? (w8 - w1) / 7 : null;
  const cascadeTable = cascadeRows(samples);
  const bulkheadCascades = cascadeTable.filter((r) => r.runner.startsWith('bulkhead-')).reduce((n, r) => n + (r.cascadedMax ?? 0), 0);
  const rssRows = wall.filter((r) => r.suite === 'dbbound' && r.runner.startsWith('bulkhead-'));
  const med = (suite: string, id: string): number | null => row(suite, id)?.medianMs ?? null;
  const first = (suite: string, id: string): number | null => row(suite, id)?.firstTestMs ?? null;
  const serialFirst = first('overhead', 'mocha-serial');
  const shardTable = shardRows(shards.samples, SHARDS);
  const [byDuration, byCount] = [shardTable[0]?.realisedSpread ?? null, shardTable[1]?.realisedSpread ?? null];
  // The issue's targets (issue 11), in its order, each a ratio of figures taken in this run.
  const targets = [
    target('DB-bound: bulkhead -w 2 vs mocha serial', '≤ 0.55×', row('dbbound', 'bulkhead-w2')?.vsSerial ?? null, 0.55, '×'),
    target('DB-bound: bulkhead -w 2 vs mocha --parallel -j 2', '≤ 0.70×', row('dbbound', 'bulkhead-w2')?.vsParallel ?? null, 0.7, '×'),
    target('DB-bound: bulkhead -w 4 vs mocha --parallel -j 4', '≤ 0.70×', row('dbbound', 'bulkhead-w4')?.vsParallel ?? null, 0.7, '×'),
    target('DB-bound: bulkhead -w 8 vs mocha serial', '≤ 0.25×', row('dbbound', 'bulkhead-w8')?.vsSerial ?? null, 0.25, '×'),
    target('Overhead: bulkhead -w 2 vs mocha serial', '≤ 1.0×', row('overhead', 'bulkhead-w2')?.vsSerial ?? null, 1.0, '×'),
    target('Overhead: bulkhead -w 2 vs mocha --parallel -j 2', '≤ 0.6×', row('overhead', 'bulkhead-w2')?.vsParallel ?? null, 0.6, '×'),
    target('Overhead: bulkhead -w 8 vs bulkhead -w 2', '≤ 1.0× (no slower)', ratio(med('overhead', 'bulkhead-w8'), med('overhead', 'bulkhead-w2')), 1.0, '×'),
    target('Time to first test (overhead): bulkhead -w 2 vs (mocha serial + 100 ms)', '≤ 1.0×', ratio(first('overhead', 'bulkhead-w2'), serialFirst === null ? null : serialFirst + 100), 1.0, '×'),
    target('Pools suite (42 files, module-level pools, skewed): bulkhead -w 2 vs mocha serial', '≤ 0.55×', row('pools', 'bulkhead-w2')?.vsSerial ?? null, 0.55, '×'),
    target('Timers suite (31 files, skewed): bulkhead -w 4 vs its floor at 4', '≤ 1.1×', ratio(med('timers', 'bulkhead-w4'), want('timers') ? floorMs(suites.timers.seconds, 4) : null), 1.1, '×'),
    target('Timers suite: bulkhead -w 4 vs mocha --parallel -j 4', '≤ 0.75×', row('timers', 'bulkhead-w4')?.vsParallel ?? null, 0.75, '×'),
    target('Inner loop: a later run of one file, bulkhead --embedded (warm) vs mocha serial', '≤ 1.5×', row('innerloop', 'bulkhead-embedded')?.vsSerial ?? null, 1.5, '×'),
    target('Shards (issue 12): 4 shards by recorded duration, one after another: max shard wall ÷ mean', '≤ 1.15', byDuration, 1.15, '×'),
    target('Shards: that spread against the same 4 shards split by count', '< 1.0× (better)', ratio(byDuration, byCount), 1.0, '×'),
    target('Rebuild: median vs bare connect', '≤ 2×', ratio(rebuildAll, bareConnect), 2, '×'),
    ...provisionRows(clones).map((r) => target(`Provisioning: per slot vs bare clone, ${r.slots} slot(s)`, '≤ 1.2×', ratio(r.bulkheadPerSlotMs, r.bareSequentialPerSlotMs), 1.2, '×')),
    ...rssRows.map((r) => target(`Memory: peak RSS / worker, bulkhead -w ${r.workers} (DB-bound)`, '≤ 60 MB', r.rssPerWorkerMb, 60, ' MB')),
    target('Memory: marginal RSS per extra worker', '≤ 60 MB', marginal, 60, ' MB'),
    target('Cascade: failures caused by an earlier test under bulkhead (worst run, all -w)', '0', want('cascade') ? bulkheadCascades : null, 0, '', undefined, 0),
    target('Rebuild: db() after a break hands out a broken connection', '0 times', want('rebuild') ? rebuildResult.samples.filter((x) => !x.rebuilt).length : null, 0, ` of ${rebuildResult.samples.length}`, undefined, 0),
  ];
  const record: BenchRecord & { samples: RunSample[]; rebuildSamples: typeof rebuildResult.samples; bareConnects: typeof rebuildResult.bare; clones: CloneSample[]; shards: ShardsResult } = {
    date: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, postgres },
    bulkhead: opts.bulkhead !== null ? { commit: `build in ${opts.bulkhead}`, dirty: false } : { commit: git(['rev-parse', '--short', 'HEAD']), dirty: git(['status', '--porcelain', '--', 'src', 'workers', 'bin']) !== '' },
    rounds,
    method: METHOD,
    summary: { wall, cascade: cascadeTable, rebuild: rebuildTable, provisioning: provisionRows(clones), shards: shardTable, targets, marginalRssPerWorkerMb: marginal },
    invalid: [...samples.filter((s) => !s.valid && s.suite !== 'cascade'), ...(shards.full?.valid === false ? [shards.full] : []), ...shards.samples.filter((s) => !s.valid).map((s) => ({ ...s.run, problem: s.problem }))]
      .map((s) => ({ suite: s.suite, runner: s.runner, round: s.round, problem: s.problem ?? '' })),
    leftovers: await leftovers(),
    samples,
    rebuildSamples: rebuildResult.samples,
    bareConnects: rebuildResult.bare,
    clones,
    shards,
  };
  const md = renderMarkdown(record);
  if (stop) {
    // An interrupted run is incomplete: shown, never written where results are kept.
    log(`\n${md}\nbench: interrupted; nothing written`);
    return 130;
  }
  mkdirSync(opts.out, { recursive: true });
  const base = uniqueBase(opts.out, record.date.slice(0, 10));
  writeAtomic(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  writeAtomic(`${base}.md`, md);
  log(`\n${md}`);
  log(`bench: wrote ${path.relative(process.cwd(), base)}.json and .md in ${elapsed()}`);
  return 0;
}

/** --profile: where the time goes, per thread, for bulkhead runs of the timing suites. */
async function profileAll(opts: Options, ctx: RoundContext, suites: { dbbound: Suite; overhead: Suite }, log: (line: string) => void): Promise<void> {
  const ids = opts.runners ?? ['bulkhead-w2', 'bulkhead-w8'];
  const sections: string[] = [];
  for (const name of (opts.suites ?? ['dbbound', 'overhead']).filter((n): n is 'dbbound' | 'overhead' => n === 'dbbound' || n === 'overhead')) {
    for (const id of ids) {
      if (stop) break;
      const r = runner(id);
      if (r.kind !== 'bulkhead') continue;
      log(`bench: profiling ${name} under ${r.label}`);
      const result = await profileRun(ctx.project, r, suites[name], ctx.env, path.join(ctx.project.out, `profile-${name}-${id}`));
      sections.push(renderProfile(result));
      log(renderProfile(result));
    }
  }
  const date = new Date().toISOString();
  const md = [`# bulkhead bench profile — ${date}`, '', `Reproduce: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`  `, `bulkhead: ${git(['rev-parse', '--short', 'HEAD'])}; Node ${process.version}; ${os.availableParallelism()} CPUs`, '', 'Busy time per thread from `node --cpu-prof` (sampling); "module loading" is any sample under the module loader, whatever code runs at the top. A worker count above -w means threads were started that ran no file.', '', ...sections].join('\n');
  mkdirSync(opts.out, { recursive: true });
  const base = uniqueBase(opts.out, `${date.slice(0, 10)}-profile`);
  writeAtomic(`${base}.md`, md);
  log(`bench: wrote ${path.relative(process.cwd(), base)}.md`);
}

process.on('SIGINT', () => {
  if (stop) return;
  stop = true;
  process.stderr.write('\nbench: interrupted; stopping the current run and cleaning up\n');
  killRunning();
});

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await dropAll().catch(() => undefined);
    process.exit(1);
  },
);
