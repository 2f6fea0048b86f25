// A worker thread that dies as it starts, before any file of its begins: `"loader": "tsx"` in .mocharc.json gives
// every thread --loader tsx, which tsx refuses. Piscina starts another thread for the waiting file, which dies the
// same way, for ever: the run used to hang there (and at the close, on a thread that never ran anything). Each file
// now fails with the thread's own error and the run ends, as serial mocha, which refuses the loader at once, does.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { fixture, runCli } from '../helpers/fixture.js';

const spec = (name: string): string => `describe('${name}', function () {\n  it('${name} never runs', function () {});\n});\n`;

describe('core: threads that die as they start', function () {
  this.timeout(60000);

  it('fail each file with the thread\'s error and end the run, at -w 1 and -w 2', async function () {
    const fx = fixture(
      { '.mocharc.json': '{ "loader": "tsx", "spec": ["test/*.spec.js"] }\n', 'test/a.spec.js': spec('a'), 'test/b.spec.js': spec('b') },
      { packages: ['tsx'] },
    );
    let child: ChildProcess | null = null;
    // A safety net so that a regression fails this spec instead of leaving a process hanging; not a wait.
    const net = setTimeout(() => child?.kill('SIGKILL'), 40000);
    try {
      for (const workers of ['1', '2']) {
        const r = await runCli(['-w', workers], { cwd: fx.dir, onOutput: (_chunk, c) => (child = c) });
        expect(r.signal, r.output).to.equal(null);
        expect(r.code, r.output).to.equal(1);
        expect(r.output).to.match(/^0 passed, 2 failed$/m);
        expect(r.output.match(/^\s+\d+\) failed to load test\/[ab]\.spec\.js:$/gm), r.output).to.have.length(2);
        expect(r.output).to.include('tsx must be loaded with --import instead of --loader');
      }
    } finally {
      clearTimeout(net);
      fx.remove();
    }
  });
});
