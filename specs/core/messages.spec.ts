// Messages before any test: a missing database names host, port, database and user (never the password) however
// the target is given; a server with room for one worker runs on one, with a warning that says why. The capacity
// case needs a small max_connections, so it runs on a cluster of its own.
import { expect } from 'chai';
import { fixture, runCli, SERVER_URL } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';

const FILES = {
  'test/a.spec.js': "describe('a', () => { it('a', () => {}); });\n",
  'test/b.spec.js': "describe('b', () => { it('b', () => {}); });\n",
};

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const fx = fixture(FILES);
  try {
    return await runCli(args, { cwd: fx.dir, env });
  } finally {
    fx.remove();
  }
}

describe('messages before any test', function () {
  const server = new URL(SERVER_URL);
  const missing = new URL(SERVER_URL);
  missing.pathname = '/nosuchdb_test';
  const user = decodeURIComponent(server.username) || 'postgres';
  const sources: Record<string, NodeJS.ProcessEnv> = {
    DATABASE_URL: { DATABASE_URL: missing.href },
    'PG* variables': {
      DATABASE_URL: '',
      PGHOST: server.hostname,
      PGPORT: server.port || '5432',
      PGDATABASE: 'nosuchdb_test',
      PGUSER: user,
      ...(server.password !== '' ? { PGPASSWORD: decodeURIComponent(server.password) } : {}),
    },
  };
  for (const [source, env] of Object.entries(sources)) {
    it(`a missing database (${source}): exit 3, the message names host, port, database and user`, async function () {
      const r = await run(['-w', '2'], env);
      expect(r.code, r.output).to.equal(3);
      const message = r.stderr.split('\n').find((l) => l.startsWith('bulkhead: Cannot connect'));
      expect(message, r.output).to.be.a('string');
      expect(message).to.include(`${server.hostname}:${server.port || '5432'}/nosuchdb_test as ${user}`);
      expect(message).to.include('database "nosuchdb_test" does not exist');
      if (server.password !== '') expect(r.output).to.not.include(decodeURIComponent(server.password));
    });
  }

  describe('on a server with room for one worker', function () {
    let cluster: Cluster;
    before(async function () {
      // 8 less 3 reserved for superusers: 5 connections, room for one worker (2) and bulkhead itself (2).
      cluster = await startCluster({ max_connections: '8', superuser_reserved_connections: '3' });
      await cluster.query('CREATE DATABASE msg_test');
    });
    after(function () {
      cluster?.destroy();
    });

    it('-w 2 runs on the one worker that fits, with a warning that says why and how to run on 2', async function () {
      const r = await run(['-w', '2'], { DATABASE_URL: cluster.url('msg_test') });
      expect(r.code, r.output).to.equal(0);
      expect(r.output).to.include(
        'bulkhead: warning: 2 workers need up to 6 connections (2 per worker, 2 for bulkhead itself), but the server allows 5 ' +
          '(max_connections 8 less 3 reserved); running on 1 worker. Raise max_connections to run on 2.',
      );
      expect(r.output).to.match(/^bulkhead: 2 files on 1 worker\(s\)/m);
    });
  });
});
