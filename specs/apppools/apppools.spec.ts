// The reset rule for the connections the application opens itself: fixture suites that hold connections the ways
// Node applications do (specs/apppools/suites.ts). Under serial mocha every root cascades into the test after it;
// under bulkhead, at -w 1, 2 and 4, the test after every root passes and the report names each ended session.
import { expect } from 'chai';
import { fixture, runCli, runMocha } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { scratchPerSuite } from '../helpers/server.js';
import { loadRecord, testsOf } from '../flaky/lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';
import { FILES, ROOTS } from './suites.js';

const WORKERS = [1, 2, 4] as const;
const full = (suite: string, title: string): string => `${suite} ${title}`;

interface MochaJson {
  passes: { fullTitle: string }[];
  failures: { fullTitle: string; err: { message?: string } }[];
}

describe('apppools: the application\'s own pools, knex and clients under the reset rule', function () {
  const forMocha = scratchPerSuite('apppools_mocha');
  const forBulkhead = scratchPerSuite('apppools');
  let mocha: MochaJson;
  const runs = new Map<number, { r: CliResult; record: RunRecord }>();

  before(async function () {
    const fx = fixture(FILES, { packages: ['knex'] });
    try {
      const m = await runMocha(['--reporter', 'json', '--timeout', '10000', 'test/*.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: forMocha().url } });
      mocha = JSON.parse(m.stdout) as MochaJson;
      for (const w of WORKERS) {
        const r = await runCli(['-w', String(w), '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: forBulkhead().url } });
        runs.set(w, { r, record: loadRecord(fx.dir) });
      }
    } finally {
      fx.remove();
    }
  });

  it('serial mocha: every root cascades into the test after it', function () {
    const failed = new Map(mocha.failures.map((f) => [f.fullTitle, f.err.message ?? '']));
    for (const root of ROOTS) {
      expect(failed.has(full(root.suite, root.root)), root.root).to.equal(!root.rootPasses);
      expect(failed.has(full(root.suite, root.after)), `${root.suite}: ${root.after}`).to.equal(true);
    }
    // The signatures of the cascade: an aborted transaction, a setting, a temporary table, an uncommitted row.
    const messages = [...failed.values()].join('\n');
    expect(messages).to.include('current transaction is aborted');
    expect(messages).to.include('canceling statement due to statement timeout');
    expect(messages).to.include('relation "scratch" already exists');
    expect(messages).to.match(/expected '[^']*Kiritimati' to equal/);
    expect(messages).to.include('expected 2 to equal 1');
  });

  for (const w of WORKERS) {
    describe(`bulkhead -w ${w}`, function () {
      const run = (): { r: CliResult; record: RunRecord } => runs.get(w) ?? expect.fail(`no run at -w ${w}`);

      it('passes the test after every root (a held module-level client aside); only the failing roots fail', function () {
        const { r, record } = run();
        const states = new Map(testsOf(record).map((t) => [t.title, t]));
        for (const root of ROOTS) {
          expect(states.get(full(root.suite, root.root))?.state, r.output).to.equal(root.rootPasses ? 'passed' : 'failed');
          expect(states.get(full(root.suite, root.after))?.state, `${root.after}\n${r.output}`).to.equal(root.held === true ? 'failed' : 'passed');
        }
        expect(record.outcome).to.include({ passed: 10, failed: 8, notRun: 0 });
        expect(r.code).to.equal(1);
      });

      it('ends exactly one session per root, named in the record: slot, test, application_name, state, reasons', function () {
        const { record } = run();
        const slotOf = new Map(record.slots.flatMap((s) => s.files.map((f) => [f.file, s.slot] as const)));
        const seen = record.sessionsEnded
          .map((e) => ({ file: e.file, slot: e.slot, test: e.culprit.title, app: e.applicationName, state: e.state, reasons: e.reasons, held: e.heldAcrossTests }))
          .sort((a, b) => a.test.localeCompare(b.test));
        const expected = ROOTS.map((root) => ({ file: root.file, slot: slotOf.get(root.file), test: full(root.suite, root.root), app: root.applicationName, state: root.state, reasons: root.reasons, held: root.held === true }))
          .sort((a, b) => a.test.localeCompare(b.test));
        expect(seen).to.deep.equal(expected);
      });

      it('names each ended session in the summary, and says why and what to change for the held client', function () {
        const { r } = run();
        expect(r.output).to.include(`application sessions ended: ${ROOTS.length} `);
        for (const root of ROOTS) expect(r.output).to.include(`[${root.applicationName}] after test "${full(root.suite, root.root)}"`);
        expect(r.output.match(/held across tests \(a module-level pg\.Client/g)).to.have.length(1);
        expect(r.output).to.include('Check a client out of a pg.Pool in each test and release it');
      });

      it('keeps every worker alive: pools without an error listener survive, no file fails, nothing leaks', function () {
        const { r, record } = run();
        expect(record.slots.flatMap((s) => s.files.flatMap((f) => f.failures)), r.output).to.deep.equal([]);
        expect(record.leaks).to.deep.equal([]);
        expect(record.rebuilds).to.deep.equal([]);
        expect(r.output).to.not.match(/uncaught|worker crashed/i);
      });
    });
  }
});
