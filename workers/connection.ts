// The lazy per-thread connection: created on the first db() call, discarded when the reset rule says so,
// and closed with a protocol goodbye when the worker ends.
import type pg from 'pg';
import type { ConnectionTarget, RebuildInfo, RebuildReason } from '../src/protocol/messages.js';
import type { ConnectionSnapshot } from './reset.js';
import type { DatabaseFault } from '../src/protocol/faults.js';
import { whenAvailable } from '../src/protocol/faults.js';
import { wrapForChaos } from './chaos.js';
import { beginScope, dropScope, wrapForTransactions } from './transaction.js';
import { withoutOrigin } from './origin.js';
import { NOT_IN_WORKER, publishDb, publishedDb } from '../src/protocol/target.js';
import { noteDatabaseUse } from './usage.js';
import { clientConfig, closeClient, newClient, terminateBackend } from './client.js';

export interface ConnectionSettings {
  slot: number;
  target: ConnectionTarget | null;
  onConnect?: (client: pg.Client) => unknown;
  onReset?: (info: { slot: number; cause: string }) => unknown;
  /** --transaction: tests run inside BEGIN ... ROLLBACK. */
  transaction?: boolean;
  onEvent: (event: { type: 'connect'; generation: number; pid: number } | { type: 'rebuild'; rebuild: RebuildInfo } | { type: 'server:waiting'; message: string }) => void;
}

interface Live {
  client: pg.Client;
  generation: number;
  errored: Error | null;
  ended: boolean;
  /** The server sent a FATAL error: the backend is gone even before the socket's 'end' arrives. */
  fatal: boolean;
  pid: number;
}

export interface Culprit {
  kind: 'test' | 'hook' | 'file';
  title: string;
  testId?: string;
}

let settings: ConnectionSettings | null = null;
let live: Live | null = null;
let connecting: Promise<Live> | null = null;
let discarding: Promise<void> | null = null;
let generation = 0;

export function configureConnection(next: ConnectionSettings): void {
  settings = next;
  publishDb(db);
}

let testScope = false;

/** A test (with its each-hooks) is running: --transaction wraps its db() work in BEGIN ... ROLLBACK. */
export async function enterTest(): Promise<void> {
  testScope = true;
  if (settings?.transaction === true && live !== null && live.errored === null && !live.ended) await beginScope(live.client);
}

export function leaveTest(): void {
  testScope = false;
}

// A frame of the driver: pg's client or its protocol parser.
const DRIVER_FRAME = /[\\/]node_modules[\\/](?:pg|pg-protocol)[\\/]/;

/**
 * An uncaught error thrown through the driver's own frames (a throwing 'notification' or 'notice' listener, for
 * one) unwound pg in the middle of reading a message: the connection can no longer be trusted, and the reset rule
 * discards it at its next judgment.
 */
export function uncaughtThrough(err: unknown): void {
  const stack = typeof err === 'object' && err !== null ? (err as { stack?: unknown }).stack : undefined;
  if (live === null || typeof stack !== 'string' || !DRIVER_FRAME.test(stack)) return;
  live.errored ??= err instanceof Error ? err : new Error(String(err));
}

export function isConfigured(): boolean {
  return settings !== null;
}

/**
 * A replacement thread continues the slot's count: the main thread hands it the last generation the slot's earlier
 * threads reached, so `w1 gen 2` names one connection however often the slot's thread was replaced.
 */
export function continueGenerations(last: number): void {
  if (last > generation) generation = last;
}

export function currentGeneration(): number {
  return live?.generation ?? generation;
}

export function snapshot(): ConnectionSnapshot | null {
  if (live === null) return null;
  const client = live.client as pg.Client & { _getActiveQuery?: () => unknown; _queryQueue?: unknown[]; _ending?: boolean };
  const active = typeof client._getActiveQuery === 'function' ? client._getActiveQuery() != null : false;
  return {
    errored: live.errored,
    // end() called without await: the socket's 'end' comes later, but the client is already unusable.
    ended: live.ended || client._ending === true,
    txStatus: live.client.getTransactionStatus?.() ?? null,
    queryActive: active,
  };
}

/** db()'s connection when it can answer a question right now: healthy, idle outside a transaction, not being discarded. */
export function idleConnection(): pg.Client | null {
  const state = snapshot();
  if (live === null || discarding !== null || state === null || state.errored !== null || state.ended || state.queryActive || state.txStatus !== 'I') return null;
  return live.client;
}

const READY_WAIT_MS = 200;

/**
 * pg rejects a failed query on the server's ErrorResponse; the ReadyForQuery that carries the new transaction
 * status ('E') may arrive a moment later when the two land in different packets. Before the transaction status is
 * judged, wait (briefly: a query that is really still running is judged as such) for that message.
 */
export async function protocolSettled(): Promise<void> {
  const entry = live;
  // pg forgets the active query on the ErrorResponse, but `readyForQuery` stays false until the ReadyForQuery.
  const awaiting = (entry?.client as { readyForQuery?: boolean } | undefined)?.readyForQuery === false;
  // A connection the server ended (FATAL) or that broke sends no ReadyForQuery: there is nothing to wait for.
  if (entry === null || entry.ended || entry.fatal || entry.errored !== null || (!awaiting && !(snapshot()?.queryActive ?? false))) return;
  const connection = (entry.client as unknown as { connection?: import('node:events').EventEmitter }).connection;
  if (connection === undefined) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      connection.off('readyForQuery', done);
      resolve();
    };
    const timer = setTimeout(done, READY_WAIT_MS);
    connection.on('readyForQuery', done);
  });
}

let closing = false;

/**
 * The worker's connection belongs to no file: the files that use it after the first must not inherit that one.
 * A server that is restarting, starting or out of slots is waited for (bounded), so the tests after an outage run
 * against the server that came back instead of failing one after another while it is away.
 */
function open(s: ConnectionSettings): Promise<Live> {
  return withoutOrigin(() =>
    whenAvailable(() => openClient(s), {
      stop: () => closing,
      onWait: (err) => s.onEvent({ type: 'server:waiting', message: err instanceof Error ? err.message : String(err) }),
    }),
  );
}

async function openClient(s: ConnectionSettings): Promise<Live> {
  const client = await newClient(clientConfig(s.target, `bulkhead:w${s.slot}`));
  const entry: Live = { client, generation: generation + 1, errored: null, ended: false, fatal: false, pid: 0 };
  // An idle client's 'error' event must always have a listener, or a dropped socket kills the worker.
  client.on('error', (err) => {
    entry.errored ??= err;
  });
  client.on('end', () => {
    entry.ended = true;
  });
  // A FATAL error (57P01 after pg_terminate_backend, for one) reaches only the query that was running; a test
  // that catches it would leave a dead connection that looks healthy until the socket's 'end' arrives.
  const connection = (client as unknown as { connection?: { on(e: string, fn: (m: { severity?: string; message?: string }) => void): void } }).connection;
  connection?.on('errorMessage', (m) => {
    if (m.severity === 'FATAL' || m.severity === 'PANIC') {
      entry.fatal = true;
      entry.errored ??= new Error(m.message ?? 'the server ended the connection');
    }
  });
  await client.connect();
  entry.pid = (client as pg.Client & { processID?: number }).processID ?? 0;
  wrapForChaos(client, () => terminateBackend(s.target, s.slot, entry.pid));
  if (s.transaction === true) wrapForTransactions(client);
  generation = entry.generation;
  try {
    await s.onConnect?.(client);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`bulkhead: the onConnect hook failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  s.onEvent({ type: 'connect', generation: entry.generation, pid: entry.pid });
  return entry;
}

/** The calling worker's connection, connected on first use and after every discard. */
export async function db(): Promise<pg.Client> {
  const s = settings;
  if (s === null) {
    const configured = publishedDb();
    if (configured !== undefined && configured !== db) return configured();
    throw new Error(NOT_IN_WORKER);
  }
  noteDatabaseUse();
  if (discarding !== null) await discarding;
  if (live !== null && (live.errored !== null || live.ended)) {
    // The socket is gone (the server dropped it): hand out a fresh connection rather than a dead one.
    discard(['connection-error'], { kind: 'connection', message: live.errored?.message ?? 'connection ended', sessionLost: true }, null);
    await discarding;
  }
  if (live === null) {
    connecting ??= open(s).finally(() => {
      connecting = null;
    });
    live = await connecting;
  }
  if (s.transaction === true && testScope) await beginScope(live.client);
  return live.client;
}

/** Waits for a discard in progress, so the old backend is gone before anything else runs. */
export async function settled(): Promise<void> {
  while (discarding !== null) await discarding;
}

/**
 * Discards the current connection: closes it and makes sure its server backend is gone (locks released)
 * before the returned promise, also kept in `discarding`, settles. Safe to call when there is none.
 */
export function discard(reasons: RebuildReason[], fault: DatabaseFault | undefined, culprit: Culprit | null): Promise<void> {
  const s = settings;
  const old = live;
  if (s === null || old === null) return discarding ?? Promise.resolve();
  live = null;
  dropScope(old.client);
  const busy = snapshotOf(old);
  const work = (async () => {
    if (busy) await terminateBackend(s.target, s.slot, old.pid);
    // The replacement connects while the old backend says goodbye: the next test still waits for both (its locks
    // are released first), but does not pay for the two one after the other. It starts after the reaper is done,
    // so a worker never holds more than two connections (what the capacity check counts).
    prewarm(s);
    await closeClient(old.client);
    s.onEvent({
      type: 'rebuild',
      rebuild: {
        slot: s.slot,
        generation: old.generation,
        reasons,
        message: fault?.message ?? reasons.join(', '),
        ...(fault?.sqlstate !== undefined ? { sqlstate: fault.sqlstate } : {}),
        culprit: culprit ?? { kind: 'file', title: '(between tests)' },
      },
    });
    try {
      await s.onReset?.({ slot: s.slot, cause: fault?.message ?? reasons.join(', ') });
    } catch {
      // A failing onReset hook must not turn a recovery into a crash; the rebuild itself is already reported.
    }
  })().finally(() => {
    if (discarding === work) discarding = null;
  });
  discarding = work;
  return work;
}

/** Opens the next connection ahead of the next db() call; a failure is left for that call to meet again. */
function prewarm(s: ConnectionSettings): void {
  if (closing || connecting !== null || live !== null) return;
  const opening = open(s);
  connecting = opening;
  opening.then(
    (entry) => {
      if (connecting === opening) connecting = null;
      // db() hands out this same promise while it is pending, so nothing else can have set `live` meanwhile.
      live ??= entry;
    },
    () => {
      if (connecting === opening) connecting = null;
    },
  );
}

// A backend that is running a query (or whose socket broke on our side) does not read our goodbye: end it from
// the server side and wait until it is gone, so its locks are released before the next test.
function snapshotOf(entry: Live): boolean {
  const client = entry.client as pg.Client & { _getActiveQuery?: () => unknown };
  const active = typeof client._getActiveQuery === 'function' && client._getActiveQuery() != null;
  return entry.pid > 0 && !entry.fatal && (active || (entry.errored !== null && !entry.ended));
}

/** A second signal: the backends and then the thread go, so no connection opens any more (it would be cut off). */
export const stopConnecting = (): void => void (closing = true);

/** Closes the connection with a protocol goodbye; called when the worker is shut down. */
export async function closeConnection(): Promise<void> {
  closing = true;
  await settled();
  if (connecting !== null) await connecting.catch(() => undefined);
  const old = live;
  if (old === null || settings === null) return;
  live = null;
  if (snapshotOf(old)) await terminateBackend(settings.target, settings.slot, old.pid);
  await closeClient(old.client);
}
