// The compatibility matrix (issue 9): one application (app.ts) with its own pools, migrations, a root hook plugin
// and mixed JS/TS specs runs green and isolated under every isolation mode, -w 1/2/4, a single file, the embedded
// server, mochaGlobalSetup migrations, and with USER and PGUSER unset; plain serial mocha is the control. The rows
// run side by side, each on a target database of its own; one `it` per run checks its exact per-test outcomes.
import { expect } from 'chai';
import os from 'node:os';
import pg from 'pg';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';
import { createTarget } from '../databases/support.js';
import type { Target } from '../databases/support.js';
import { SPECS, appFiles, testTitle } from './app.js';

interface Row {
  name: string;
  args: string[];
  /** Every worker sees only its own rows. */
  isolated: boolean;
  specs?: string[];
  /** Runs the row; the default is bulkhead with DATABASE_URL naming the row's own target. */
  run?: (dir: string, target: Target) => Promise<CliResult>;
}

/** Somewhere nothing listens: a DATABASE_URL and PG* left over from the user's shell. */
const STALE = { DATABASE_URL: 'postgres://stale@127.0.0.1:9/stale_test', PGHOST: '127.0.0.1', PGPORT: '9', PGUSER: 'stale', PGDATABASE: 'stale_test' };

let cluster: Cluster | null = null;

/** USER and PGUSER unset, the server named by PGHOST/PGPORT/PGDATABASE only: a container or a CI job. */
async function withoutUser(dir: string): Promise<CliResult> {
  const osUser = os.userInfo().username;
  cluster = await startCluster();
  await cluster.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${pg.escapeLiteral(osUser)}) THEN CREATE ROLE ${pg.escapeIdentifier(osUser)} LOGIN SUPERUSER; END IF; END $$`);
  await cluster.query(`CREATE DATABASE compat_test OWNER ${pg.escapeIdentifier(osUser)}`);
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/', PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGDATABASE: 'compat_test', COMPAT_ISOLATED: '1' };
  return runCli(['-w', '2', '--reporter', 'json', '--verbose'], { cwd: dir, env, cleanEnv: true });
}

const ROWS: Row[] = [
  { name: 'database isolation, -w 2', args: ['-w', '2', '--isolation', 'database'], isolated: true },
  { name: 'schema isolation, -w 2', args: ['-w', '2', '--isolation', 'schema'], isolated: true },
  { name: 'shared isolation, -w 2', args: ['-w', '2', '--isolation', 'shared'], isolated: false },
  { name: '-w 1 (shared by default)', args: ['-w', '1'], isolated: true },
  { name: 'database isolation, -w 4, migrations in mochaGlobalSetup', args: ['-w', '4', '--config', '.mocharc.global.yml'], isolated: true },
  { name: 'a single TypeScript file, schema isolation', args: ['--config', '.mocharc.one.yml', '--isolation', 'schema', 'test/s3.spec.ts'], isolated: true, specs: ['test/s3.spec.ts'] },
  {
    name: 'the embedded server, -w 2, with a stale DATABASE_URL and PG* in the environment',
    args: ['--embedded', '-w', '2'],
    isolated: true,
    run: (dir) => runCli(['--embedded', '-w', '2', '--reporter', 'json'], { cwd: dir, env: { ...STALE, COMPAT_ISOLATED: '1' } }),
  },
  { name: 'USER and PGUSER unset, the server from PGHOST/PGPORT/PGDATABASE', args: [], isolated: true, run: withoutUser },
  {
    name: 'plain serial mocha (the control)',
    args: [],
    isolated: true,
    // Serial mocha is given what a user's CI gives it: DATABASE_URL and PG* for one database; tsx to load TypeScript.
    run: (dir, target) => runMocha(['--require', 'bulkhead/register', '--reporter', 'json'], { cwd: dir, env: { ...pgEnv(target.url), COMPAT_ISOLATED: '1', NODE_OPTIONS: '--import tsx' } }),
  },
];

function pgEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return { DATABASE_URL: url, PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGDATABASE: decodeURIComponent(u.pathname.slice(1)) };
}

interface Outcomes {
  passed: string[];
  failed: string[];
  pending: string[];
}

function outcomes(stdout: string): Outcomes {
  const json = JSON.parse(stdout) as Record<'passes' | 'failures' | 'pending', { fullTitle: string }[]>;
  const titles = (list: { fullTitle: string }[]): string[] => list.map((t) => t.fullTitle).sort();
  return { passed: titles(json.passes), failed: titles(json.failures), pending: titles(json.pending) };
}

function failures(stdout: string): string {
  const json = JSON.parse(stdout) as { failures: { fullTitle: string; err: { message?: string } }[] };
  return json.failures.map((f) => `${f.fullTitle}: ${f.err.message ?? ''}`).join('\n');
}

describe('compatibility matrix: an application with its own pools, migrations and root hooks', function () {
  this.timeout(240_000);
  const results = new Map<string, CliResult | Error>();
  const targets: Target[] = [];
  const cleanup: (() => void)[] = [];

  before(async () => {
    // Three rows at a time: enough to overlap their waits, few enough for two cores.
    const queue = [...ROWS];
    const lane = async (): Promise<void> => {
      for (let row = queue.shift(); row !== undefined; row = queue.shift()) {
        const fx = fixture(appFiles(), { packages: ['tsx'] });
        cleanup.push(() => fx.remove());
        try {
          const target = await createTarget('compat');
          targets.push(target);
          const run = row.run ?? ((dir: string, t: Target) => runCli([...row.args, '--reporter', 'json'], { cwd: dir, env: { DATABASE_URL: t.url, ...(row.isolated ? { COMPAT_ISOLATED: '1' } : {}) } }));
          results.set(row.name, await run(fx.dir, target));
        } catch (err) {
          results.set(row.name, err instanceof Error ? err : new Error(String(err)));
        }
      }
    };
    await Promise.all([lane(), lane(), lane()]);
  });

  after(async () => {
    for (const t of targets) await t.drop();
    cluster?.destroy();
    for (const c of cleanup) c();
  });

  for (const row of ROWS) {
    it(row.name, () => {
      const r = results.get(row.name);
      if (r instanceof Error) throw r;
      expect(r, 'ran').to.not.equal(undefined);
      const result = r as CliResult;
      const expected = (row.specs ?? SPECS).map(testTitle).sort();
      let got: Outcomes;
      try {
        got = outcomes(result.stdout);
      } catch {
        throw new Error(`no JSON report (exit ${result.code}):\n${result.output}`);
      }
      expect(got, failures(result.stdout)).to.deep.equal({ passed: expected, failed: [], pending: [] });
      expect(result.code, result.stderr).to.equal(0);
    });
  }

  it('names the user it really sent when USER and PGUSER are unset', () => {
    const r = results.get('USER and PGUSER unset, the server from PGHOST/PGPORT/PGDATABASE') as CliResult;
    expect(r.stderr).to.include(` as ${os.userInfo().username}`);
  });

  it('gives mochaGlobalTeardown the target database', () => {
    const r = results.get('database isolation, -w 4, migrations in mochaGlobalSetup') as CliResult;
    expect(r.stderr).to.match(/^global teardown saw bulkhead_test_compat_[0-9a-f]{8}$/m);
  });
});
