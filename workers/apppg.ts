// The application's own node-postgres, seen from the worker: which of its clients ran statements since the last
// check (so a test that used none costs nothing), and the 'error' a client or pool raises for a backend that bulkhead
// ended, which must not crash the worker when the application listens for none.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import { chaosEnabled, destroySocket, throughChaos } from './chaos.js';
import { noteDatabaseUse } from './usage.js';

/** What bulkhead reads of an application's pg.Client. */
export interface AppClient extends EventEmitter {
  processID?: number | null;
  getTransactionStatus?: () => string | null;
  _ended?: boolean;
  _ending?: boolean;
}

interface Prototype {
  query(this: AppClient, ...args: unknown[]): unknown;
  connect?(this: AppClient, ...args: unknown[]): unknown;
  emit(this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean;
}

interface PgModule {
  Client?: { prototype: Prototype };
  Pool?: { prototype: Prototype };
}

/** Ends an application client's backend server-side (a chaos `terminate`); set by the worker, which knows the target. */
let terminator: ((pid: number) => Promise<void>) | null = null;

export function configureAppTermination(terminate: (pid: number) => Promise<void>): void {
  terminator = terminate;
}

/** bulkhead's own clients (db(), the reaper, the check session): never the application's, never judged. */
const own = new WeakSet<object>();
/** Application clients that ran a statement since the last check. */
const touched = new Set<AppClient>();
/** Application clients whose backend bulkhead ended: the errors they raise for it are expected. */
const ended = new WeakSet<object>();
const patched = new WeakSet<object>();
/**
 * When each client last sent a statement, and when it last sent one outside a transaction (where its current
 * transaction, if any, began), on the worker's clock: exact, where the server's timestamps would carry the scheduling
 * delays of a loaded machine into a comparison with the test's start.
 */
const times = new WeakMap<object, { query: number; fromIdle: number }>();

/** Every application client that connected or ran a statement, for the ones still connected when the worker closes. */
const clients = new Set<WeakRef<AppClient>>();
const tracked = new WeakSet<object>();

function track(client: AppClient): void {
  if (tracked.has(client)) return;
  tracked.add(client);
  clients.add(new WeakRef(client));
}

/** What bulkhead reads of an application's pg.Pool (pg-pool's idle list: each item's timer closes its client). */
interface AppPool {
  options?: { idleTimeoutMillis?: number };
  _idle?: { client: object; timeoutId?: unknown }[];
}

/** The application's pools, for the idle clients they close on their own shortly. */
const pools = new Set<WeakRef<AppPool>>();
const poolsTracked = new WeakSet<object>();
/**
 * An idle client its pool closes within this long is on its way out, not held: the leak grace of the main thread
 * (LEAK_GRACE_MS in src/db/slots.ts) lets it go, as it did before held pids skipped it (`--exit` does not wait for it).
 */
const CLOSES_SOON_MS = 500;

function closingSoon(): Set<object> {
  const soon = new Set<object>();
  for (const ref of pools) {
    const p = ref.deref();
    if (p === undefined) pools.delete(ref);
    else if ((p.options?.idleTimeoutMillis ?? 0) > 0 && (p.options?.idleTimeoutMillis ?? 0) <= CLOSES_SOON_MS) {
      for (const item of p._idle ?? []) if (item.timeoutId !== undefined) soon.add(item.client);
    }
  }
  return soon;
}

/** The backend pids of application clients that are still connected and not on their way out. */
export function heldPids(): number[] {
  const pids: number[] = [];
  const soon = closingSoon();
  for (const ref of clients) {
    const c = ref.deref();
    if (c === undefined || c._ended === true) clients.delete(ref);
    else if (c._ending !== true && !soon.has(c) && typeof c.processID === 'number') pids.push(c.processID);
  }
  return pids;
}

export function clientTimes(client: AppClient): { query: number; fromIdle: number } | null {
  return times.get(client) ?? null;
}

export function markOwn(client: object): void {
  own.add(client);
}

export function markEnded(client: AppClient): void {
  ended.add(client);
}

/** A client kept in a transaction begun for its suite is looked at again after the next test, until it ends. */
export function watchAgain(client: AppClient): void {
  touched.add(client);
}

/** The clients that ran statements since the last call. */
export function takeTouched(): AppClient[] {
  const list = [...touched];
  touched.clear();
  return list;
}

/**
 * Patches the pg that the project itself resolves (its pools, knex, an ORM): loaded from the project root before any
 * spec, so every module of the project that imports pg gets the patched copy. A project without pg is left alone.
 */
export function patchApplicationPg(root: string): void {
  let pg: PgModule;
  try {
    const require = createRequire(path.join(root, 'package.json'));
    pg = require(require.resolve('pg')) as PgModule;
  } catch {
    return;
  }
  const client = pg.Client?.prototype;
  if (client !== undefined && !patched.has(client)) {
    patched.add(client);
    const query = client.query;
    client.query = function (this: AppClient, ...args: unknown[]): unknown {
      if (!own.has(this)) {
        touched.add(this);
        noteDatabaseUse();
        track(this);
        const now = performance.now();
        const status = this.getTransactionStatus?.() ?? null;
        const before = times.get(this);
        times.set(this, { query: now, fromIdle: status === 'T' || status === 'E' ? (before?.fromIdle ?? now) : now });
        if (chaosEnabled()) return throughChaos(() => query.apply(this, args), args, chaosTarget(this));
      }
      return query.apply(this, args);
    };
    // A client a pool hands out that never runs a statement may still be held when the worker closes: its pid is
    // known then, so its session needs no leak grace either.
    const connect = client.connect;
    if (typeof connect === 'function') {
      client.connect = function (this: AppClient, ...args: unknown[]): unknown {
        if (!own.has(this)) track(this);
        return connect.apply(this, args);
      };
    }
    // A client checked out across tests, or a naive module-level client, has no 'error' listener: the error for the
    // backend bulkhead ended would be thrown from emit() and take the worker down.
    quietFor(client, (self) => ended.has(self));
  }
  const pool = pg.Pool?.prototype;
  if (pool !== undefined && !patched.has(pool)) {
    patched.add(pool);
    // pool.query() checks a client out through connect() too.
    const connect = pool.connect;
    if (typeof connect === 'function') {
      pool.connect = function (this: AppClient, ...args: unknown[]): unknown {
        if (!poolsTracked.has(this)) {
          poolsTracked.add(this);
          pools.add(new WeakRef(this as AppPool));
        }
        return connect.apply(this, args);
      };
    }
    // pg-pool drops an idle client whose backend ended and re-emits the error on the pool, with the client.
    quietFor(pool, (_self, args) => typeof args[1] === 'object' && args[1] !== null && ended.has(args[1]));
  }
}

/** A chaos fault on an application client: its backend ended (its 'error' is then expected) or its socket cut. */
function chaosTarget(client: AppClient): { terminate(): Promise<void>; destroy(): void } {
  return {
    terminate: async () => {
      const pid = client.processID;
      if (pid === undefined || pid === null || terminator === null) return;
      markEnded(client);
      await terminator(pid);
    },
    destroy: () => {
      markEnded(client);
      destroySocket(client);
    },
  };
}

function quietFor(proto: Prototype, expected: (self: object, args: unknown[]) => boolean): void {
  const emit = proto.emit;
  proto.emit = function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0 && expected(this, args)) return false;
    return emit.call(this, event, ...args);
  };
}
