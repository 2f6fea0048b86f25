// The generated suites. Every spec file is plain JavaScript (no TypeScript loader on either side) and is
// byte-identical for every runner: the only runner-specific piece is support/db.js (see project.ts).

export type SuiteName = 'dbbound' | 'overhead' | 'cascade' | 'rebuild' | 'pools' | 'timers' | 'innerloop' | 'shards';

export interface Suite {
  name: SuiteName;
  /** Spec glob relative to the project, as given to every runner. */
  glob: string;
  files: Record<string, string>;
  /** Tests in the suite; a run that reports another number did not run the whole suite. */
  tests: number;
  /** Tests designed to fail (cascade, rebuild): titles carry "[root]". Any other failure is a cascade. */
  designedFailures: number;
}

/** Tables the DB-bound, cascade and rebuild suites use, created once in the bench's own database. */
export const SCHEMA = `
CREATE TABLE bench_rows (id bigserial PRIMARY KEY, run text NOT NULL, file text NOT NULL, test int NOT NULL, v int NOT NULL);
CREATE INDEX bench_rows_run_file ON bench_rows (run, file);
CREATE TABLE bench_users (id bigserial PRIMARY KEY, run text NOT NULL, file text NOT NULL, email text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE bench_orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES bench_users (id) ON DELETE CASCADE, total int NOT NULL);
`;

const pad = (n: number): string => String(n).padStart(2, '0');

/** About 40 files x 10 tests; each test runs four small queries and waits 5 ms on the server. */
export function dbBound(files = 40, tests = 10): Suite {
  const out: Record<string, string> = {};
  for (let f = 0; f < files; f++) {
    const name = `dbbound/f${pad(f)}.spec.js`;
    out[name] = `import { expect } from 'chai';
import { db, started } from '../support/db.js';

const RUN = process.env.BENCH_RUN ?? 'local';
const FILE = ${JSON.stringify(name)};

describe(FILE, function () {
  after(async function () {
    await (await db()).query('DELETE FROM bench_rows WHERE run = $1 AND file = $2', [RUN, FILE]);
  });
  for (let t = 0; t < ${tests}; t++) {
    it('records row ' + t, async function () {
      started();
      const c = await db();
      const ins = await c.query('INSERT INTO bench_rows (run, file, test, v) VALUES ($1, $2, $3, $4) RETURNING id', [RUN, FILE, t, t * 7]);
      const count = await c.query('SELECT count(*)::int AS n FROM bench_rows WHERE run = $1 AND file = $2', [RUN, FILE]);
      expect(count.rows[0].n).to.equal(t + 1);
      await c.query('SELECT pg_sleep(0.005)');
      const upd = await c.query('UPDATE bench_rows SET v = v + 1 WHERE id = $1 RETURNING v', [ins.rows[0].id]);
      expect(upd.rows[0].v).to.equal(t * 7 + 1);
    });
  }
});
`;
  }
  return { name: 'dbbound', glob: 'dbbound/*.spec.js', files: out, tests: files * tests, designedFailures: 0 };
}

/** About 50 files x 20 trivial tests and no database: what the runner itself costs. */
export function overhead(files = 50, tests = 20): Suite {
  const out: Record<string, string> = {};
  const half = Math.ceil(tests / 2);
  for (let f = 0; f < files; f++) {
    const name = `overhead/f${pad(f)}.spec.js`;
    out[name] = `import { expect } from 'chai';
import { started } from '../support/mark.js';

describe(${JSON.stringify(name)}, function () {
  for (const group of ['parsing', 'formatting']) {
    describe(group, function () {
      for (let t = 0; t < ${group(half, tests)}; t++) {
        it(group + ' case ' + t, function () {
          started();
          expect({ n: t, s: String(t).padStart(3, '0') }).to.deep.equal({ n: t, s: String(t).padStart(3, '0') });
        });
      }
    });
  }
});
`;
  }
  return { name: 'overhead', glob: 'overhead/*.spec.js', files: out, tests: files * tests, designedFailures: 0 };

  function group(first: number, total: number): string {
    return `(group === 'parsing' ? ${first} : ${total - first})`;
  }
}

// The poisoners of the cascade suite, one per file. Half fail (the root failures a developer should see), half
// pass and leave the connection broken silently, which is the harder case: the first failure is someone else's.
const POISONERS = [
  {
    kind: 'unique violation inside BEGIN, no ROLLBACK',
    root: true,
    body: `await c.query('BEGIN');
      await c.query('INSERT INTO bench_users (run, file, email, name) VALUES ($1, $2, $3, $4)', [RUN, FILE, email('dup'), 'a']);
      await c.query('INSERT INTO bench_users (run, file, email, name) VALUES ($1, $2, $3, $4)', [RUN, FILE, email('dup'), 'b']);
      await c.query('COMMIT');`,
  },
  {
    kind: 'expected unique violation inside BEGIN, caught, no ROLLBACK',
    root: false,
    body: `await c.query('BEGIN');
      await c.query('INSERT INTO bench_users (run, file, email, name) VALUES ($1, $2, $3, $4)', [RUN, FILE, email('twice'), 'a']);
      let code = null;
      try {
        await c.query('INSERT INTO bench_users (run, file, email, name) VALUES ($1, $2, $3, $4)', [RUN, FILE, email('twice'), 'b']);
      } catch (err) {
        code = err.code;
      }
      expect(code).to.equal('23505');`,
  },
  {
    kind: 'terminated backend',
    root: true,
    body: `await c.query('SELECT pg_terminate_backend(pg_backend_pid())');`,
  },
  {
    kind: 'expected terminated backend, caught',
    root: false,
    body: `let message = '';
      try {
        await c.query('SELECT pg_terminate_backend(pg_backend_pid())');
      } catch (err) {
        message = err.message;
      }
      expect(message).to.match(/terminat/);`,
  },
] as const;

const AREAS = ['accounts', 'billing', 'catalog', 'checkout', 'coupons', 'inventory', 'invoices', 'orders', 'profiles', 'refunds', 'search', 'shipping'];

/** The origin scenario: 12 files x 10 tests, a dozen of which poison their connection. */
export function cascade(files = 12, tests = 10): Suite {
  const out: Record<string, string> = {};
  let roots = 0;
  for (let f = 0; f < files; f++) {
    const name = `cascade/${AREAS[f % AREAS.length]}${f >= AREAS.length ? f : ''}.spec.js`;
    const p = POISONERS[f % POISONERS.length]!;
    if (p.root) roots++;
    const at = (f * 3) % tests;
    const cases: string[] = [];
    for (let t = 0; t < tests; t++) {
      if (t === at) {
        cases.push(`  it(${JSON.stringify(`${p.kind}${p.root ? ' [root]' : ''}`)}, async function () {
      const c = await db();
      ${p.body}
  });`);
      } else {
        cases.push(`  it('creates user ${t} and an order', async function () {
    started();
    const c = await db();
    const u = await c.query('INSERT INTO bench_users (run, file, email, name) VALUES ($1, $2, $3, $4) RETURNING id', [RUN, FILE, email(${t}), 'user ${t}']);
    await c.query('INSERT INTO bench_orders (user_id, total) VALUES ($1, $2)', [u.rows[0].id, ${t * 100}]);
    const r = await c.query('SELECT count(*)::int AS n FROM bench_orders o JOIN bench_users u ON u.id = o.user_id WHERE u.email = $1', [email(${t})]);
    expect(r.rows[0].n).to.equal(1);
  });`);
      }
    }
    out[name] = `import { expect } from 'chai';
import { db, started } from '../support/db.js';

const RUN = process.env.BENCH_RUN ?? 'local';
const FILE = ${JSON.stringify(name)};
const email = (k) => RUN + '/' + FILE + '/' + k + '@example.test';

describe(FILE, function () {
  after(async function () {
    await (await db()).query('DELETE FROM bench_users WHERE run = $1 AND file = $2', [RUN, FILE]);
  });
${cases.join('\n')}
});
`;
  }
  return { name: 'cascade', glob: 'cascade/*.spec.js', files: out, tests: files * tests, designedFailures: roots };
}

export const BREAKS = ['open transaction', 'aborted transaction', 'sql error', 'terminated backend'] as const;

/**
 * Rebuild latency, measured inside bulkhead: each "break" test leaves its connection unusable, and the next test
 * times from the end of the break to the moment db() hands out the fresh connection (discard + reconnect + the
 * hooks between), and the db() call alone. Samples go to BENCH_OUT as JSON lines.
 */
export function rebuild(pairs = 6): Suite {
  const name = 'rebuild/rebuild.spec.js';
  const file = `import { appendFileSync } from 'node:fs';
import { db } from '../support/db.js';

let brokeAt = 0;
let pid = 0;
const take = (c) => { pid = c.processID; brokeAt = performance.now(); };
const BREAK = {
  'open transaction': async (c) => { await c.query('BEGIN'); await c.query('SELECT 1'); take(c); },
  'aborted transaction': async (c) => {
    await c.query('BEGIN');
    await c.query('SELECT 1 / 0').catch(() => undefined);
    take(c);
  },
  'sql error': async (c) => {
    try { await c.query('SELECT 1 / 0'); } catch (err) { take(c); throw err; }
  },
  'terminated backend': async (c) => {
    await c.query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => undefined);
    take(c);
  },
};

describe('rebuild latency', function () {
  it('connects once', async function () { await (await db()).query('SELECT 1'); });
  for (let i = 0; i < ${pairs}; i++) {
    for (const kind of Object.keys(BREAK)) {
      it('breaks: ' + kind + ' ' + i + (kind === 'sql error' ? ' [root]' : ''), async function () { await BREAK[kind](await db()); });
      it('measures after ' + kind + ' ' + i, async function () {
        const t0 = performance.now();
        const c = await db();
        const t1 = performance.now();
        // Not asserted: a connection handed out broken is recorded (and counted by the bench), and this test
        // then lets bulkhead discard it, so one miss does not spill into the next pair.
        const rebuilt = c.processID !== pid;
        const usable = await c.query('SELECT 1').then(() => true, () => false);
        const sample = { kind, total: t1 - brokeAt, dbCall: t1 - t0, rebuilt, usable };
        if (brokeAt > 0 && process.env.BENCH_OUT) appendFileSync(process.env.BENCH_OUT, JSON.stringify(sample) + '\\n');
        brokeAt = 0;
      });
    }
  }
});
`;
  return { name: 'rebuild', glob: 'rebuild/*.spec.js', files: { [name]: file }, tests: 1 + pairs * BREAKS.length * 2, designedFailures: pairs };
}
