// The server a run talks to (external from DATABASE_URL/PG*, or the embedded one) and how each slot gets its
// database. Opened once per command; every session (and so every bisect probe) provisions fresh slots.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config/types.js';
import { Admin } from './admin.js';
import { Redactor } from './redact.js';
import { resolveTarget } from './resolve.js';
import type { ResolvedTarget } from './resolve.js';
import { hasExternalTarget } from '../protocol/target.js';
import { startEmbedded } from '../embedded/server.js';
import type { EmbeddedServer } from '../embedded/server.js';
import { provision } from './provision.js';
import { fitWorkers } from './safety.js';
import { connectionEnv } from './environment.js';
import type { Isolation, SlotResources, TeardownReport } from './types.js';

export interface Target {
  /** 'dry-run': --dry-run runs no test and no hook, so no server is reached, started or provisioned. */
  kind: 'external' | 'embedded' | 'dry-run';
  version: string;
  where: string;
  admin: Admin;
  /**
   * DATABASE_URL and PG* naming the target database, for the main thread's user code (mochaGlobalSetup and
   * teardown, --require modules): it runs before the slots are built, so what it migrates every slot copies.
   */
  env: Record<string, string>;
  /** Masks the target's password (and anything shaped like one) in what the run prints or records. */
  redactor: Redactor;
  /**
   * How many of `workers` the server has connection slots for now: fewer with a warning, or (none fits, or a
   * `fixed` schedule does not fit) a capacity error with exit 3. Asked before the threads start.
   */
  fit(workers: number, fixed: boolean): Promise<number>;
  /** `session` is the configuration of the session provisioning (replay and bisect adjust isolation and workers). */
  provision(workers: number, session?: Config): Promise<RunSlots>;
  /**
   * Ends the maintenance session and stops the embedded server. `ended`: the command ended normally, so the
   * embedded server may linger for the next run (--embedded-linger); any other way out stops it.
   */
  close(ended?: boolean): Promise<void>;
}

export type RunSlots = SlotResources & {
  /** Never rejects: returns the warning lines for what could not be cleaned up (empty when all went). */
  teardown(): Promise<string[]>;
  isolation: Isolation;
  timings: string | null;
};

/** The embedded server's database for tests: a name with "test" in it, created fresh on the throwaway server. */
const EMBEDDED_DATABASE = 'bulkhead_test';

async function embedded(config: Config, info: NodeJS.WritableStream): Promise<{ server: EmbeddedServer; resolved: ResolvedTarget }> {
  const log = config.verbose ? serverLog(config.root, info) : undefined;
  let server = await startEmbedded({ root: config.root, ...(log !== undefined ? { log } : {}) });
  try {
    await freshDatabase(server);
  } catch (err) {
    // A claimed server that does not answer is given up (its watchdog stops it), and this run starts its own.
    await server.stop();
    if (!server.attached) throw err;
    log?.(`bulkhead: the lingering embedded PostgreSQL on ${server.where} did not answer (${err instanceof Error ? err.message : String(err)}); starting one`);
    server = await startEmbedded({ root: config.root, attach: false, ...(log !== undefined ? { log } : {}) });
    try {
      await freshDatabase(server);
    } catch (again) {
      await server.stop();
      throw again;
    }
  }
  if (config.verbose) {
    info.write(server.attached
      ? `bulkhead: attached to the embedded PostgreSQL ${server.version} that lingered on ${server.where} (watchdog pid ${server.pids.watchdog}) in ${server.startMs} ms; its log from here on is in the file above\n`
      : `bulkhead: started the embedded PostgreSQL ${server.version} on ${server.where} in ${server.startMs} ms (${server.cold ? 'a new cluster, now cached' : 'a copy of the cached cluster'}; watchdog pid ${server.pids.watchdog})\n`);
  }
  const target = { ...server.target, database: EMBEDDED_DATABASE };
  return { server, resolved: { target, source: 'embedded', where: server.where.replace(/\/postgres as /, `/${EMBEDDED_DATABASE} as `) } };
}

/**
 * The test database, empty: on a claimed server the previous run's is dropped first, so no data carries over (the
 * setup templates bulkhead built stay: they are keyed by the setup's hash). The connection proves the server answers.
 */
async function freshDatabase(server: EmbeddedServer): Promise<void> {
  const client = new pg.Client({ ...server.target, application_name: 'bulkhead:main', connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const name = client.escapeIdentifier(EMBEDDED_DATABASE);
    if (server.attached) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/** Where --verbose puts the embedded server's log and initdb's transcript, overwritten by each run. */
export const EMBEDDED_LOG = path.join('.bulkhead', 'embedded-server.log');

/**
 * --verbose: the server's log and initdb's transcript go to a file, whose path is printed, never between the
 * reporter's lines; bulkhead's own notes about the server (its lines start with "bulkhead:") are printed as well.
 */
function serverLog(root: string, info: NodeJS.WritableStream): (line: string) => void {
  const file = path.join(root, EMBEDDED_LOG);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '');
  info.write(`bulkhead: the embedded server's log and initdb's transcript: ${file}\n`);
  return (line) => {
    // Synchronous and unbuffered: the last lines before a crash are what the reader of this file needs.
    appendFileSync(file, `${line}\n`);
    if (line.startsWith('bulkhead:')) info.write(`${line}\n`);
  };
}

export async function openTarget(config: Config, info: NodeJS.WritableStream): Promise<Target> {
  if (config.mocha.dryRun) return dryRunTarget();
  // 1. External when DATABASE_URL or a PG* variable is set (unless --embedded); otherwise a throwaway server.
  const useEmbedded = config.embedded || !hasExternalTarget(process.env);
  const started = useEmbedded ? await embedded(config, info) : null;
  const resolved = started?.resolved ?? resolveTarget();
  const admin = new Admin(resolved, provisionLog(config, info));
  const close = async (ended = false): Promise<void> => {
    await admin.close();
    await started?.server.stop(ended ? config.embeddedLinger : 0);
  };
  try {
    const version = started?.server.version ?? (await admin.check());
    if (started !== null) await admin.check();
    return {
      kind: started !== null ? 'embedded' : 'external',
      version,
      where: resolved.where,
      admin,
      env: connectionEnv(resolved.target, null),
      redactor: new Redactor(resolved.target),
      fit: (workers, fixed) => admin.serial(() => fitWorkers(admin.client, workers, fixed, (line) => info.write(`${line}\n`))),
      provision: (workers, session = config) => slots(session, resolved, admin, workers, info),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waiting on another run is always worth a line; the rest of provisioning's narration is for --verbose. */
function provisionLog(config: Config, info: NodeJS.WritableStream): (line: string) => void {
  return (line) => {
    if (config.verbose || /waiting/.test(line)) info.write(`${line.startsWith('bulkhead:') ? '' : 'bulkhead: '}${line}\n`);
  };
}

async function slots(config: Config, resolved: ResolvedTarget, admin: Admin, workers: number, info: NodeJS.WritableStream): Promise<RunSlots> {
  // 2. A database per slot is the default with two or more workers, whenever a setup is configured, and for a
  // shard: shards of one plan run at once against one server, and must not share a database.
  const isolation: Isolation = config.isolation ?? (workers > 1 || config.setup !== null || config.shard !== null ? 'database' : 'shared');
  const p = await provision({
    target: resolved.target,
    isolation,
    setup: config.setup,
    workers,
    allowAnyDatabase: config.allowAnyDatabase || resolved.source === 'embedded',
    keepDatabases: config.keepDatabases,
    root: config.root,
    scope: config.shard === null ? '' : `s${config.shard.index}`,
    log: provisionLog(config, info),
    where: resolved.where,
    // The command's one maintenance session: it lives on "postgres", off the target that may be copied.
    admin,
  });
  const slot = (n: number): (typeof p.slots)[number] | undefined => p.slots[n - 1];
  const timings =
    isolation === 'shared'
      ? null
      : `provisioning (${isolation}): template ${p.timings.template.toFixed(0)} ms${p.setupRan ? ' (setup ran)' : p.templateReused ? ' (reused)' : ''}; ` +
        `${p.timings.perSlot.map((ms, i) => `w${i + 1} ${ms.toFixed(0)} ms`).join(', ')}; all slots ${p.timings.slots.toFixed(0)} ms`;
  return {
    isolation,
    timings,
    target: (n) => slot(n)?.target ?? resolved.target,
    env: (n) => slot(n)?.env ?? {},
    database: (n) => slot(n)?.database ?? null,
    ownDatabase: (n) => (isolation === 'database' ? (slot(n)?.database ?? null) : null),
    recover: (n) => p.reclone(n),
    release: (n) => p.release(n),
    leaks: (n, pids, held) => p.leaks(n, pids, held),
    closeLeaks: () => p.closeLeaks(),
    teardown: async () => teardownWarnings(await p.teardown(), resolved.where),
  };
}

/** --dry-run: mocha reports every test as passed without running it or any hook, so nothing needs a server. */
function dryRunTarget(): Target {
  // Worker backends would only exist if a spec file connected while loading; each worker closes its own anyway.
  return {
    kind: 'dry-run',
    version: 'not connected',
    where: 'no server',
    admin: new Admin(null),
    env: {},
    redactor: Redactor.fromEnv(),
    fit: (workers) => Promise.resolve(workers),
    provision: () =>
      Promise.resolve({
        isolation: 'shared' as const,
        timings: null,
        target: () => null,
        env: () => ({}),
        database: () => null,
        recover: () => Promise.resolve(),
        release: () => Promise.resolve(),
        leaks: () => Promise.resolve({ count: 0, applicationNames: [] }),
        closeLeaks: () => Promise.resolve(0),
        teardown: () => Promise.resolve([]),
      }),
    close: () => Promise.resolve(),
  };
}

/** What teardown left behind, as warnings that say what is left and how to remove it. */
function teardownWarnings(report: TeardownReport, where: string): string[] {
  const lines = report.problems.map((p) => `bulkhead: warning: ${p}`);
  for (const kind of ['database', 'schema'] as const) {
    const left = report.notDropped.filter((d) => d.kind === kind);
    if (left.length === 0) continue;
    const reasons = [...new Set(left.map((d) => d.why))].join('; ');
    const list = left.map((d) => `"${d.name}"`).join(', ');
    const sql = left.map((d) => `DROP ${kind === 'database' ? 'DATABASE IF EXISTS' : 'SCHEMA IF EXISTS'} ${pg.escapeIdentifier(d.name)}${kind === 'schema' ? ' CASCADE' : ''};`).join(' ');
    const plural = left.length === 1 ? kind : `${kind === 'database' ? 'databases' : 'schemas'}`;
    lines.push(
      `bulkhead: warning: could not drop the ${plural} ${list} this run created on ${where} (${reasons}). ` +
        `${left.length === 1 ? 'It carries' : 'They carry'} bulkhead's marker, so the next bulkhead run against this target drops ${left.length === 1 ? 'it' : 'them'}; ` +
        `or drop ${left.length === 1 ? 'it' : 'them'} yourself${kind === 'schema' ? ' (in the target database)' : ''}: ${sql}`,
    );
  }
  return lines;
}
