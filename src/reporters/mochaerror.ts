// What the replay hands mocha's reporters: a worker's error rebuilt as a real Error, and options they may change.
import type { SerializedError } from '../protocol/messages.js';
import type { Redactor } from '../db/redact.js';

/** A mutable copy of frozen plain data; anything else (a function in a JS config) is passed as is. */
export function thaw<T>(value: T): T {
  if (Array.isArray(value)) return value.map(thaw) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, thaw(v)])) as T;
  }
  return value;
}

const CARRIED = ['code', 'actual', 'expected', 'showDiff', 'operator', 'uncaught'] as const;
const namedPrototypes = new Map<string, Error>();

/** Error.prototype with `name` on top, so a rebuilt error has the name without owning it, like the original. */
function prototypeNamed(name: string): Error {
  let proto = namedPrototypes.get(name);
  if (proto === undefined) {
    proto = Object.create(Error.prototype, { name: { value: name, writable: true, configurable: true } }) as Error;
    namedPrototypes.set(name, proto);
  }
  return proto;
}

/**
 * Rebuilds the worker's error with the same own properties in the same order (reporters such as json list them
 * all), every text redacted. An error made on the main thread (a crash) has no `own` list: its fields are used.
 */
export function toError(s: SerializedError, redactor: Redactor): Error {
  const redact = (text: string): string => redactor.redact(text);
  const err = new Error(redact(s.message)) as Error & Record<string, unknown>;
  if (s.ownName === true) err.name = s.name;
  else if (s.name !== 'Error') Object.setPrototypeOf(err, prototypeNamed(s.name));
  err.stack = redact(s.stack ?? `${s.name}: ${s.message}`);
  const carried = (key: string): unknown => {
    if (key === 'cause') return s.cause === undefined ? undefined : toError(s.cause, redactor);
    if (key === 'multiple') return s.multiple?.map((m) => toError(m, redactor));
    const value = s[key as (typeof CARRIED)[number]];
    return typeof value === 'string' ? redact(value) : value;
  };
  const keys = s.own ?? [...CARRIED, 'cause', 'multiple'];
  for (const key of keys) {
    const value = Object.prototype.hasOwnProperty.call(s.extra ?? {}, key) ? redactor.data(s.extra?.[key]) : carried(key);
    if (value !== undefined) err[key] = value;
  }
  return err;
}
