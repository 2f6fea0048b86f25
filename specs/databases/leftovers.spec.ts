// Slot databases left by a crashed earlier run with more workers than this one (`_w3`, `_w4` after a -w 2 run)
// are dropped by the next run whatever its worker count, but only those carrying bulkhead's marker: an unmarked
// database with a slot-like name, or a marked one of another target, is never touched.
import { expect } from 'chai';
import pg from 'pg';
import { fixture, query } from '../helpers/fixture.js';
import { createTarget, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const FILES = Object.fromEntries([1, 2, 3, 4].map((n) => [`test/f${n}.spec.js`, `describe('f${n}', () => { it('passes', () => {}); });\n`]));

describe('databases: leftovers of a run with more slots', function () {
  let target: Target;
  before(async function () {
    target = await createTarget('surplus');
  });
  after(async function () {
    await target.drop();
  });

  it('a -w 2 run drops the marked _w3 and _w4 of an earlier -w 4 run, and nothing unmarked', async function () {
    const fx = fixture(FILES);
    const name = (n: number): string => `${target.name}_bulkhead_w${n}`;
    const other = `${target.name}_other_bulkhead_w3`;
    try {
      // What a crashed -w 4 run leaves: four marked slots (--keep-databases leaves them the same way).
      const first = await runOn(target, fx, ['-w', '4', '--keep-databases', 'test/*.spec.js']);
      expect(first.code, first.output).to.equal(0);
      expect(await target.derived()).to.deep.equal([1, 2, 3, 4].map(name));
      // A stranger with a slot-like name but no marker, beyond this run's slots; and a marked slot of another
      // target whose name merely starts with this one's.
      await query(`CREATE DATABASE ${pg.escapeIdentifier(name(5))}`);
      await query(`CREATE DATABASE ${pg.escapeIdentifier(other)}`);
      await query(`COMMENT ON DATABASE ${pg.escapeIdentifier(other)} IS 'bulkhead:slot:3'`);

      const second = await runOn(target, fx, ['-w', '2', 'test/*.spec.js']);
      expect(second.code, second.output).to.equal(0);
      expect(await target.derived()).to.deep.equal([name(5), other].sort());
    } finally {
      fx.remove();
      await dropDatabase(name(5));
      await dropDatabase(other);
    }
  });
});
