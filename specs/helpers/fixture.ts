// Black-box spec support: write a small project to a temp dir, run the real bulkhead CLI on it, and look at what
// the PostgreSQL server saw.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO, 'bin', 'bulkhead.js');
/** The repository's own mocha, for comparisons with plain serial mocha and for `--require bulkhead/register`. */
export const MOCHA_BIN = path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');
/** The shared local server the suite runs against (trust auth). */
export const SERVER_URL = process.env['BULKHEAD_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Fixture {
  dir: string;
  write(rel: string, content: string): void;
  remove(): void;
}

/**
 * A project directory with `bulkhead` and `chai` resolvable from its files, as in a user's project.
 * `files` maps relative paths to contents; package.json defaults to {"type":"module"}. `packages` names more of
 * the repository's node_modules to install in the project (a third-party reporter, for example).
 */
export function fixture(files: Record<string, string>, options: { packages?: readonly string[] } = {}): Fixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-fx-'));
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(REPO, path.join(dir, 'node_modules', 'bulkhead'), 'dir');
  for (const dep of ['chai', 'pg', ...(options.packages ?? [])]) symlinkSync(path.join(REPO, 'node_modules', dep), path.join(dir, 'node_modules', dep), 'dir');
  const write = (rel: string, content: string): void => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  };
  if (files['package.json'] === undefined) write('package.json', '{"type":"module"}\n');
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in arrival order. */
  output: string;
}

export interface CliOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Replace the environment instead of extending it (the DATABASE_URL/PG* defaults are then not added). */
  cleanEnv?: boolean;
  /** Called with each chunk of output, to synchronise on markers. */
  onOutput?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
}

/** Runs `bulkhead ...args` to completion. By default it targets SERVER_URL. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return runScript(BIN, args, options);
}

/**
 * Runs plain mocha (the repository's) in a fixture project. mocha resolves `--require <package>` from its own
 * location, which here is the repository, so the fixture's node_modules is put on NODE_PATH: in a user's project
 * mocha and bulkhead sit side by side in the same node_modules. `bin` runs another mocha (a project's own copy).
 */
export function runMocha(args: readonly string[], options: CliOptions, bin = MOCHA_BIN): Promise<CliResult> {
  const nodePath = [path.join(options.cwd, 'node_modules'), process.env['NODE_PATH']].filter((p) => p !== undefined && p !== '').join(path.delimiter);
  return runScript(bin, args, { ...options, env: { NODE_PATH: nodePath, ...options.env } });
}

/** Runs `node script ...args`: a program of the fixture's own, such as one that calls bulkhead's run() API. */
export function runNode(script: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  return runScript(script, args, options);
}

/*
 * At most this many child processes run at once per spec process: a spec that starts twenty projects together
 * would otherwise have them fight over two cores, each paying for the contention in CPU time (and the suite in
 * wall time). Specs that need processes side by side (shards, concurrent runs) start at most this many.
 */
const MAX_CHILDREN = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

async function runScript(script: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  const release = await slot();
  try {
    return await spawnScript(script, args, options);
  } finally {
    release();
  }
}

function spawnScript(script: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  const base = options.cleanEnv ? {} : { ...process.env, DATABASE_URL: SERVER_URL };
  // No colour unless a spec asks for it (the colour specs set NO_COLOR and FORCE_COLOR themselves). No embedded
  // server lingers after a spawned run unless the spec asks (specs/embedded/linger.spec.ts): the suite leaves none.
  const env: NodeJS.ProcessEnv = { ...base, NO_COLOR: '1', FORCE_COLOR: '0', BULKHEAD_EMBEDDED_LINGER: '0', ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      output += s;
      options.onOutput?.(s, child);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      output += s;
      options.onOutput?.(s, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, output }));
  });
}

/** One query on the shared server through a short-lived connection of its own. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = [], url = SERVER_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'bulkhead-spec' });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Sessions bulkhead (application_name bulkhead:...) still holds on the server; with `database`, only those on
 * databases whose name starts with it, so runs of other suites on the shared server are not counted.
 */
export async function bulkheadSessions(database?: string, url = SERVER_URL): Promise<number> {
  const rows = await query<{ n: string }>(
    "SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name LIKE 'bulkhead:%' AND ($1::text IS NULL OR starts_with(datname, $1))",
    [database ?? null],
    url,
  );
  return Number(rows[0]?.n ?? 0);
}

/** pg_stat_database.sessions_abandoned for a database: idle sessions dropped without a protocol goodbye. */
export async function sessionsAbandoned(database = 'test', url = SERVER_URL): Promise<number> {
  await query('SELECT pg_stat_force_next_flush()', [], url).catch(() => undefined);
  const rows = await query<{ n: string }>('SELECT sessions_abandoned::text AS n FROM pg_stat_database WHERE datname = $1', [database], url);
  return Number(rows[0]?.n ?? 0);
}

/** Lines "passed"/"failed" test titles out of the spec reporter's output ("✔ title" / "N) title"). */
export function specOutcomes(output: string): { passed: string[]; failed: string[] } {
  const passed: string[] = [];
  const failed: string[] = [];
  for (const line of output.split('\n')) {
    const pass = /^\s+✔ (.+?)(?: \(\d+ms\))?$/.exec(line);
    if (pass?.[1] !== undefined) passed.push(pass[1]);
    const fail = /^\s{4,}\d+\) (.+)$/.exec(line);
    if (fail?.[1] !== undefined) failed.push(fail[1]);
  }
  return { passed, failed };
}

/** The closing line "N passed, N failed[, N skipped]". */
export function closingLine(output: string): { passed: number; failed: number; skipped: number } | null {
  const m = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m.exec(output);
  return m === null ? null : { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) };
}

/** A fixture project and the bulkhead command line to run in it. */
export interface Project {
  files: Record<string, string>;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  packages?: readonly string[];
}

/**
 * Runs every project, each in a fixture of its own that is removed afterwards (side by side unless `serial`), and
 * returns the results by name. `env` goes to every run, under each project's own.
 */
export async function runProjects<K extends string>(projects: Record<K, Project>, options: { env?: NodeJS.ProcessEnv; serial?: boolean } = {}): Promise<(name: K) => CliResult> {
  const results = new Map<K, CliResult>();
  const runOne = async ([name, p]: [K, Project]): Promise<void> => {
    const fx = fixture(p.files, p.packages !== undefined ? { packages: p.packages } : {});
    try {
      results.set(name, await runCli(p.args, { cwd: fx.dir, env: { ...options.env, ...p.env } }));
    } finally {
      fx.remove();
    }
  };
  const entries = Object.entries(projects) as [K, Project][];
  if (options.serial === true) for (const e of entries) await runOne(e);
  else await Promise.all(entries.map(runOne));
  return (name) => {
    const r = results.get(name);
    if (r === undefined) throw new Error(`the project "${name}" did not run`);
    return r;
  };
}
