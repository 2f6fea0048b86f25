// Seeded fault injection (--chaos), on db()'s connection and on every client of the application's own pg (its
// pools, knex, an ORM; patched in apppg.ts). Faults hit test bodies only, never hooks (a failed hook would skip its whole
// suite), at most once per test attempt, and each hit is reported, so a chaos run can prove the reset rule:
// the tests that fail are exactly the tests that were hit.
import type pg from 'pg';
import type Mocha from 'mocha';
import type { ChaosSpec, ChaosFault } from '../src/protocol/messages.js';
import { hash32, rng } from '../src/protocol/random.js';
import { isHook } from './tree.js';

let spec: ChaosSpec | null = null;
let runner: Mocha.Runner | null = null;
let report: ((fault: ChaosFault, title: string) => void) | null = null;
const queriesByAttempt = new WeakMap<Mocha.Runnable, { n: number; hit: boolean }>();

export function configureChaos(next: ChaosSpec | null, onHit: (fault: ChaosFault, title: string) => void): void {
  spec = next;
  report = onHit;
}

export function setChaosRunner(next: Mocha.Runner | null): void {
  runner = next;
}

/** Decides the fault for the n-th query of a test: a function of the seed and the test's title only. */
export function faultFor(s: ChaosSpec, title: string, n: number): ChaosFault | null {
  const x = rng(hash32(`${title}#${n}`, s.seed)).float();
  if (x < s.terminate) return 'terminate';
  if (x < s.terminate + s.drop) return 'drop';
  if (x < s.terminate + s.drop + s.delay) return 'delay';
  return null;
}

type Query = (...args: unknown[]) => unknown;

/** How a fault acts on one client: end its backend server-side, or cut its socket. */
export interface ChaosTarget {
  terminate(): Promise<void>;
  destroy(): void;
}

export function chaosEnabled(): boolean {
  return spec !== null;
}

/**
 * One query of the running test through the chaos: the fault (if any) drawn for the n-th query of the test, counted
 * across every client the test uses (db() and the application's own), so one seed hits the same queries whichever
 * client sends them. Callback-style calls and hooks pass untouched.
 */
export function throughChaos(send: () => unknown, args: readonly unknown[], target: ChaosTarget): unknown {
  const s = spec;
  const current = (runner as (Mocha.Runner & { currentRunnable?: Mocha.Runnable }) | null)?.currentRunnable;
  const callbackStyle = typeof args[args.length - 1] === 'function' || typeof (args[0] as { submit?: unknown })?.submit === 'function';
  if (s === null || current === undefined || isHook(current) || callbackStyle) return send();
  const seen = queriesByAttempt.get(current) ?? { n: 0, hit: false };
  queriesByAttempt.set(current, seen);
  seen.n += 1;
  const fault = seen.hit ? null : faultFor(s, current.fullTitle(), seen.n);
  if (fault === null) return send();
  seen.hit = true;
  report?.(fault, current.fullTitle());
  if (fault === 'delay') return new Promise((resolve) => setTimeout(resolve, s.delayMs)).then(send);
  if (fault === 'terminate') return target.terminate().then(send);
  const pending = send();
  target.destroy();
  return pending;
}

/** The socket of a node-postgres client, cut as a network fault would. */
export function destroySocket(client: object): void {
  (client as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

export function wrapForChaos(client: pg.Client, terminate: () => Promise<void>): void {
  if (spec === null) return;
  const original = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (...args: unknown[]): unknown => throughChaos(() => original(...args), args, { terminate, destroy: () => destroySocket(client) });
}
