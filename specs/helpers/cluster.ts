// A PostgreSQL cluster of a spec's own (initdb + pg_ctl from the system's binaries, in a temp dir, on a free port,
// trust auth), for specs that must stop, restart or end sessions server-wide: the shared server is never touched.
// As root the cluster runs as the OS user "postgres", as PostgreSQL requires.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { freePort } from '../../src/embedded/server.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface Cluster {
  port: number;
  /** The server's log file (pg_ctl -l). */
  log: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** pg_ctl, its arguments for `restart`/`stop`/`start`, and the ids to run it as: what a fixture needs to act. */
  ctl(action: 'restart' | 'stop' | 'start'): { bin: string; args: string[]; uid?: number; gid?: number };
  start(): void;
  stop(): void;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** Stops the server and removes its files. */
  destroy(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`no PostgreSQL binaries under ${root}`);
  return path.join(root, newest, 'bin');
}

/** Starts a fresh cluster; `settings` go into postgresql.conf. */
export async function startCluster(settings: Record<string, string> = {}): Promise<Cluster> {
  const bin = binDir();
  const ids = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()) }
    : {};
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-cluster-'));
  if (ids.uid !== undefined) chownSync(dir, ids.uid, ids.gid ?? 0);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const exec = (tool: string, args: string[]): void => {
    const r = spawnSync(path.join(bin, tool), args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '';
      throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}\n${tail}`);
    }
  };
  exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const conf = { port: String(port), listen_addresses: "'127.0.0.1'", unix_socket_directories: "''", fsync: 'off', max_connections: '40', ...settings };
  appendFileSync(path.join(data, 'postgresql.conf'), Object.entries(conf).map(([k, v]) => `${k} = ${v}\n`).join(''));
  const ctl = (action: 'restart' | 'stop' | 'start'): { bin: string; args: string[]; uid?: number; gid?: number } => ({
    bin: path.join(bin, 'pg_ctl'),
    args: ['-D', data, '-l', log, '-w', '-t', '60', ...(action === 'start' ? [] : ['-m', 'fast']), action],
    ...ids,
  });
  const run = (action: 'restart' | 'stop' | 'start'): void => {
    const c = ctl(action);
    exec('pg_ctl', c.args);
  };
  run('start');
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    log,
    url,
    ctl,
    start: () => run('start'),
    stop: () => run('stop'),
    async query(sql, params = [], database = 'postgres') {
      const c = new pg.Client({ connectionString: url(database), application_name: 'bulkhead-spec' });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    destroy() {
      if (existsSync(path.join(data, 'postmaster.pid'))) spawnSync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...ids, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fixture code that runs pg_ctl synchronously from inside a test (the test's own connection goes with the server);
 * CTL is the JSON of Cluster.ctl(action).
 */
export const CTL_JS = `import { execFileSync } from 'node:child_process';
export function ctl(json) {
  const c = JSON.parse(json);
  execFileSync(c.bin, c.args, { stdio: 'ignore', ...(c.uid !== undefined ? { uid: c.uid, gid: c.gid } : {}) });
}
`;
