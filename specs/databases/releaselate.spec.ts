// A slot that ran out of files closes while the other slots still run (SlotClosing). An error its code throws after
// that close, while the run goes on, is still that file's late error: it fails the run, named with its file, as it
// did when every worker closed at the end. Synchronised on files the fixture writes, not on time: the short file's
// timer throws once the long file has seen the short file's database dropped (its slot closed and released), and
// the long file ends only after the throw.
import { expect } from 'chai';
import { closingLine, fixture } from '../helpers/fixture.js';
import { createTarget, runOn, untilReleased } from './support.js';
import type { Target } from './support.js';

const FILES = {
  'test/a-short.spec.js': `import { existsSync, writeFileSync } from 'node:fs';
const released = new URL('../released', import.meta.url);
const thrown = new URL('../thrown', import.meta.url);
describe('short', function () {
  it('passes and leaves a timer that throws once its slot was released', function () {
    const poll = setInterval(() => {
      if (!existsSync(released)) return;
      clearInterval(poll);
      writeFileSync(thrown, '');
      throw new Error('thrown late by a-short after its slot closed');
    }, 10);
  });
});
`,
  'test/b-long.spec.js': untilReleased(true),
};

// A client checked out of a pool and never queried, held when the worker closes: the main thread ends its session
// while the worker lives on, and that error (the client has no 'error' listener) is bulkhead's doing, not the file's.
const HELD_UNQUERIED = {
  'test/a-short.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
describe('short', function () {
  it('checks a client out of a pool and never queries or releases it', async () => {
    await pool.connect();
  });
});
`,
  'test/b-long.spec.js': untilReleased(false),
};

// A module-level pool of another copy of pg than the project's (loaded afresh here, as a dependency's own copy
// would be), left open: bulkhead cannot see its clients, and ends its session once the worker closed.
const OTHER_PG_COPY = {
  'test/a-short.spec.js': `import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(import.meta.url);
const dir = path.dirname(require.resolve('pg/package.json'));
for (const key of Object.keys(require.cache)) if (key.startsWith(dir + path.sep)) delete require.cache[key];
const pg = require('pg');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
describe('short', function () {
  it('uses a pool of its own copy of pg and never ends it', async () => {
    await pool.query('SELECT 1');
  });
});
`,
  'test/b-long.spec.js': untilReleased(false),
};

/** A run whose only trouble is a-short's leak: reported as its slot's, no error, nothing left behind. */
async function leakOnly(target: Target, files: Record<string, string>): Promise<void> {
  const fx = fixture(files);
  try {
    const r = await runOn(target, fx, ['-w', '2', 'test/*.spec.js']);
    expect(r.output).to.not.include('uncaught error');
    expect(r.output).to.match(/^ {2}w[12]: 1 session\(s\) left open \[[^\]]*\], after test\/a-short\.spec\.js$/m);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    expect(r.code, r.output).to.equal(0);
    expect(await target.derived()).to.deep.equal([]);
  } finally {
    fx.remove();
  }
}

describe('databases: late errors of a slot that closed early', function () {
  this.timeout(60000);
  let target: Target;
  before(async function () {
    target = await createTarget('releaselate');
  });
  after(async function () {
    await target.drop();
  });

  it('an error thrown after its worker closed, while another slot runs, fails the run and names its file', async function () {
    const fx = fixture(FILES);
    try {
      const r = await runOn(target, fx, ['-w', '2', 'test/*.spec.js']);
      expect(r.output).to.include('uncaught error in test/a-short.spec.js');
      expect(r.output).to.include('thrown late by a-short after its slot closed');
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 1, skipped: 0 });
      expect(r.code, r.output).to.equal(1);
      expect(await target.derived()).to.deep.equal([]);
    } finally {
      fx.remove();
    }
  });

  it("a held client that never ran a statement is reported as the slot's leak, and its ended session is no error", async function () {
    await leakOnly(target, HELD_UNQUERIED);
  });

  it("a leaked pool of another pg copy is reported as the slot's leak, and its ended session is no error", async function () {
    await leakOnly(target, OTHER_PG_COPY);
  });
});
