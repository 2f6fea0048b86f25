// `bulkhead | head`, or a pager quit early: the reader of stdout goes away and the next write fails with EPIPE.
// Unhandled, that crashed bulkhead mid-run with a stack trace and left its slot databases and sessions on the
// server. It stops the run as SIGPIPE would: connections closed, slot databases dropped, exit 141 (128 + 13).
import { expect } from 'chai';
import { bulkheadSessions, fixture } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { createTarget, runOn } from '../databases/support.js';
import type { Target } from '../databases/support.js';

const spec = (name: string): string => `import { db } from 'bulkhead';
describe('${name}', () => {
  for (let i = 0; i < 5; i++) it('test ' + i, async () => { await (await db()).query('SELECT pg_sleep(0.02)'); });
});
`;

describe('a closed stdout (EPIPE)', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let target: Target;
  let result: CliResult;

  before(async () => {
    fx = fixture({ 'test/a.spec.js': spec('a'), 'test/b.spec.js': spec('b'), 'test/c.spec.js': spec('c'), 'test/d.spec.js': spec('d') });
    target = await createTarget('t1_epipe');
    // The reader goes away after bulkhead's start line, before the reporter's first line.
    let closed = false;
    result = await runOn(target, fx, ['-w', '2', '--isolation', 'database', '--progress', 'off'], {}, {
      onOutput: (_chunk, child) => {
        if (closed || child.stdout === null) return;
        closed = true;
        child.stdout.destroy();
      },
    });
  });

  after(async () => {
    fx.remove();
    await target.drop();
  });

  it('stops the run cleanly with exit 141 and says why, without a stack trace', () => {
    expect(result.code, result.stderr).to.equal(141);
    expect(result.stderr).to.include('bulkhead: the output was closed (EPIPE); finishing the running tests and closing connections');
    expect(result.stderr).not.to.match(/Unhandled 'error' event|at afterWriteDispatched/);
  });

  it('leaves no slot database and no session behind', async () => {
    expect(await target.derived()).to.deep.equal([]);
    expect(await bulkheadSessions(target.name)).to.equal(0);
  });
});
