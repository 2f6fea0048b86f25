// The inner loop: a server whose run ended normally lingers for a while (its watchdog keeps it and publishes a
// lease next to the run directories, embedded/watchdog.ts), and the next run of the same project and binaries claims
// it instead of copying the cluster and booting a new one. Claiming goes through the watchdog, whose one event loop
// gives the server to exactly one claimer; the claimer's connection then guards the server as the starter's pipe
// did, so a claimer that dies stops it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Log } from './cache.js';
import { exited, isAlive, reapRun } from './runs.js';
import type { EmbeddedServer } from './types.js';
import { LINGERS, type Lease, type LeaseBody, type LingerRequest } from './watchdog.js';

const CLAIM_TIMEOUT_MS = 2_000;
// The watchdog answers within milliseconds; past this the run ends anyway (the lease may then appear a bit later).
const ACK_TIMEOUT_MS = 2_000;
const STOP_TIMEOUT_MS = 15_000;

/** Lease files of one project's cache and one binaries version start with this; nothing else is ever claimed. */
export function leasePrefix(cache: string, binaries: string): string {
  return `linger-${createHash('sha256').update(`${path.resolve(cache)}\0${binaries}`).digest('hex').slice(0, 12)}-`;
}

/** The line an owner writes before closing its channel, so that the server lingers for `ms`. */
export function lingerLine(ms: number, base: string, prefix: string, lease: LeaseBody): string {
  const file = path.join(base, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}.json`);
  const request: LingerRequest = { linger: { ms, file, lease } };
  return `${JSON.stringify(request)}\n`;
}

export interface Claimed {
  lease: Lease;
  /** The owner's channel to the watchdog: the server's log arrives on it; closing it without a linger line stops it. */
  socket: Socket;
}

/** Claims one lingering server of this project and binaries version, or returns null (none, or others won). */
export async function claimLingering(bases: readonly string[], prefix: string, binaries: string): Promise<Claimed | null> {
  for (const base of bases) {
    const files = (await fs.readdir(base).catch(() => [] as string[])).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
    for (const name of files) {
      const file = path.join(base, name);
      const lease = await readLease(file);
      if (lease === null || lease.binaries !== binaries) continue;
      if (!isAlive(lease.watchdog)) {
        // Its watchdog was killed (SIGKILL, a reboot): the reaper deals with the directory, the lease is stale.
        await fs.rm(file, { force: true });
        continue;
      }
      const socket = await claim(lease);
      if (socket !== null) return { lease, socket };
    }
  }
  return null;
}

async function readLease(file: string): Promise<Lease | null> {
  try {
    const lease = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Lease>;
    const ok = ['port', 'watchdog', 'control', 'postmaster'].every((k) => Number.isInteger(lease[k as keyof Lease]))
      && ['password', 'dataDir', 'version', 'binaries', 'token'].every((k) => typeof lease[k as keyof Lease] === 'string');
    return ok ? (lease as Lease) : null;
  } catch {
    // Claimed (and so removed) by another run since the listing, or not ours to read.
    return null;
  }
}

/** Asks the watchdog for the server; resolves with the connection when it said "ok", null on "busy" or no answer. */
function claim(lease: Lease): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: lease.control });
    let answer = '';
    let done = false;
    const give = (result: Socket | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      // Paused until the caller listens: the server's log follows the answer on this connection.
      socket.pause();
      if (result === null) socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => give(null), CLAIM_TIMEOUT_MS);
    socket.on('error', () => give(null));
    socket.on('close', () => give(null));
    socket.on('connect', () => socket.write(`${JSON.stringify({ claim: lease.token, pid: process.pid })}\n`));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\n');
      if (end < 0) return;
      const rest = answer.slice(end + 1);
      if (answer.slice(0, end) !== 'ok') return give(null);
      give(socket);
      // Log lines that came with the answer are not lost: the caller's 'data' listener gets them first.
      if (rest !== '') socket.unshift(rest, 'utf8');
    });
  });
}

/**
 * Writes the linger line and closes the owner's channel; resolves when the watchdog says the lease is published
 * (`lingered.seen`), when it is gone (`gone`), or after ACK_TIMEOUT_MS. The timer also keeps the process alive
 * until then: everything else about the server is unref'd.
 */
export function handBack(channel: Writable, line: string, gone: Promise<unknown>, lingered: { seen(): void }): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, ACK_TIMEOUT_MS);
    lingered.seen = done;
    void gone.then(done, done);
    if (channel.destroyed || channel.writableEnded) done();
    else channel.end(line);
  });
}

/** The claimed server as this run uses it: the same shape as a started one, its log from the watchdog's connection. */
export function attachedServer({ lease, socket }: Claimed, prefix: string, log: Log, started: number): EmbeddedServer {
  const lingered = { seen: (): void => undefined };
  let stopping: Promise<void> | null = null;
  let partial = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      log(line);
      if (LINGERS.test(line)) lingered.seen();
    }
  });
  socket.on('error', () => undefined);
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void gone.then(() => {
    if (stopping === null) log('bulkhead: the embedded PostgreSQL\'s watchdog closed the connection unexpectedly');
  });
  socket.resume();
  // Like the starter's pipe: the server must not keep the process alive, and the kernel closes this however it ends.
  socket.unref();
  const { watchdog, port, password, dataDir, version, binaries, postmaster } = lease;
  const stop = (lingerMs = 0): Promise<void> => (stopping ??= lingerMs > 0 && !socket.destroyed
    ? handBack(socket, lingerLine(lingerMs, path.dirname(dataDir), prefix, { port, password, dataDir, version, binaries, postmaster }), gone, lingered)
    : (async () => {
        socket.ref();
        socket.end();
        // The server is not our child: wait for its watchdog, which exits once the server and its files are gone.
        if (!(await exited(watchdog, STOP_TIMEOUT_MS))) log(`bulkhead: the embedded PostgreSQL's watchdog (pid ${watchdog}) did not stop in time`);
        await reapRun(dataDir, log);
      })());
  return {
    target: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password },
    where: `127.0.0.1:${port}/postgres as postgres`,
    version,
    cold: false,
    attached: true,
    startMs: Math.round(performance.now() - started),
    dataDir,
    pids: { postmaster, watchdog },
    stop,
  };
}
