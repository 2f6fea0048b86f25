// Errors cross the thread boundary as plain data; assertion diffs are stringified the way mocha's reporters expect.
import Mocha from 'mocha';
import type { SerializedError } from '../src/protocol.js';

const stringify = (Mocha as unknown as { utils: { stringify(value: unknown): string } }).utils.stringify;

export function serializeError(err: unknown, depth = 0): SerializedError {
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
  if (e.cause !== undefined && depth < 4) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

function safeStringify(value: unknown): string {
  try {
    return stringify(value);
  } catch {
    return String(value);
  }
}
