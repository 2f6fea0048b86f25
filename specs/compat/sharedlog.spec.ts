// A CI log: stdout and stderr into one file (`npm test 2>&1 | tee log`, or the runner's own capture). The dot
// reporter keeps its line open while tests run, and bulkhead's plain progress line on stderr landed inside it
// (`..!bulkhead: progress: ...`). The progress line now starts a line of its own and the dots go on below it; the
// dots are mocha's, the same as serial mocha prints. Run with no flags but the reporter, as `npm test` would.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, fixture, runMocha } from '../helpers/fixture.js';
import type { Fixture } from '../helpers/fixture.js';
import { createTarget } from '../databases/support.js';
import type { Target } from '../databases/support.js';

const spec = (name: string): string => `import { expect } from 'chai';
describe('${name}', () => {
  for (let i = 0; i < 4; i++) it('passes ' + i, () => {});
  it('fails', () => { expect(1).to.equal(2); });
  it('is slow', (done) => { setTimeout(done, 120); });
});
`;

/** bulkhead with stdout and stderr on one file description, as a shell's `2>&1` gives it. */
function runIntoOneFile(dir: string, target: Target): Promise<{ code: number | null; log: string }> {
  const file = path.join(dir, 'ci.log');
  const fd = openSync(file, 'w');
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: target.url, NO_COLOR: '1', FORCE_COLOR: '0', BULKHEAD_EMBEDDED_LINGER: '0' };
  delete env['CI'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--reporter', 'dot', '-w', '2'], { cwd: dir, env, stdio: ['ignore', fd, fd] });
    child.on('error', reject);
    child.on('close', (code) => {
      closeSync(fd);
      resolve({ code, log: readFileSync(file, 'utf8') });
    });
  });
}

/** The dot reporter's symbols, in the order printed: the lines before the failure list that hold only them. */
function dots(log: string): string {
  const body = log.split(/\n\s+\d+ passing/)[0] ?? '';
  return body.split('\n').filter((l) => /^\s*[.!,]+\s*$/.test(l)).map((l) => l.trim()).join('');
}

describe('stdout and stderr in one CI log', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let target: Target;

  before(async () => {
    fx = fixture({ 'test/a.spec.js': spec('a'), 'test/b.spec.js': spec('b'), 'test/c.spec.js': spec('c') });
    target = await createTarget('t3_sharedlog');
  });

  after(async () => {
    fx.remove();
    await target.drop();
  });

  it('puts the progress line on a line of its own and keeps every dot of serial mocha', async () => {
    const mocha = await runMocha(['--reporter', 'dot'], { cwd: fx.dir });
    const run = await runIntoOneFile(fx.dir, target);
    expect(run.code, run.log).to.equal(1);
    expect(run.log, 'a plain progress line at the first file end').to.match(/^bulkhead: progress: /m);
    for (const line of run.log.split('\n')) if (line.includes('bulkhead: progress:')) expect(line, run.log).to.match(/^bulkhead: progress: /);
    const sorted = (s: string): string => [...s].sort().join('');
    expect(sorted(dots(run.log)), run.log).to.equal(sorted(dots(mocha.stdout)));
    expect(dots(mocha.stdout)).to.have.length(18);
  });
});
