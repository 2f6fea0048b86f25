// Which reporters a run has and where each writes, read before mocha's option loader (which keeps only the last
// --reporter, and the last entry of an rc file's list): in process, on a temporary project, no server. mocha's
// loader reads the rc file of the working directory (here the repository's own), so each case names its rc file or
// none.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';

describe('unit: --reporter name[:file]', function () {
  let root: string;
  const env = { DATABASE_URL: 'postgres://localhost/test' };
  const reporters = async (argv: string[], rc = ['--no-config']): Promise<{ name: string; file: string | null }[]> => (await loadConfig([...rc, ...argv], env, root)).config.reporters;

  beforeEach(function () {
    root = mkdtempSync(path.join(tmpdir(), 'bulkhead-p13-reporters-'));
  });
  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it('every --reporter and -R in order, each file resolved from the project root; spec when none is given', async function () {
    expect(await reporters(['--reporter', 'spec', '-R', 'junit:reports/junit.xml', '--reporter=json:run.json'])).to.deep.equal([
      { name: 'spec', file: null },
      { name: 'junit', file: path.join(root, 'reports', 'junit.xml') },
      { name: 'json', file: path.join(root, 'run.json') },
    ]);
    expect(await reporters([])).to.deep.equal([{ name: 'spec', file: null }]);
  });

  it('the whole list of an rc file, unless the command line names reporters', async function () {
    const rc = path.join(root, '.mocharc.json');
    writeFileSync(rc, JSON.stringify({ reporter: ['dot', 'junit:out.xml'] }));
    expect(await reporters([], ['--config', rc])).to.deep.equal([{ name: 'dot', file: null }, { name: 'junit', file: path.join(root, 'out.xml') }]);
    expect(await reporters(['-R', 'tap'], ['--config', rc])).to.deep.equal([{ name: 'tap', file: null }]);
    expect(await reporters([])).to.deep.equal([{ name: 'spec', file: null }]);
  });

  it('two terminal reporters may share stdout; a document may not', async function () {
    expect((await reporters(['-R', 'spec', '-R', 'dot'])).map((r) => r.name)).to.deep.equal(['spec', 'dot']);
    let error: unknown;
    await loadConfig(['--no-config', '-R', 'spec', '-R', 'json'], env, root).catch((e: unknown) => (error = e));
    expect(String(error)).to.include('The reporter "json" writes a document to stdout').and.include('--reporter json:reports/json.out');
  });

  it('two reporters with one file are refused', async function () {
    let error: unknown;
    await loadConfig(['--no-config', '-R', 'junit:a.xml', '-R', 'xunit:./a.xml'], env, root).catch((e: unknown) => (error = e));
    expect(String(error)).to.include('Two reporters write to a.xml; give each reporter a file of its own.');
  });
});
