// The embedded default, end to end: with no DATABASE_URL and no PG* variable at all, the example project runs green
// on a throwaway server that bulkhead starts, and nothing of that server is left once the CLI has exited.
import { expect } from 'chai';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { closingLine, fixture, REPO, runCli } from '../helpers/fixture.js';
import { rebuilds } from '../helpers/output.js';

const SHOP = path.join(REPO, 'examples', 'shop');

/** Processes that belong to the embedded server of CLI process `owner`: they work in, or name, its run directory. */
function serverProcesses(owner: number): number[] {
  const runDir = new RegExp(`/${owner}-[0-9a-f]{8}(/|$|\\s|\\0)`);
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cwd = '';
    let cmdline = '';
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      // Another user's process, or gone already.
    }
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      // Gone already.
    }
    if (runDir.test(cwd) || runDir.test(cmdline)) found.push(Number(name));
  }
  return found;
}

/** True when something listens on 127.0.0.1:port (from the kernel's socket table: state 0A is LISTEN). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    if (!existsSync(file)) return false;
    return readFileSync(file, 'utf8').split('\n').slice(1).some((line) => {
      const [, local, , state] = line.trim().split(/\s+/);
      return local?.endsWith(`:${hex}`) === true && state === '0A';
    });
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

describe('databases: the embedded default', function () {
  before(function () {
    if (!existsSync('/proc/self/cwd')) this.skip();
  });

  it('runs the example suite green with no PG* variable and leaves no process and no listening port', async function () {
    // The example as a user has it (its node_modules resolving to this repository), on a fresh machine: its
    // cluster cache starts empty. As root the server runs as another OS user, which must reach the directory.
    const shopFiles = Object.fromEntries(['package.json', 'bulkhead.config.js', '.mocharc.json'].map((f) => [f, readFileSync(path.join(SHOP, f), 'utf8')]));
    const fx = fixture(shopFiles);
    chmodSync(fx.dir, 0o755);
    for (const dir of ['migrations', 'src', 'test']) cpSync(path.join(SHOP, dir), path.join(fx.dir, dir), { recursive: true });
    try {
      let port = 0;
      let owner = 0;
      let during: number[] = [];
      let seen = '';
      const r = await runCli([], {
        cwd: fx.dir,
        cleanEnv: true,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
        onOutput: (chunk, child) => {
          seen += chunk;
          owner = child.pid ?? 0;
          // The server is up once the start line is out; the provisioning line follows while it serves.
          if (port === 0) port = Number(/^bulkhead: .* at 127\.0\.0\.1:(\d+)\/bulkhead_test as postgres \(embedded\)$/m.exec(seen)?.[1] ?? 0);
          if (during.length === 0 && /^bulkhead: provisioning \(database\)/m.test(seen)) during = serverProcesses(owner);
        },
      });
      expect(r.code, r.output).to.equal(0);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 34, failed: 0, skipped: 0 });
      expect(rebuilds(r.output)?.total, r.output).to.equal(1);
      // The detector saw the server (the watchdog and the postmaster at least) while it ran...
      expect(port, r.output).to.be.greaterThan(0);
      expect(during.length, 'server processes found while the run was going on').to.be.greaterThanOrEqual(2);
      // ...and nothing of it once the CLI exited: no process, no run directory, nothing on the port.
      expect(serverProcesses(owner)).to.deep.equal([]);
      const bases = [path.join(fx.dir, 'node_modules', '.cache', 'bulkhead', 'runs'), `/dev/shm/bulkhead-${process.getuid?.() ?? 0}`];
      const left = bases.flatMap((b) => (existsSync(b) ? readdirSync(b) : [])).filter((n) => n.startsWith(`${owner}-`));
      expect(left).to.deep.equal([]);
      expect(listening(port), `something still listens on port ${port}`).to.equal(false);
      expect(await refusesConnections(port)).to.equal(true);
    } finally {
      fx.remove();
    }
  });
});
