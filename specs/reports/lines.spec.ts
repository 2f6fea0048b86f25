// Where each test was declared (the JUnit `line` attribute, CI annotations), in a JavaScript-only run: there are no
// source maps then, and the worker reads the line off the call sites instead of a formatted stack (workers/lines.ts).
// A test declared by a helper in another file gets the line of the spec's call into it; the TypeScript side, where
// the line comes through the source map, is pinned by reports.spec.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import { parseXml } from '../helpers/xml.js';

const SPEC = `import { expect } from 'chai';
import { declareTwice } from './shared.js';

describe('lines', function () {
  it('on line five', function () {
    expect(1).to.equal(1);
  });

  describe('nested', function () {
    it('on line ten', () => expect(2).to.equal(2));
  });

  declareTwice('helper');
});
`;

const SHARED = `export function declareTwice(prefix) {
  it(prefix + ' one', () => undefined);
  it(prefix + ' two', () => undefined);
}
`;

describe('reports: declaration lines in a JavaScript-only run', function () {
  this.timeout(60000);

  it('gives every testcase the line of its it() in the spec file, with -w 1 and -w 2', async function () {
    for (const workers of ['1', '2']) {
      const fx = fixture({ 'test/lines.spec.js': SPEC, 'test/other.spec.js': "it('on line one', () => undefined);\n", 'test/shared.js': SHARED });
      try {
        const r = await runCli(['-w', workers, '--reporter', 'junit:out.xml', 'test/*.spec.js'], { cwd: fx.dir });
        expect(r.code, r.output).to.equal(0);
        const cases = parseXml(readFileSync(path.join(fx.dir, 'out.xml'), 'utf8')).filter((e) => e.name === 'testcase');
        const lines = Object.fromEntries(cases.map((c) => [c.attributes['name'], c.attributes['line']]));
        expect(lines, r.output).to.deep.equal({
          'lines on line five': '5',
          'lines nested on line ten': '10',
          'lines helper one': '13',
          'lines helper two': '13',
          'on line one': '1',
        });
      } finally {
        fx.remove();
      }
    }
  });
});
