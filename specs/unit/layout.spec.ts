// The shape of the source tree: workers/ runs inside worker threads and reaches src/ only through src/protocol/
// (what both threads use); src/ never imports workers/; protocol/ depends on nothing else of src/; and no two
// modules import each other, directly or around a circle.
import { expect } from 'chai';
import { cycles, sourceFiles } from '../helpers/imports.js';

describe('layout: the import graph of src/ and workers/', () => {
  const files = sourceFiles();

  it('finds the sources it checks', () => {
    expect(files.map((f) => f.rel)).to.include.members(['src/protocol/messages.ts', 'workers/worker.ts', 'src/run/session.ts']);
  });

  it('a worker file imports nothing of src/ but src/protocol/', () => {
    const crossing = files.filter((f) => f.rel.startsWith('workers/')).flatMap((f) => f.imports.filter((i) => i.startsWith('src/') && !i.startsWith('src/protocol/')).map((i) => `${f.rel} -> ${i}`));
    expect(crossing).to.deep.equal([]);
  });

  it('no src/ file imports workers/', () => {
    const crossing = files.filter((f) => f.rel.startsWith('src/')).flatMap((f) => f.imports.filter((i) => i.startsWith('workers/')).map((i) => `${f.rel} -> ${i}`));
    expect(crossing).to.deep.equal([]);
  });

  it('src/protocol/ imports nothing outside itself', () => {
    const out = files.filter((f) => f.rel.startsWith('src/protocol/')).flatMap((f) => f.imports.filter((i) => !i.startsWith('src/protocol/')).map((i) => `${f.rel} -> ${i}`));
    expect(out).to.deep.equal([]);
  });

  it('has no import cycles', () => {
    expect(cycles(files).map((c) => c.join(' -> '))).to.deep.equal([]);
  });

  it('keeps every file under 300 lines', () => {
    expect(files.filter((f) => f.lines > 300).map((f) => `${f.rel}: ${f.lines} lines`)).to.deep.equal([]);
  });
});
