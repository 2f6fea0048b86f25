// Loaded by .mocharc.json before any spec: bulkhead's own suite needs a PostgreSQL server. It uses the local one
// (127.0.0.1:5432, trust auth) when it answers; on a machine with none (only Node and npm), or with
// BULKHEAD_TEST_EMBEDDED=1, it starts bulkhead's embedded server for the whole suite and points the specs at it.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbedded } from '../../src/embedded/server.js';
import type { EmbeddedServer } from '../../src/embedded/server.js';

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

if (process.env['BULKHEAD_TEST_URL'] === undefined && (process.env['BULKHEAD_TEST_EMBEDDED'] === '1' || !(await answers(LOCAL)))) {
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

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.stop();
}
