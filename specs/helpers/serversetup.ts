// Loaded by .mocharc.json before any spec: bulkhead's own suite needs a PostgreSQL server.
// - In parallel (specs/run.ts passes --parallel when the system's PostgreSQL binaries are there), the main process
//   starts one private cluster per mocha worker (mochaGlobalSetup) and each worker takes its own by MOCHA_WORKER_ID:
//   specs that count sessions, databases or log lines server-wide never see another worker's runs.
// - Serially, it uses the local server (127.0.0.1:5432, trust auth) when it answers; on a machine with none (only
//   Node and npm), or with BULKHEAD_TEST_EMBEDDED=1, it starts bulkhead's embedded server for the whole suite.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbedded } from '../../src/embedded/server.js';
import type { EmbeddedServer } from '../../src/embedded/server.js';
import { startCluster } from './cluster.js';
import type { Cluster } from './cluster.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOCAL = 'postgres://postgres@127.0.0.1:5432/test';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

let server: EmbeddedServer | null = null;
const clusters: Cluster[] = [];
const jobs = Number(process.env['BULKHEAD_SPEC_JOBS'] ?? '1');
const own = process.env['BULKHEAD_TEST_CLUSTERS'];
const workerId = process.env['MOCHA_WORKER_ID'];

if (own !== undefined && workerId !== undefined) {
  const list = JSON.parse(own) as { url: string; log: string }[];
  const mine = list[Number(workerId) % list.length];
  if (mine !== undefined) {
    process.env['BULKHEAD_TEST_URL'] = mine.url;
    process.env['BULKHEAD_TEST_SERVER_LOG'] = mine.log;
  }
} else if (jobs > 1 && process.env['BULKHEAD_TEST_URL'] === undefined) {
  // The main process of a parallel run: the clusters come in mochaGlobalSetup, before the workers start.
} else if (process.env['BULKHEAD_TEST_URL'] === undefined && (process.env['BULKHEAD_TEST_EMBEDDED'] === '1' || !(await answers(LOCAL)))) {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'bulkhead-spec-server-')), 'postgresql.log');
  appendFileSync(log, '');
  server = await startEmbedded({ root: REPO, log: (line) => appendFileSync(log, `${line}\n`) });
  const t = server.target;
  const admin = new pg.Client({ ...t, application_name: 'bulkhead-spec' });
  await admin.connect();
  await admin.query('CREATE DATABASE test');
  await admin.end();
  const url = new URL(`postgres://${t.host}:${t.port}/test`);
  url.username = t.user;
  url.password = t.password ?? '';
  process.env['BULKHEAD_TEST_URL'] = url.href;
  process.env['BULKHEAD_TEST_SERVER_LOG'] = log;
  process.stderr.write(`specs: no PostgreSQL at 127.0.0.1:5432; using an embedded server at ${server.where}\n`);
}

export async function mochaGlobalSetup(): Promise<void> {
  if (!(jobs > 1 && own === undefined && process.env['BULKHEAD_TEST_URL'] === undefined)) return;
  // A run stopped by a signal or an error never reaches mochaGlobalTeardown: the clusters go with the process.
  process.once('exit', () => {
    for (const c of clusters.splice(0)) c.destroy();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const c of clusters.splice(0)) c.destroy();
      process.kill(process.pid, signal);
    });
  }
  for (let i = 0; i < jobs; i++) {
    const c = await startCluster({ max_connections: '200' });
    clusters.push(c);
    await c.query('CREATE DATABASE test');
  }
  process.env['BULKHEAD_TEST_CLUSTERS'] = JSON.stringify(clusters.map((c) => ({ url: c.url('test'), log: c.log })));
  process.stderr.write(`specs: ${jobs} workers, each on a PostgreSQL cluster of its own (ports ${clusters.map((c) => c.port).join(', ')})\n`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.stop();
  for (const c of clusters.splice(0)) c.destroy();
}
