// `npm run bench -- --profile`: one bulkhead run per suite under `node --cpu-prof` (the main thread and every
// worker thread write a profile) plus `--verbose` phase timings, folded into "where the time goes" per thread.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Project } from './project.js';
import { argsFor } from './runners.js';
import type { Runner } from './runners.js';
import type { Suite } from './suites.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ThreadProfile {
  thread: string;
  /** From the first profile's start, ms. */
  startMs: number;
  endMs: number;
  busyMs: number;
  /** Busy time by bucket: module loading, gc, postMessage, mocha, pg, chai, piscina, bulkhead, spec, node. */
  buckets: Record<string, number>;
}

export interface ProfileResult {
  suite: string;
  runner: string;
  wallMs: number;
  /** bulkhead's --verbose phase line. */
  phases: string;
  /** Worker threads that ran (profiles minus the main thread): more than -w means threads started for nothing. */
  workerThreads: number;
  threads: ThreadProfile[];
}

const LOADING = /^(loadESMFromCJS|compileSourceTextModule|importSyncForRequire|wrapSafe|compileForInternalLoader|ModuleJob|_link|instantiate|evaluate|link|Module\._load|Module\._compile)$/;

function bucketOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === 'postMessage') return 'postMessage';
  if (/\/project\//.test(url)) return 'spec';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m?.[1] !== undefined) return ['mocha', 'pg', 'chai', 'piscina'].includes(m[1]) ? m[1] : m[1].startsWith('pg') ? 'pg' : 'other packages';
  if (url.includes('/dist/')) return 'bulkhead';
  return 'node';
}

export function foldProfile(p: CpuProfile, origin: number, thread: string): ThreadProfile {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const buckets: Record<string, number> = {};
  let busy = 0;
  p.samples.forEach((id, k) => {
    const dt = (p.timeDeltas[k] ?? 0) / 1000;
    const leaf = byId.get(id)?.callFrame;
    if (leaf === undefined || leaf.functionName === '(idle)' || leaf.functionName === '(program)') return;
    busy += dt;
    // A sample anywhere under the module loader counts as loading, whoever's code runs at the top.
    let loading = false;
    for (let x: number | undefined = id; x !== undefined && !loading; x = parent.get(x)) loading = LOADING.test(byId.get(x)?.callFrame.functionName ?? '');
    const b = loading && leaf.functionName !== '(garbage collector)' ? 'module loading' : bucketOf(leaf.url, leaf.functionName);
    buckets[b] = (buckets[b] ?? 0) + dt;
  });
  return { thread, startMs: (p.startTime - origin) / 1000, endMs: (p.endTime - origin) / 1000, busyMs: busy, buckets };
}

export async function profileRun(project: Project, r: Runner, suite: Suite, env: NodeJS.ProcessEnv, dir: string): Promise<ProfileResult> {
  mkdirSync(dir, { recursive: true });
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...argsFor(r, project, suite), '--verbose'];
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: project.dir, env: { ...process.env, ...env, BENCH_RUN: `profile-${suite.name}-${r.id}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', () => resolve(err));
  });
  const wallMs = performance.now() - t0;
  // Profile names end in <pid>.<thread>.<sequence>.cpuprofile; thread 0 is the main thread.
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => Number(a.split('.').at(-2)) - Number(b.split('.').at(-2)));
  const profiles = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile);
  const origin = Math.min(...profiles.map((p) => p.startTime));
  const threads = profiles.map((p, i) => foldProfile(p, origin, i === 0 ? 'main' : `worker ${i}`));
  const phases = out.split('\n').find((l) => /^bulkhead: .*\d+ ms/.test(l)) ?? '';
  return { suite: suite.name, runner: r.id, wallMs, phases, workerThreads: Math.max(0, profiles.length - 1), threads };
}

export function renderProfile(p: ProfileResult): string {
  const lines = [`### ${p.suite} under ${p.runner} (${(p.wallMs / 1000).toFixed(2)} s wall with profiling)`, ''];
  if (p.phases !== '') lines.push(`Phases (--verbose): \`${p.phases.replace(/^bulkhead: /, '')}\``, '');
  lines.push(`Threads that ran: main + ${p.workerThreads} worker thread(s).`, '');
  lines.push('| thread | alive ms | busy ms | where the busy time goes (ms) |', '|---|---|---|---|');
  for (const t of p.threads) {
    const parts = Object.entries(t.buckets).filter(([, v]) => v >= 5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`);
    lines.push(`| ${t.thread} | ${t.startMs.toFixed(0)}–${t.endMs.toFixed(0)} | ${t.busyMs.toFixed(0)} | ${parts.join(', ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
