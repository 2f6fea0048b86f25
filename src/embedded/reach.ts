// As root the server runs as the OS user "postgres", which cannot pass through a private directory (/root/app, a
// `mktemp -d` folder): it could reach neither the binaries in node_modules nor the cluster cached there. What it
// cannot reach is placed in a directory of ours under the system's temp directory instead, open for it to traverse.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Binaries, Log, ServerUser } from './cache.js';
import { makeDir } from './cache.js';

/** Whether `user` may pass through every existing directory on the way to `dir` (owner, group, then other bits). */
export async function reachable(dir: string, user: ServerUser): Promise<boolean> {
  for (let cur = path.resolve(dir); ; cur = path.dirname(cur)) {
    const st = await fs.stat(cur).catch(() => null);
    if (st !== null) {
      const bits = st.uid === user.uid ? st.mode >> 6 : st.gid === user.gid ? st.mode >> 3 : st.mode;
      if ((bits & 0o1) === 0) return false;
    }
    if (path.dirname(cur) === cur) return true;
  }
}

/**
 * `<tmpdir>/bulkhead-<uid>`: ours, writable by nobody else (everyone can create names in /tmp, so a directory
 * someone else made there is never trusted), and open for traversal only.
 */
export async function privateTemp(): Promise<string | null> {
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(os.tmpdir(), `bulkhead-${uid}`);
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return null;
  await fs.chmod(dir, 0o711);
  return dir;
}

/** The cache directory the server's user can reach: the project's, or ours under the temp directory. */
export async function reachableCache(cache: string, user: ServerUser | null, log: Log): Promise<string> {
  if (user === null || (await reachable(cache, user))) return cache;
  const temp = await privateTemp();
  if (temp === null) return cache;
  log(`bulkhead: the OS user "${user.name}" cannot reach ${cache}; caching the embedded cluster in ${temp} instead`);
  return path.join(temp, 'cache');
}

/**
 * The binaries where the server's user can run them: as installed, or a copy of their package's native/ tree
 * (bin, lib, share: postgres finds lib and share next to bin) in `cache`, made once per version.
 */
export async function reachableBinaries(bins: Binaries, cache: string, user: ServerUser | null, log: Log): Promise<Binaries> {
  const native = path.dirname(path.dirname(bins.postgres));
  if (user === null || (await reachable(path.dirname(bins.postgres), user))) return bins;
  const base = path.join(cache, `pg-${bins.version}`);
  const placed = path.join(base, 'native');
  const moved = (file: string): string => path.join(placed, path.relative(native, file));
  if (await fs.stat(moved(bins.postgres)).then(() => true, () => false)) return { ...bins, postgres: moved(bins.postgres), initdb: moved(bins.initdb) };
  log(`bulkhead: the OS user "${user.name}" cannot reach the PostgreSQL binaries in ${native}; copying them to ${placed}`);
  await makeDir(cache, user);
  await makeDir(base, user);
  // Copied under a staging name and renamed, so a run never sees half a tree; a killed copy is reaped as staging.
  const staging = path.join(base, `staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await copyReadable(native, staging);
    await fs.rename(staging, placed).catch((err: NodeJS.ErrnoException) => {
      if (!['ENOTEMPTY', 'EEXIST'].includes(err.code ?? '')) throw err;
    });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return { ...bins, postgres: moved(bins.postgres), initdb: moved(bins.initdb) };
}

/** A copy that keeps symlinks and modes, with directories open for traversal (the copy is root's, read by others). */
async function copyReadable(src: string, dst: string): Promise<void> {
  await fs.mkdir(dst, { mode: 0o755 });
  await fs.chmod(dst, 0o755);
  for (const entry of await fs.readdir(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory()) await copyReadable(from, to);
    else if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(from), to);
    else {
      await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
      await fs.chmod(to, (await fs.stat(from)).mode | 0o444);
    }
  }
}
