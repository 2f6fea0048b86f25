// A --require module that sets DATABASE_URL as it loads (dotenv's `--require dotenv/config` reading .env) names the
// server, as under serial mocha, where --require modules run first. bulkhead used to choose its target before they
// ran, so with nothing in the shell it started the embedded server and the suite's .env was silently ignored.
import { expect } from 'chai';
import { fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';
import { createTarget } from '../databases/support.js';
import type { Target } from '../databases/support.js';

describe('compat: a --require module that sets DATABASE_URL (dotenv)', function () {
  this.timeout(90000);
  let target: Target;
  before(async function () {
    target = await createTarget('envrequire', 'CREATE TABLE marks (v text); INSERT INTO marks VALUES (\'from .env\')');
  });
  after(async function () {
    await target.drop();
  });

  it('chooses the server it names, as serial mocha uses it, with nothing in the shell', async function () {
    const fx = fixture({
      '.env': `DATABASE_URL=${target.url}\n`,
      // What dotenv/config does: read .env and set what is not set yet.
      'env.cjs': `const { readFileSync } = require('node:fs');
for (const line of readFileSync(require('node:path').join(__dirname, '.env'), 'utf8').split('\\n')) {
  const m = /^([A-Z_]+)=(.*)$/.exec(line);
  if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
}
`,
      'test/marks.spec.js': `import pg from 'pg';
describe('marks', function () {
  it('reads the row of the database .env names', async function () {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT v FROM marks');
      if (rows.length !== 1 || rows[0].v !== 'from .env') throw new Error(JSON.stringify(rows));
    } finally {
      await c.end();
    }
  });
});
`,
    });
    try {
      const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', NO_COLOR: '1', BULKHEAD_EMBEDDED_LINGER: '0' };
      const args = ['--require', './env.cjs', 'test/marks.spec.js'];
      const mocha = await runMocha(args, { cwd: fx.dir, env, cleanEnv: true });
      expect([mocha.code, specOutcomes(mocha.output).passed], mocha.output).to.deep.equal([0, ['reads the row of the database .env names']]);
      for (const workers of ['1', '2']) {
        const r = await runCli(['-w', workers, ...args], { cwd: fx.dir, env, cleanEnv: true });
        expect([r.code, specOutcomes(r.output).passed], r.output).to.deep.equal([0, ['reads the row of the database .env names']]);
        expect(r.output, r.output).to.match(new RegExp(`at 127\\.0\\.0\\.1:\\d+/${target.name} as \\S+ \\(external\\)`));
      }
    } finally {
      fx.remove();
    }
  });
});
