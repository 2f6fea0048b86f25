// Errors cross the thread boundary as plain data; assertion diffs are stringified the way mocha's reporters expect.
// The main thread rebuilds an error with the same own properties (see reporters/mocha.ts), so reporters that list
// an error's properties (json) print what they would under serial mocha.
import type { SerializedError } from './messages.js';
import { mochaInUse } from './mochacopy.js';

// The diff of the mocha that runs the specs, as its reporters would print it.
const stringify = (value: unknown): string => (mochaInUse().Mocha as unknown as { utils: { stringify(value: unknown): string } }).utils.stringify(value);

/** Own properties that have a field of their own in SerializedError. */
const CARRIED = new Set(['code', 'actual', 'expected', 'showDiff', 'operator', 'uncaught', 'cause', 'multiple']);

/**
 * Never throws: an error whose properties throw as they are read (a getter, a Proxy) still fails its test. A throw
 * here escaped the worker's report of the failure, and the file's run never ended.
 */
export function serializeError(err: unknown, depth = 0): SerializedError {
  try {
    return serialize(err, depth);
  } catch (thrown) {
    const message = attempt(() => String((err as { message?: unknown }).message), '(unreadable)');
    return { name: 'Error', message: `${message} (reading the error threw: ${attempt(() => String(thrown), 'unknown')})` };
  }
}

function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function serialize(err: unknown, depth: number): SerializedError {
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) {
    return { name: 'Error', message: `thrown value: ${String(err)}` };
  }
  const e = err as Error & Record<string, unknown>;
  const out: SerializedError = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
  if (typeof e.stack === 'string') out.stack = e.stack;
  if (typeof e['code'] === 'string') out.code = e['code'];
  if (e['showDiff'] !== false && ('actual' in e || 'expected' in e)) {
    out.actual = typeof e['actual'] === 'string' ? e['actual'] : safeStringify(e['actual']);
    out.expected = typeof e['expected'] === 'string' ? e['expected'] : safeStringify(e['expected']);
    out.showDiff = e['showDiff'] !== false && typeof e['actual'] !== 'undefined';
  }
  if (typeof e['operator'] === 'string') out.operator = e['operator'];
  if (e['uncaught'] === true) out.uncaught = true;
  const cause = attempt(() => e.cause, undefined);
  if (cause !== undefined && depth < 4) out.cause = serializeError(cause, depth + 1);
  if (Array.isArray(e['multiple']) && depth < 4) out.multiple = (e['multiple'] as unknown[]).map((m) => serializeError(m, depth + 1));
  if (Object.prototype.hasOwnProperty.call(e, 'name')) out.ownName = true;
  // getOwnPropertyNames, as mocha's json reporter lists them: a cause given to the constructor is not enumerable.
  const own: string[] = [];
  const extra: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(e)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    if (CARRIED.has(key)) {
      own.push(key);
      continue;
    }
    // A getter that throws leaves its property out, as it leaves out a function.
    const value = attempt(() => asJson(e[key]), undefined);
    if (value === undefined) continue;
    own.push(key);
    extra[key] = value;
  }
  if (own.length > 0) out.own = own;
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out;
}

/**
 * A value as JSON data, with cycles cut the way mocha's json reporter cuts them ("[object Object]"). Undefined
 * for what JSON leaves out (functions, undefined); a value JSON cannot take (a BigInt) becomes its string.
 */
function asJson(value: unknown): unknown {
  const seen: unknown[] = [];
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.includes(v)) return String(v);
        seen.push(v);
      }
      return v;
    });
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return String(value);
  }
}

function safeStringify(value: unknown): string {
  try {
    return stringify(value);
  } catch {
    return String(value);
  }
}
