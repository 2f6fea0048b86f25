// The inner loop (issue 11): after a run that ended normally the embedded server lingers, and the next run of the
// same project claims it instead of starting one. Black box: the real CLI in one fixture project (one initdb for
// the whole file), --verbose for what each run did, the watchdog's pid and the server's port for what is left. Every
// server a test leaves lingering is stopped in afterEach (SIGTERM to its watchdog, which stops it and deletes its
// files) and waited for.
import { expect } from 'chai';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';
import { locateBinaries } from '../../src/embedded/cache.js';
import { leasePrefix } from '../../src/embedded/linger.js';
import type { CliOptions, CliResult, Fixture } from '../helpers/fixture.js';

// Run 1 writes a row into the test database; a later run that sees the table would fail. Both find it absent.
const WRITES = `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('writes', () => { it('starts from an empty test database and leaves a row', async () => {
  const c = await db();
  const { rows } = await c.query("SELECT to_regclass('public.t') IS NULL AS empty");
  expect(rows[0].empty).to.equal(true);
  await c.query('CREATE TABLE t (x int)');
  await c.query('INSERT INTO t VALUES (1)');
}); });
`;
// Holds the run inside a test until the spec writes the file "go" (so both runs have claimed or started by then).
const HOLDS = `import { existsSync } from 'node:fs';
import { db } from 'bulkhead';
describe('holds', () => { it('waits for go', async function () {
  this.timeout(120000);
  await (await db()).query('SELECT 1');
  console.log('IN-TEST');
  while (!existsSync('go')) await new Promise((r) => setTimeout(r, 20));
}); });
`;

interface Server { how: 'started' | 'attached'; port: number; watchdog: number }

/** What --verbose said about the server: started or attached, its port and its watchdog's pid. */
function server(r: CliResult): Server {
  const m = /^bulkhead: (started|attached to) the embedded PostgreSQL .*?127\.0\.0\.1:(\d+)\/postgres.*watchdog pid (\d+)/m.exec(r.output);
  expect(m, r.output).to.not.equal(null);
  return { how: m?.[1] === 'started' ? 'started' : 'attached', port: Number(m?.[2]), watchdog: Number(m?.[3]) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Polls `condition` until it holds; fails after `ms`. A wait on the condition itself, not a fixed sleep. */
async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function gone(s: Server): Promise<void> {
  await until(`watchdog ${s.watchdog} exited`, () => !alive(s.watchdog));
  await until(`port ${s.port} is closed`, async () => !(await accepts(s.port)));
}

describe('embedded: the server lingers for the next run', function () {
  this.timeout(120_000);
  let fx: Fixture;
  const seen = new Set<number>();
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}, options: Partial<CliOptions> = {}): Promise<CliResult> => {
    const r = await runCli(['--embedded', '--verbose', '-w', '1', ...args], { cwd: fx.dir, ...options, env: { DATABASE_URL: undefined, ...env } });
    const m = /watchdog pid (\d+)/.exec(r.output);
    if (m !== null) seen.add(Number(m[1]));
    return r;
  };

  before(function () {
    fx = fixture({ 'test/writes.spec.js': WRITES, 'test/holds.spec.js': HOLDS });
    // As root the server's OS user must reach the project, or the cache (and so the leases) would be shared.
    chmodSync(fx.dir, 0o755);
  });
  afterEach(async function () {
    for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (const pid of seen) await until(`watchdog ${pid} exited`, () => !alive(pid));
    seen.clear();
    rmSync(path.join(fx.dir, 'go'), { force: true });
  });
  after(function () {
    fx.remove();
  });

  it('run 2 attaches to the server run 1 left (same port) and sees an empty test database', async function () {
    const first = await run(['--embedded-linger', '30', 'test/writes.spec.js']);
    expect(first.code, first.output).to.equal(0);
    expect(first.output, first.output).to.match(/^bulkhead: the embedded PostgreSQL on 127\.0\.0\.1:\d+ lingers for 30 s/m);
    const s1 = server(first);
    expect(s1.how).to.equal('started');
    expect(await accepts(s1.port), 'the server still answers after run 1').to.equal(true);
    const second = await run(['--embedded-linger', '30', 'test/writes.spec.js']);
    expect(second.code, second.output).to.equal(0);
    expect(closingLine(second.output), second.output).to.deep.equal({ passed: 1, failed: 0, skipped: 0 });
    const s2 = server(second);
    expect(s2, second.output).to.deep.equal({ how: 'attached', port: s1.port, watchdog: s1.watchdog });
    // The attach line carries its own time: no copy of the cluster, no boot.
    expect(second.output).to.match(/^bulkhead: attached to the embedded PostgreSQL .* in \d+ ms/m);
  });

  it('two runs claim one lingering server at once: exactly one attaches, the other starts its own', async function () {
    const first = await run(['--embedded-linger', '30', 'test/writes.spec.js']);
    expect(first.code, first.output).to.equal(0);
    const lingering = server(first);
    let inTest = 0;
    const onOutput = (chunk: string): void => {
      inTest += chunk.split('IN-TEST').length - 1;
      if (inTest === 2) fx.write('go', '');
    };
    const [a, b] = await Promise.all([0, 1].map(() => run(['--embedded-linger', '30', 'test/holds.spec.js'], {}, { onOutput })));
    for (const r of [a, b]) expect(r?.code, r?.output).to.equal(0);
    const hows = [server(a as CliResult), server(b as CliResult)];
    expect(hows.map((h) => h.how).sort()).to.deep.equal(['attached', 'started']);
    expect(hows.find((h) => h.how === 'attached')?.port).to.equal(lingering.port);
  });

  it('a lingering server nobody claims goes away after its idle time, files and all', async function () {
    const r = await run(['--embedded-linger', '1', 'test/writes.spec.js']);
    expect(r.code, r.output).to.equal(0);
    const s = server(r);
    await gone(s);
    expect(await leases(fx), 'lease files').to.deep.equal([]);
  });

  it('a run killed with SIGKILL while it holds a claimed server: the server stops', async function () {
    const first = await run(['--embedded-linger', '30', 'test/writes.spec.js']);
    const s = server(first);
    const killed = await run(['--embedded-linger', '30', 'test/holds.spec.js'], {}, {
      onOutput: (chunk, child) => {
        if (chunk.includes('IN-TEST')) child.kill('SIGKILL');
      },
    });
    expect(killed.signal, killed.output).to.equal('SIGKILL');
    expect(server(killed), killed.output).to.deep.equal({ ...s, how: 'attached' });
    await gone(s);
  });

  it('a bad --embedded-linger or BULKHEAD_EMBEDDED_LINGER is a usage error (exit 2) before any server starts', async function () {
    const flag = await run(['--embedded-linger', 'soon', 'test/writes.spec.js']);
    expect(flag.code, flag.output).to.equal(2);
    expect(flag.stderr).to.match(/Invalid configuration "--embedded-linger": "soon" is not a number of seconds from 0 to 86400\. Give --embedded-linger how long/);
    const env = await run(['test/writes.spec.js'], { BULKHEAD_EMBEDDED_LINGER: '-1' });
    expect(env.code, env.output).to.equal(2);
    expect(env.stderr).to.match(/Invalid configuration "BULKHEAD_EMBEDDED_LINGER": "-1"/);
    expect(env.output).to.not.match(/started the embedded/);
  });

  it('CI=true: the server stops with the run and nothing is left', async function () {
    const r = await run(['test/writes.spec.js'], { CI: 'true', BULKHEAD_EMBEDDED_LINGER: undefined });
    expect(r.code, r.output).to.equal(0);
    const s = server(r);
    expect(s.how).to.equal('started');
    expect(r.output).to.not.match(/lingers for/);
    expect(alive(s.watchdog), 'the watchdog is gone when the run ends').to.equal(false);
    expect(await accepts(s.port), 'the port is closed').to.equal(false);
    expect(await leases(fx)).to.deep.equal([]);
  });
});

/** Lease files of this fixture's project: its cache's prefix, in the fixture's cache or in /dev/shm. */
async function leases(fx: Fixture): Promise<string[]> {
  const cache = path.join(fx.dir, 'node_modules', '.cache', 'bulkhead');
  const prefix = leasePrefix(cache, (await locateBinaries()).version);
  const places = [path.join(cache, 'runs'), `/dev/shm/bulkhead-${process.getuid?.() ?? 0}`];
  return places.filter((dir) => existsSync(dir)).flatMap((dir) => readdirSync(dir).filter((n) => n.startsWith(prefix)));
}
