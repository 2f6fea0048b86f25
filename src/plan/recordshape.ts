// The shape of a run record, checked before anything reads it: a record edited by hand, merged badly or cut off
// by a full disk must be refused as damaged (exit 2, with where), never crash replay, bisect or --last-failed.
const STATES = new Set(['passed', 'failed', 'pending', 'notrun']);

type Check = (value: unknown, at: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : JSON.stringify(value);
}

const text: Check = (v, at) => (typeof v === 'string' ? null : `${at} is ${describe(v)} where text belongs`);
const number: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? null : `${at} is ${describe(v)} where a number belongs`);
const state: Check = (v, at) => (typeof v === 'string' && STATES.has(v) ? null : `${at} is ${describe(v)} where one of ${[...STATES].join(', ')} belongs`);

function list(item: Check): Check {
  return (v, at) => {
    if (!Array.isArray(v)) return `${at} is ${describe(v)} where a list belongs`;
    for (const [i, x] of v.entries()) {
      const problem = item(x, `${at}[${i}]`);
      if (problem !== null) return problem;
    }
    return null;
  };
}

function object(fields: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, at) => {
    if (!isObject(v)) return `${at} is ${describe(v)} where an object belongs`;
    for (const [k, check] of Object.entries(fields)) {
      const problem = check(v[k], `${at}.${k}`);
      if (problem !== null) return problem;
    }
    for (const [k, check] of Object.entries(optional)) {
      const problem = v[k] === undefined ? null : check(v[k], `${at}.${k}`);
      if (problem !== null) return problem;
    }
    return null;
  };
}

const test = object({ id: text, title: text, state }, { reason: text });
const file = object({ file: text, key: text, round: number, tests: list(test) }, { failures: list(object({ title: text })) });
const record = object(
  { workers: number, slots: list(object({ slot: number, files: list(file) })), config: object({}) },
  { notRunFiles: list(object({ file: text, reason: text })), rebuilds: list(object({})), chaos: list(object({})), leaks: list(object({})) },
);

/** The first structural problem of a parsed record ("slots[0].files is null where a list belongs"), or null. */
export function recordProblem(data: unknown): string | null {
  return record(data, 'record');
}
