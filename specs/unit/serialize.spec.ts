// Error serialization across the thread boundary (src/protocol/serialize.ts): own properties in order, causes
// and mocha's `multiple`, the diff material mocha's reporters read, and values JSON cannot hold.
import { AssertionError } from 'node:assert';
import { expect } from 'chai';
import { serializeError } from '../../src/protocol/serialize.js';

describe('unit: serializeError', () => {
  it('keeps name, message, stack and a code', () => {
    const err = Object.assign(new TypeError('bad input'), { code: 'ERR_BAD' });
    const s = serializeError(err);
    expect(s).to.include({ name: 'TypeError', message: 'bad input', code: 'ERR_BAD' });
    expect(s.stack).to.equal(err.stack);
    expect(s.own).to.deep.equal(['code']);
  });

  it('turns a thrown non-error into a message', () => {
    expect(serializeError('boom')).to.deep.equal({ name: 'Error', message: 'thrown value: boom' });
    expect(serializeError(undefined)).to.deep.equal({ name: 'Error', message: 'thrown value: undefined' });
  });

  it('lists every own property in order, carried fields by name and the rest as JSON data', () => {
    const err = Object.assign(new Error('with extras'), { detail: 'Key (id)=(1) already exists.', table: 'orders', code: '23505', position: 17 });
    const s = serializeError(err);
    expect(s.own).to.deep.equal(['detail', 'table', 'code', 'position']);
    expect(s.extra).to.deep.equal({ detail: 'Key (id)=(1) already exists.', table: 'orders', position: 17 });
  });

  it('leaves out functions and undefined, writes a BigInt as its string and cuts cycles as mocha\'s json reporter does', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    const err = Object.assign(new Error('odd values'), { fn: () => 1, nothing: undefined, big: 10n ** 20n, loop });
    const s = serializeError(err);
    expect(s.own).to.deep.equal(['big', 'loop']);
    expect(s.extra).to.deep.equal({ big: '100000000000000000000', loop: { name: 'loop', self: '[object Object]' } });
  });

  it('marks a name set on the error itself (not on its prototype)', () => {
    const err = new Error('named');
    err.name = 'CustomFailure';
    expect(serializeError(err)).to.include({ name: 'CustomFailure', ownName: true });
    expect(serializeError(new RangeError('r')).ownName).to.equal(undefined);
  });

  it('carries the cause, including one given to the constructor (not enumerable), to a depth of four', () => {
    let err: Error = new Error('level 6');
    for (let i = 5; i >= 0; i--) err = new Error(`level ${i}`, { cause: err });
    const s = serializeError(err);
    expect(s.own).to.deep.equal(['cause']);
    const chain: string[] = [];
    for (let c: typeof s | undefined = s; c !== undefined; c = c.cause) chain.push(c.message);
    expect(chain).to.deep.equal(['level 0', 'level 1', 'level 2', 'level 3', 'level 4']);
  });

  it('carries mocha\'s multiple (a test that failed more than once)', () => {
    const err = Object.assign(new Error('first'), { multiple: [new Error('first'), new Error('done() called multiple times')] });
    expect(serializeError(err).multiple?.map((m) => m.message)).to.deep.equal(['first', 'done() called multiple times']);
  });

  describe('diff material', () => {
    it('stringifies actual and expected the way mocha\'s reporters do, with showDiff', () => {
      const err = new AssertionError({ actual: { a: 1, b: [2] }, expected: { a: 1, b: [3] }, operator: 'deepStrictEqual' });
      const s = serializeError(err);
      expect(s).to.include({ showDiff: true, operator: 'deepStrictEqual' });
      expect(s.actual).to.equal('{\n  "a": 1\n  "b": [\n    2\n  ]\n}');
      expect(s.expected).to.equal('{\n  "a": 1\n  "b": [\n    3\n  ]\n}');
    });

    it('keeps string values as they are', () => {
      const s = serializeError(Object.assign(new Error('strings'), { actual: 'abc', expected: 'abd', showDiff: true }));
      expect(s).to.include({ actual: 'abc', expected: 'abd', showDiff: true });
    });

    it('gives no diff when the error says showDiff: false, or when actual is undefined', () => {
      const off = serializeError(Object.assign(new Error('no diff'), { actual: 1, expected: 2, showDiff: false }));
      expect(off.actual).to.equal(undefined);
      expect(off.showDiff).to.equal(undefined);
      expect(serializeError(Object.assign(new Error('undefined actual'), { actual: undefined, expected: 2 })).showDiff).to.equal(false);
    });
  });

  it('keeps mocha\'s uncaught mark', () => {
    expect(serializeError(Object.assign(new Error('late'), { uncaught: true })).uncaught).to.equal(true);
  });

  it('never throws: a property whose getter throws is left out, and an error no read succeeds on still gives a message', () => {
    const err = Object.assign(new Error('getter'), { kept: 1 });
    Object.defineProperty(err, 'bad', { enumerable: true, get: () => { throw new Error('nope'); } });
    Object.defineProperty(err, 'cause', { get: () => { throw new Error('cause trap'); } });
    const s = serializeError(err);
    expect(s).to.include({ name: 'Error', message: 'getter' });
    expect(s.extra).to.deep.equal({ kept: 1 });
    expect(s.cause).to.equal(undefined);
    const trap = (): never => { throw new Error('trap'); };
    const proxy = new Proxy(new Error('px'), { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap });
    expect(serializeError(proxy)).to.deep.equal({ name: 'Error', message: '(unreadable) (reading the error threw: Error: trap)' });
  });
});
