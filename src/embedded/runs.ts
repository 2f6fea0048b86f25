// Where run directories live, and the second line of defence behind the watchdog. When a run and its watchdog both
// died (SIGKILL of the whole tree, the OOM killer, a reboot that left the directories), the next start finds their
// run directories, stops any server still running in them and deletes them. A run directory is named
// <owner pid>-<random>, so "abandoned" means "its owner is dead" and its watchdog too: a server that lingers for the
// next run, or that a later run claimed, outlives its owner by design, and its watchdog (whose pid is in
// <dir>.watchdog) still guards it. A process is only signalled, or trusted as a watchdog, once its command line
// proves that it serves that directory.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeDir, type Log, type ServerUser } from './cache.js';

const execFileP = promisify(execFile);
const RUN = /^(\d+)-[0-9a-f]+$/;
const STAGING = /^staging-(\d+)-/;
const TMPFS_MAGIC = 0x01021994;
// Docker's default /dev/shm (64 MB) cannot hold a cluster and a suite's data; below this the disk is safer.
const MEMORY_MIN_BYTES = 2 ** 30;

// Under I/O load from other processes, copying the cluster's ~1000 files to disk and deleting them again took about
// a second on a CI-like machine, against 40 ms in RAM; the data is thrown away anyway, so RAM is the better home.
/** Where a new run directory goes (first) and every place where an abandoned one may be found. */
export async function runBases(cache: string, user: ServerUser | null): Promise<string[]> {
  const disk = path.join(cache, 'runs');
  await makeDir(disk, user);
  const memory = await memoryBase(user);
  if (memory === null) return [disk];
  const { bavail, bsize } = await fs.statfs(memory);
  return bavail * bsize >= MEMORY_MIN_BYTES ? [memory, disk] : [disk, memory];
}

async function memoryBase(user: ServerUser | null): Promise<string | null> {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function') return null;
  const uid = process.getuid();
  const dir = `/dev/shm/bulkhead-${uid}`;
  try {
    if ((await fs.statfs('/dev/shm')).type !== TMPFS_MAGIC) return null;
    await fs.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    // Everyone can write to /dev/shm: trust the directory only if it is ours and nobody else can write to it.
    const stat = await fs.lstat(dir);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) return null;
    // As root the server runs as another user, which must be able to pass through (not list) the directory.
    if (user !== null) await fs.chmod(dir, 0o711);
    return dir;
  } catch {
    return null;
  }
}

/** Reaps the abandoned runs under `bases` and initdb leftovers under `cache`; returns how many runs it reaped. */
export async function reapStale(bases: readonly string[], cache: string, log: Log): Promise<number> {
  const candidates = (await Promise.all(bases.map(async (base) =>
    (await names(base)).filter((name) => isAbandoned(RUN.exec(name)?.[1])).map((name) => path.join(base, name)),
  ))).flat();
  const guarded = await Promise.all(candidates.map(watched));
  const abandoned = candidates.filter((_, i) => !guarded[i]);
  const versions = (await names(cache)).filter((name) => name.startsWith('pg-')).map((name) => path.join(cache, name));
  const staging = (await Promise.all(versions.map(async (dir) =>
    (await names(dir)).filter((name) => isAbandoned(STAGING.exec(name)?.[1])).map((name) => path.join(dir, name)),
  ))).flat();
  await Promise.all([
    ...abandoned.map((dir) => reapRun(dir, log).catch((err: unknown) => {
      log(`bulkhead: could not clean up the abandoned embedded server in ${dir}: ${String(err)}`);
    })),
    ...staging.map((dir) => fs.rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  ]);
  return abandoned.length;
}

/** Stops the server running in `dir`, if any, waits until it has exited, and deletes `dir`. */
export async function reapRun(dir: string, log: Log): Promise<void> {
  const pid = await postmasterOf(dir);
  if (pid !== null) {
    log(`bulkhead: stopping the abandoned embedded PostgreSQL (pid ${pid}) in ${dir}`);
    // Immediate shutdown: the directory is deleted next, so nothing needs to be made durable.
    signal(pid, 'SIGQUIT');
    if (!(await exited(pid, 10_000))) signal(pid, 'SIGKILL');
  }
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  await fs.rm(`${dir}.watchdog`, { force: true });
}

/** True while the watchdog named in `<dir>.watchdog` runs, for that directory. */
async function watched(dir: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await fs.readFile(`${dir}.watchdog`, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  const command = await commandLine(pid);
  return command !== null && command.includes(dir);
}

/** True while `pid` names a process that has not exited (a zombie has exited). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

function zombie(pid: number): boolean {
  try {
    // The state follows the parenthesised command name, which may itself contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function isAbandoned(owner: string | undefined): boolean {
  if (owner === undefined) return false;
  const pid = Number(owner);
  return pid !== process.pid && !isAlive(pid);
}

async function names(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

async function postmasterOf(dir: string): Promise<number | null> {
  let first: string | undefined;
  try {
    first = (await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0];
  } catch {
    return null;
  }
  const pid = Number(first);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  // The pid file outlives a killed server, and its pid may since belong to another process.
  const command = await commandLine(pid);
  return command !== null && command.includes(dir) ? pid : null;
}

async function commandLine(pid: number): Promise<string | null> {
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    // No /proc (macOS): ps is always there.
  }
  try {
    return (await execFileP('ps', ['-o', 'args=', '-p', String(pid)])).stdout;
  } catch {
    return null;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

// The server is not our child, so no event reports its exit: poll, as pg_ctl does.
export async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
