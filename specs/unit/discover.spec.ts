// Finding the spec files (src/plan/discover.ts) under a root that is not the working directory, as mocha's
// collect-files would from that root: directories with extensions, globs, --recursive, --ignore, --file setup
// files left out, warnings for patterns that match nothing, and an error when nothing matches.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { discover } from '../../src/plan/discover.js';
import type { Config } from '../../src/config/types.js';
import { isBulkheadError } from '../../src/errors.js';

type Options = Pick<Config, 'spec' | 'extension' | 'ignore' | 'recursive'> & { files?: string[] };

describe('unit: discover', () => {
  let root: string;
  const cwd = process.cwd();

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'bulkhead-discover-'));
    for (const rel of ['test/b.spec.js', 'test/a.spec.js', 'test/c.spec.ts', 'test/.hidden.spec.js', 'test/setup.js', 'test/deep/d.spec.js', 'test/fixtures/f.spec.js', 'other/e.check.js']) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), '');
    }
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  const find = (o: Options, warnings: string[] = []): string[] => {
    const config = { root, sort: false, ...o, mocha: { files: (o.files ?? []).map((f) => path.join(root, f)) } } as unknown as Config;
    const files = discover(config, (line) => warnings.push(line));
    for (const f of files) expect(f.path).to.equal(path.join(root, f.rel));
    return files.map((f) => f.rel);
  };

  it('finds a directory\'s files with the given extensions, sorted by path, hidden files left out, from the root and not the cwd', () => {
    expect(find({ spec: ['./test'], extension: ['js'], ignore: [], recursive: false })).to.deep.equal(['test/a.spec.js', 'test/b.spec.js', 'test/setup.js']);
    expect(process.cwd()).to.equal(cwd);
  });

  it('descends with --recursive, and --ignore patterns are read relative to the root', () => {
    expect(find({ spec: ['test'], extension: ['js', 'ts'], ignore: ['test/fixtures/**'], recursive: true })).to.deep.equal(['test/a.spec.js', 'test/b.spec.js', 'test/c.spec.ts', 'test/deep/d.spec.js', 'test/setup.js']);
  });

  it('expands globs (any extension) and takes a file named without its extension', () => {
    expect(find({ spec: ['test/**/*.spec.js', 'other/e.check'], extension: ['js'], ignore: ['**/fixtures/**'], recursive: false })).to.deep.equal(['other/e.check.js', 'test/a.spec.js', 'test/b.spec.js', 'test/deep/d.spec.js']);
  });

  it('takes an absolute path as it is, and lists a file named twice once', () => {
    expect(find({ spec: [path.join(root, 'test', 'a.spec.js'), 'test/a.spec.js'], extension: ['js'], ignore: [], recursive: false })).to.deep.equal(['test/a.spec.js']);
  });

  it('leaves out --file setup files', () => {
    expect(find({ spec: ['test'], extension: ['js'], ignore: [], recursive: false, files: ['test/setup.js'] })).to.deep.equal(['test/a.spec.js', 'test/b.spec.js']);
  });

  it('warns, through the given function, about a pattern that matches nothing when others match', () => {
    const warnings: string[] = [];
    expect(find({ spec: ['test/a.spec.js', 'missing/*.js'], extension: ['js'], ignore: [], recursive: false }, warnings)).to.deep.equal(['test/a.spec.js']);
    expect(warnings).to.deep.equal(['bulkhead: Warning: Cannot find any files matching pattern "missing/*.js"']);
  });

  it('is a usage error naming the patterns when nothing matches', () => {
    const warnings: string[] = [];
    let error: unknown;
    try {
      find({ spec: ['missing', 'gone/*.js'], extension: ['js'], ignore: [], recursive: false }, warnings);
    } catch (err) {
      error = err;
    }
    expect(isBulkheadError(error) && error.code).to.equal('ERR_BULKHEAD_NO_FILES');
    expect((error as Error).message).to.include('"missing", "gone/*.js"');
    expect(warnings).to.deep.equal([]);
  });
});
