// The embedded server: it starts, serves, and leaves nothing behind however the process that started it ends.
// Crash cases run the module in a child process and synchronise on its marker line, on the server ending our
// session, on the data directory's removal (fs.watch), and on the next start's reaping; never on time.
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer, type EmbeddedTarget } from '../src/embedded/server.js';
import { isAlive } from '../src/embedded/runs.js';
import { BulkheadError } from '../src/errors.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULE = path.join(REPO, 'src', 'embedded', 'server.ts');
const asRoot = process.getuid?.() === 0;

// A project root the server's OS user can reach when we run as root (mkdtemp makes it private).
function projectRoot(owner?: { uid: number; gid: number }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-embedded-'));
  chmodSync(dir, 0o755);
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

async function query(target: EmbeddedTarget, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client(target);
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows[0] ?? {};
  } finally {
    await client.end();
  }
}

/** The cluster's processes: all of them work in the data directory (ps fallback: the postmaster names it). */
function processesIn(dir: string): number[] {
  if (!existsSync('/proc/self/cwd')) {
    return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
      .filter((line) => line.includes(dir)).map((line) => Number.parseInt(line, 10));
  }
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
    } catch {
      return false;
    }
  });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function removed(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(path.dirname(dir));
    const check = (): void => {
      if (existsSync(dir)) return;
      watcher.close();
      resolve();
    };
    watcher.on('change', check).on('error', reject);
    check();
  });
}

async function expectNothingLeft(info: { dataDir: string; pids: { postmaster: number }; target: EmbeddedTarget }): Promise<void> {
  expect(isAlive(info.pids.postmaster), 'postmaster alive').to.equal(false);
  expect(processesIn(info.dataDir), 'processes of the cluster').to.deep.equal([]);
  expect(existsSync(info.dataDir), 'data directory exists').to.equal(false);
  expect(await refusesConnections(info.target.port), 'port refuses connections').to.equal(true);
}

interface Started {
  target: EmbeddedTarget;
  dataDir: string;
  pids: { postmaster: number; watchdog: number };
  serverUid: number;
}

// A process that starts a server, prints one marker line, and stops the server when its stdin ends.
const STARTER = `
const { startEmbedded } = await import(process.argv[1]);
const { statSync } = await import('node:fs');
const server = await startEmbedded({ root: process.argv[2] });
const serverUid = statSync('/proc/' + server.pids.postmaster).uid;
process.stdout.write(JSON.stringify({ target: server.target, dataDir: server.dataDir, pids: server.pids, serverUid }) + '\\n');
process.stdin.on('end', () => server.stop()).resume();
`;

async function starter(root: string, user?: { uid: number; gid: number }): Promise<{ child: ChildProcess; info: Started }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', STARTER, MODULE, root], {
    cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], ...user,
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const info = await new Promise<Started>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Started);
    });
    child.on('exit', (code, signal) => reject(new Error(`starter exited (${signal ?? code}) before its marker: ${stderr}`)));
  });
  return { child, info };
}

describe('embedded PostgreSQL', function () {
  let root = '';
  before(() => (root = projectRoot()));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('starts cold on a fresh machine, serves queries with test settings, and leaves nothing after stop()', async function () {
    const server = await startEmbedded({ root });
    expect(server.cold).to.equal(true);
    expect(server.where).to.equal(`127.0.0.1:${server.target.port}/postgres as postgres`);
    expect(server.target.password).to.be.a('string').and.not.equal('');
    expect(server.where).not.to.include(server.target.password);
    const row = await query(server.target, "SELECT current_setting('server_version') AS v, current_setting('fsync') AS f, " +
      "current_setting('max_connections') AS m, current_setting('listen_addresses') AS l, current_user AS u");
    expect(row).to.deep.equal({ v: server.version, f: 'off', m: '200', l: '127.0.0.1', u: 'postgres' });
    // PostgreSQL refuses root: as root, the server must run as another OS user.
    if (asRoot) expect(statSync(`/proc/${server.pids.postmaster}`).uid).to.not.equal(0);
    await server.stop();
    await expectNothingLeft(server);
    expect(isAlive(server.pids.watchdog), 'watchdog alive').to.equal(false);
    await server.stop();
  });

  it('starts warm from the cached cluster', async function () {
    await (await startEmbedded({ root })).stop();
    const server = await startEmbedded({ root });
    try {
      expect(server.cold).to.equal(false);
      expect(await query(server.target, 'SELECT 41 + 1 AS n')).to.deep.equal({ n: 42 });
    } finally {
      await server.stop();
    }
  });

  it('lets two cold starts race for the cache: both serve, one cluster is kept, no leftovers', async function () {
    const fresh = projectRoot();
    try {
      const servers = await Promise.all([startEmbedded({ root: fresh }), startEmbedded({ root: fresh })]);
      // Both ran initdb; the one that lost the rename uses the winner's cluster, so they share its password.
      expect(servers.map((s) => s.cold)).to.deep.equal([true, true]);
      expect(servers[0]?.target.password).to.equal(servers[1]?.target.password);
      for (const s of servers) expect(await query(s.target, 'SELECT 1 AS one')).to.deep.equal({ one: 1 });
      await Promise.all(servers.map((s: EmbeddedServer) => s.stop()));
      const cache = path.join(fresh, 'node_modules', '.cache', 'bulkhead');
      const version = readdirSync(cache).find((name) => name.startsWith('pg-')) ?? '';
      expect(readdirSync(path.join(cache, version))).to.deep.equal(['template']);
      for (const s of servers) await expectNothingLeft(s);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`the watchdog stops the server when the process that started it dies of ${signal}`, async function () {
      const { child, info } = await starter(root);
      const client = new pg.Client(info.target);
      client.on('error', () => undefined);
      await client.connect();
      // Not events.once: it rejects on the 'error' that comes first, as the server ends the session.
      const ended = new Promise((resolve) => client.once('end', resolve));
      child.kill(signal);
      await ended;
      await removed(info.dataDir);
      await expectNothingLeft(info);
    });
  }

  it('the next start reaps a server whose starter and watchdog were both killed', async function () {
    const { child, info } = await starter(root);
    // Freeze the watchdog so that it cannot react, then kill both: the server is orphaned and still serving.
    process.kill(info.pids.watchdog, 'SIGSTOP');
    child.kill('SIGKILL');
    await once(child, 'exit');
    process.kill(info.pids.watchdog, 'SIGKILL');
    expect(await query(info.target, 'SELECT 1 AS one')).to.deep.equal({ one: 1 });
    const next = await startEmbedded({ root });
    try {
      await expectNothingLeft(info);
    } finally {
      await next.stop();
    }
  });

  it('works for a normal user too (as root: the "nobody" user starts it)', async function () {
    const user = asRoot ? { uid: Number(execFileSync('id', ['-u', 'nobody'])), gid: Number(execFileSync('id', ['-g', 'nobody'])) } : undefined;
    const own = projectRoot(user);
    const memory = `/dev/shm/bulkhead-${user?.uid ?? process.getuid?.()}`;
    const hadMemory = existsSync(memory);
    try {
      const { child, info } = await starter(own, user);
      expect(info.serverUid).to.equal(user?.uid ?? process.getuid?.());
      expect(await query(info.target, 'SELECT 1 AS one')).to.deep.equal({ one: 1 });
      const exited = once(child, 'exit');
      child.stdin?.end();
      expect(await exited).to.deep.equal([0, null]);
      await expectNothingLeft(info);
      expect(isAlive(info.pids.watchdog), 'watchdog alive').to.equal(false);
    } finally {
      rmSync(own, { recursive: true, force: true });
      if (!hadMemory) rmSync(memory, { recursive: true, force: true });
    }
  });

  it('fails with a typed error that says what to do', async function () {
    // Neither the project (a file, not a directory) nor the temporary directory (the fallback for a project the
    // server's OS user cannot reach) can hold the cache.
    const file = path.join(root, 'not-a-directory');
    writeFileSync(file, '');
    const tmp = process.env['TMPDIR'];
    process.env['TMPDIR'] = file;
    const started = await startEmbedded({ root: file }).then(
      (server) => server,
      (e: unknown) => e,
    ).finally(() => {
      if (tmp === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = tmp;
    });
    const err = started instanceof Error ? started : (await (started as { stop(): Promise<void> }).stop(), null);
    expect(err).to.be.instanceOf(BulkheadError);
    expect(err).to.include({ code: 'ERR_BULKHEAD_EMBEDDED', exitCode: 3 });
    expect((err as Error).message).to.include('DATABASE_URL');
  });
});
