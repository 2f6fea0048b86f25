// Ending worker backends from the server side (watchdogs, a second Ctrl-C, what crashed workers left) reaches only
// this run's databases: a pid the run once saw may since belong to another run's worker elsewhere on the server
// (another project's run carries the same application_name, bulkhead:w1), and that session is never ours to end.
import { expect } from 'chai';
import pg from 'pg';
import { Admin } from '../../src/db/admin.js';
import { createTarget } from './support.js';
import type { Target } from './support.js';

async function workerSession(url: string): Promise<{ client: pg.Client; pid: number; alive(): Promise<boolean> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'bulkhead:w1' });
  client.on('error', () => undefined);
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  const alive = async (): Promise<boolean> => client.query('SELECT 1').then(() => true, () => false);
  return { client, pid, alive };
}

describe('databases: terminate() ends worker backends on this run\'s databases only', function () {
  this.timeout(30000);
  let mine: Target;
  let theirs: Target;
  let admin: Admin;
  before(async function () {
    [mine, theirs] = await Promise.all([createTarget('term_mine'), createTarget('term_theirs')]);
    admin = new Admin({ target: { connectionString: mine.url }, where: mine.name });
  });
  after(async function () {
    await admin.close();
    await Promise.all([mine.drop(), theirs.drop()]);
  });

  it('leaves a bulkhead:w1 session on another database alone, and ends the one on its own', async function () {
    const other = await workerSession(theirs.url);
    const own = await workerSession(mine.url);
    try {
      admin.limitTerminations([mine.name]);
      expect(await admin.terminate([other.pid, own.pid])).to.equal(1);
      expect(await other.alive()).to.equal(true);
      expect(await own.alive()).to.equal(false);
    } finally {
      await Promise.all([other.client.end().catch(() => undefined), own.client.end().catch(() => undefined)]);
    }
  });

  it('without a known list (a target pg picks from PG*), ends any bulkhead worker pid it is given', async function () {
    const other = await workerSession(theirs.url);
    try {
      admin.limitTerminations(null);
      expect(await admin.terminate([other.pid])).to.equal(1);
      expect(await other.alive()).to.equal(false);
    } finally {
      await other.client.end().catch(() => undefined);
    }
  });
});
