// A root hook plugin's afterAll that never settles, under --timeout 0 (no mocha timer to end it): the worker's close
// hangs, as serial mocha would. Ctrl-C twice must still stop the run at once (exit 130), with every result kept;
// before, the close task could not be cut, and the run waited for ever.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { fixture, runCli, specOutcomes } from '../helpers/fixture.js';

const FILES = {
  'test/hooks.mjs': `export const mochaHooks = { afterAll() { return new Promise(() => {}); } };\n`,
  'test/a.spec.js': `describe('a', function () {
  it('runs before the hung afterAll', function () {});
});
`,
};

describe('core: a close that never ends is cut by the second Ctrl-C', function () {
  this.timeout(60000);

  it('exits 130 with the passed test reported, and leaves no process behind', async function () {
    const fx = fixture(FILES);
    let child: ChildProcess | null = null;
    // A safety net so that a regression fails this spec instead of leaving a process hanging; not a wait.
    const net = setTimeout(() => child?.kill('SIGKILL'), 30000);
    try {
      let seen = '';
      let sent = 0;
      const r = await runCli(['-w', '1', '--timeout', '0', '--require', 'test/hooks.mjs', 'test/a.spec.js'], {
        cwd: fx.dir,
        onOutput: (chunk, c) => {
          child = c;
          seen += chunk;
          // Once the test has passed (its line is out): only the close is left, and it hangs.
          if (sent === 0 && seen.includes('✔ runs before the hung afterAll')) {
            sent = 1;
            c.kill('SIGINT');
          }
          if (sent === 1 && seen.includes('bulkhead: interrupted')) {
            sent = 2;
            c.kill('SIGINT');
          }
        },
      });
      expect(r.signal, r.output).to.equal(null);
      expect(r.code, r.output).to.equal(130);
      expect(specOutcomes(r.output).passed, r.output).to.deep.equal(['runs before the hung afterAll']);
      expect(r.stderr).to.match(/^bulkhead: Ctrl-C again: stopping now/m);
    } finally {
      clearTimeout(net);
      fx.remove();
    }
  });
});
