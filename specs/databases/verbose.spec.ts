// --verbose prints how long provisioning took: the template and each slot's database (or schema), one entry per
// slot, in slot order. Creating a database takes real time, so a slot that reports 0 ms was not measured.
import { expect } from 'chai';
import { fixture } from '../helpers/fixture.js';
import type { Fixture } from '../helpers/fixture.js';
import { createTarget, provisioning, runOn } from './support.js';
import type { Target } from './support.js';

const FILES: Record<string, string> = {};
for (const n of [1, 2, 3]) FILES[`test/f${n}.spec.js`] = `import { db } from 'bulkhead';\ndescribe('f${n}', () => { it('runs', async () => { await (await db()).query('SELECT 1'); }); });\n`;

describe('databases: --verbose provisioning times', function () {
  let target: Target;
  let fx: Fixture;
  before(async function () {
    target = await createTarget('verbose', 'CREATE TABLE t (v int)');
    fx = fixture({ ...FILES, 'migrations/001.sql': 'CREATE TABLE items (id int);\n' });
  });
  after(async function () {
    fx.remove();
    await target.drop();
  });

  it('database isolation: the template and every slot, each with its time', async function () {
    const r = await runOn(target, fx, ['-w', '3', '--verbose', 'test/*.spec.js']);
    expect(r.code, r.output).to.equal(0);
    const p = provisioning(r.output);
    expect(p, r.output).to.not.equal(null);
    expect(p?.isolation).to.equal('database');
    expect(p?.perSlot, r.output).to.have.lengthOf(3);
    for (const ms of p?.perSlot ?? []) expect(ms, r.output).to.be.greaterThan(0);
    // Without a setup there is no template: the slots are copies of the target itself, and the template step (a
    // check that no old one is left) may well take under a millisecond, printed as 0.
    expect(p?.template, r.output).to.be.a('number').and.at.least(0);
    // The other phases are timed too.
    expect(r.output).to.match(new RegExp(`^bulkhead: no setup: the slots are cloned straight from ${target.name}$`, 'm'));
    expect(r.output).to.match(/^bulkhead: run \d+ ms, total \d+ ms$/m);
    expect(r.output).to.match(/^bulkhead: phases: startup \d+ ms, provisioning \d+ ms, dispatch \d+ ms \(to the first test\), tests \d+ ms, teardown \d+ ms$/m);
  });

  it('with a setup: the template build is timed, then each slot', async function () {
    const r = await runOn(target, fx, ['-w', '2', '--verbose', '--setup', 'migrations', 'test/*.spec.js']);
    expect(r.code, r.output).to.equal(0);
    const p = provisioning(r.output);
    expect(p?.note, r.output).to.equal('(setup ran)');
    expect(p?.perSlot, r.output).to.have.lengthOf(2);
    for (const ms of p?.perSlot ?? []) expect(ms, r.output).to.be.greaterThan(0);
    expect(r.output).to.match(new RegExp(`^bulkhead: template ${target.name}_bulkhead_tpl built from the setup in \\d+ ms$`, 'm'));
  });

  it('schema isolation: one time per slot\'s schema', async function () {
    const r = await runOn(target, fx, ['-w', '2', '--verbose', '--isolation', 'schema', '--setup', 'migrations', 'test/*.spec.js']);
    expect(r.code, r.output).to.equal(0);
    const p = provisioning(r.output);
    expect(p?.isolation, r.output).to.equal('schema');
    expect(p?.perSlot, r.output).to.have.lengthOf(2);
  });
});
