// The runners, and one timed run of one runner on one suite: wall time from spawn to exit, the first test's start
// (a marker the test writes), peak RSS (GNU time), and the outcome of every test (mocha's json reporter, which
// bulkhead replays unchanged), so that a run that did not run the whole suite is never taken for a fast one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { MOCHA_BIN } from './project.js';
import type { Project } from './project.js';
import type { Suite } from './suites.js';

export interface Runner {
  id: string;
  label: string;
  kind: 'mocha' | 'bulkhead';
  /** Worker threads (bulkhead), --jobs (mocha --parallel), 1 for serial mocha. */
  workers: number;
  parallel: boolean;
  /** More arguments (bulkhead's --embedded for the inner loop). */
  args?: readonly string[];
}

export const RUNNERS: readonly Runner[] = [
  { id: 'mocha-serial', label: 'mocha (serial)', kind: 'mocha', workers: 1, parallel: false },
  { id: 'mocha-j2', label: 'mocha --parallel -j 2', kind: 'mocha', workers: 2, parallel: true },
  { id: 'mocha-j4', label: 'mocha --parallel -j 4', kind: 'mocha', workers: 4, parallel: true },
  { id: 'bulkhead-w1', label: 'bulkhead -w 1', kind: 'bulkhead', workers: 1, parallel: true },
  { id: 'bulkhead-w2', label: 'bulkhead -w 2', kind: 'bulkhead', workers: 2, parallel: true },
  { id: 'bulkhead-w4', label: 'bulkhead -w 4', kind: 'bulkhead', workers: 4, parallel: true },
  { id: 'bulkhead-w8', label: 'bulkhead -w 8', kind: 'bulkhead', workers: 8, parallel: true },
  // The inner loop only (not a default runner of the timing suites): a warm embedded server instead of the target.
  { id: 'bulkhead-embedded', label: 'bulkhead --embedded -w 1', kind: 'bulkhead', workers: 1, parallel: true, args: ['--embedded'] },
];

/** The runners of the DB-bound and overhead suites unless --runners names others. */
export const DEFAULT_RUNNERS: readonly Runner[] = RUNNERS.filter((r) => r.args === undefined);

export function runner(id: string): Runner {
  const r = RUNNERS.find((x) => x.id === id);
  if (r === undefined) throw new Error(`bench: unknown runner ${id}; known: ${RUNNERS.map((x) => x.id).join(', ')}`);
  return r;
}

export interface RunSample {
  suite: string;
  runner: string;
  round: number;
  wallMs: number;
  exitCode: number | null;
  /** Process start to the first test's start, from the earliest marker any process or thread wrote. */
  firstTestMs: number | null;
  /** GNU time's %M: the peak RSS of the largest single process (all threads of bulkhead's one process). */
  peakRssKb: number | null;
  /** User + system CPU seconds of the run and everything it started (GNU time %U + %S). */
  cpuS: number | null;
  /** The machine's 1-minute load average when the run started: how busy the shared machine was. */
  load1: number;
  passed: number;
  failedTests: number;
  hookFailures: number;
  notRun: number;
  /** Failures of tests designed to fail ("[root]" in the title). */
  rootFailures: number;
  /** Every other failure: tests and hooks that failed because an earlier test broke the connection. */
  cascaded: number;
  valid: boolean;
  problem?: string;
}

const TIME = '/usr/bin/time';
const HAS_TIME = existsSync(TIME);
export const RSS_METHOD = HAS_TIME ? 'GNU time %M (peak RSS of the largest process in the tree); CPU is %U + %S of the whole tree' : 'unavailable (/usr/bin/time missing)';
const RUN_TIMEOUT_MS = 300_000;

export function argsFor(r: Runner, project: Project, suite: Suite): string[] {
  const common = ['--reporter', 'json', '--timeout', '20000', suite.glob];
  if (r.kind === 'bulkhead') return [project.bulkheadBin, '-w', String(r.workers), ...(r.args ?? []), ...common];
  return [MOCHA_BIN, '--require', 'support/hooks.js', ...(r.parallel ? ['--parallel', '--jobs', String(r.workers)] : []), ...common];
}

interface JsonReport {
  passes: { fullTitle: string }[];
  failures: { title: string; fullTitle: string }[];
}

function parseReport(stdout: string): JsonReport | null {
  const start = stdout.indexOf('{\n');
  const end = stdout.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    return JSON.parse(stdout.slice(start, end + 1)) as JsonReport;
  } catch {
    return null;
  }
}

let counter = 0;
let running: number | null = null;

/** Ends the run in progress (its whole process group, which the bench created), for Ctrl-C. */
export function killRunning(): void {
  if (running !== null) process.kill(-running, 'SIGKILL');
}

/** Runs `runner` on `suite` once. Never throws for a failing run: the sample says what went wrong. */
export async function runOnce(project: Project, r: Runner, suite: Suite, round: number, env: NodeJS.ProcessEnv): Promise<RunSample> {
  const n = ++counter;
  const marker = path.join(project.out, `marker-${n}.txt`);
  const timeFile = path.join(project.out, `time-${n}.txt`);
  const args = argsFor(r, project, suite);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, BENCH_RUN: `${suite.name}-${r.id}-${n}`, BENCH_MARKER: marker, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete childEnv['BULKHEAD_WORKER'];
  delete childEnv['BULKHEAD_WORKERS'];
  const [cmd, argv] = HAS_TIME ? [TIME, ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...args]] : [process.execPath, args];
  const load1 = loadavg()[0] ?? 0;
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const { code, stdout, stderr } = await spawnRun(cmd, argv, project.dir, childEnv);
  const wallMs = performance.now() - t0;

  const stamps = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter((l) => l !== '').map(Number) : [];
  const firstTestMs = stamps.length > 0 ? Math.min(...stamps) - spawnedAt : null;
  // GNU time writes "Command exited with non-zero status N" first when the run failed: the figures are the last line.
  const timeLine = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n').pop() : undefined;
  const figures = timeLine !== undefined && /^\d+ [\d.]+ [\d.]+$/.test(timeLine) ? timeLine.split(' ').map(Number) : null;
  const peakRssKb = figures?.[0] ?? null;
  const cpuS = figures === null ? null : (figures[1] ?? 0) + (figures[2] ?? 0);
  rmSync(marker, { force: true });
  rmSync(timeFile, { force: true });

  const report = parseReport(stdout);
  const sample: RunSample = {
    suite: suite.name, runner: r.id, round, wallMs, exitCode: code, firstTestMs, peakRssKb, cpuS, load1,
    passed: 0, failedTests: 0, hookFailures: 0, notRun: suite.tests, rootFailures: 0, cascaded: 0, valid: false,
  };
  if (report === null) return { ...sample, problem: `no json report (exit ${code}): ${tail(stderr || stdout)}` };
  const isHook = (f: { title: string }): boolean => /^"(before|after) (all|each)" hook/.test(f.title);
  sample.passed = report.passes.length;
  sample.failedTests = report.failures.filter((f) => !isHook(f)).length;
  sample.hookFailures = report.failures.length - sample.failedTests;
  sample.notRun = suite.tests - sample.passed - sample.failedTests;
  sample.rootFailures = report.failures.filter((f) => f.fullTitle.includes('[root]')).length;
  sample.cascaded = report.failures.length - sample.rootFailures;
  // Valid: every test ran, and the only failures without a cascade are the designed ones. Cascades are valid
  // outcomes (that is what the cascade suite counts) but never in the timing suites.
  const problems: string[] = [];
  if (sample.notRun !== 0) problems.push(`${sample.notRun} test(s) not run`);
  if (sample.rootFailures !== suite.designedFailures) problems.push(`${sample.rootFailures} of ${suite.designedFailures} designed failure(s)`);
  if (suite.name !== 'cascade' && sample.cascaded > 0) problems.push(`${sample.cascaded} unexpected failure(s): ${report.failures.find((f) => !f.fullTitle.includes('[root]'))?.fullTitle ?? ''}`);
  if (suite.designedFailures === 0 && suite.name !== 'cascade' && code !== 0) problems.push(`exit code ${code}`);
  sample.valid = problems.length === 0;
  if (!sample.valid) sample.problem = `${problems.join('; ')}${stderr.trim() !== '' ? ` | stderr: ${tail(stderr)}` : ''}`;
  return sample;
}

/** Runs one command to its end, in its own process group, so a hung run can be ended with all it started. */
function spawnRun(cmd: string, argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    running = child.pid ?? null;
    const timer = setTimeout(killRunning, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (c) => {
      running = null;
      clearTimeout(timer);
      resolve({ code: c, stdout: out, stderr: err });
    });
  });
}

function tail(text: string): string {
  const t = text.trim();
  return t.length > 400 ? `...${t.slice(-400)}` : t;
}

/**
 * Measures bulkhead's per-slot provisioning: the real CLI at `slots` workers, database isolation, on a one-test
 * file per slot, against the given template as its target; the figure is the "all slots N ms" of its --verbose line.
 */
export function provisionProbe(project: Project): (slots: number, targetUrl: string) => Promise<number | null> {
  // bulkhead starts no more workers than there are files: one file per slot, up to the 8 slots measured.
  mkdirSync(path.join(project.dir, 'provision'), { recursive: true });
  for (let f = 1; f <= 8; f++) {
    writeFileSync(path.join(project.dir, 'provision', `f${f}.spec.js`), `describe('provisioning ${f}', function () { it('runs', function () {}); });\n`);
  }
  return async (slots, targetUrl) => {
    const args = [project.bulkheadBin, '-w', String(slots), '--verbose', '--isolation', 'database', '--allow-any-database', '--reporter', 'dot', 'provision/*.spec.js'];
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: targetUrl, NO_COLOR: '1' };
    delete env['BULKHEAD_WORKER'];
    const { stdout, stderr } = await spawnRun(process.execPath, args, project.dir, env);
    const m = /^bulkhead: provisioning \(database\): .*; all slots (\d+) ms$/m.exec(`${stdout}\n${stderr}`);
    return m === null ? null : Number(m[1]);
  };
}
