// The project the report specs run: two files on two workers, TypeScript and JavaScript, with every outcome a
// report must show (passed, a failed assertion with a diff, a server error with a SQLSTATE that rebuilds the
// connection, pending, flaky, a failed hook and the test it stops) and a reporter that throws.

/** Where each test is declared: the oracle for the JUnit `line` attributes and the annotations. */
export const LINES: Record<string, number> = {
  'orders counts rows': 7,
  'orders divides by zero': 12,
  'orders is pending': 16,
  'plain passes': 5,
  'plain compares <values> & "quotes"': 8,
  'plain is flaky': 11,
  'plain broken hook never runs': 19,
};

/** The line of plain.spec.js that throws in the hook (a hook has no declared line of its own). */
export const HOOK_LINE = 18;

export const SUITE: Record<string, string> = {
  '.mocharc.json': '{ "extension": ["js", "ts"] }\n',
  'test/orders.spec.ts': `import { db } from 'bulkhead';
import { expect } from 'chai';

interface Row { n: number }

describe('orders', function () {
  it('counts rows', async function () {
    const { rows } = await (await db()).query<Row>('SELECT 1 AS n');
    expect(rows[0]?.n).to.equal(1);
  });

  it('divides by zero', async function () {
    await (await db()).query('SELECT 1/0');
  });

  it.skip('is pending', function () {});
});
`,
  'test/plain.spec.js': `import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';

describe('plain', function () {
  it('passes', function () {
    console.log('output from plain');
  });
  it('compares <values> & "quotes"', function () {
    expect({ a: 1 }).to.deep.equal({ a: 2 });
  });
  it('is flaky', function () {
    if (!existsSync('flaky.marker')) {
      writeFileSync('flaky.marker', '');
      throw new Error('first attempt fails');
    }
  });
  describe('broken hook', function () {
    beforeEach(function () { throw new Error('hook boom'); });
    it('never runs', function () {});
  });
});
`,
  // Throws on every passing test; its first line (at 'start') must land in its own file and nowhere else.
  'broken.cjs': `const Mocha = require('mocha');
module.exports = class Broken extends Mocha.reporters.Base {
  constructor(runner, options) {
    super(runner, options);
    runner.on('start', () => console.log('broken reporter started'));
    runner.on('pass', () => { throw new Error('broken reporter on pass'); });
  }
};
`,
};
