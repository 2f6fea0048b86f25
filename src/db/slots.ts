// What one slot's worker is given (its target and environment variables) and which leaked sessions have
// already been reported for it.
import type { Leaks, SlotDatabase } from './types.js';
import type { ConnectionTarget } from '../protocol/messages.js';
import { retarget } from './connect.js';
import { connectionEnv } from './environment.js';
import type { Admin, Session } from './admin.js';
import { sessionsOn } from './server.js';
import { names } from './safety.js';

/**
 * The default application_name of connections the specs open themselves (pg reads PGAPPNAME): in schema and
 * shared isolation, where every slot shares one database, it is how a leaked session is traced to its slot.
 */
export function appTag(slot: number): string {
  return `bulkhead:w${slot}:app`;
}

function baseEnv(slot: number): Record<string, string> {
  const own = process.env['PGAPPNAME'];
  return own === undefined || own === '' ? { PGAPPNAME: appTag(slot) } : {};
}

/**
 * Every mode gives the worker the whole connection environment of the database its db() uses (DATABASE_URL,
 * PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE), replacing whatever the user's shell had: with the embedded
 * server, or a DATABASE_URL and stale PG* variables side by side, the app's own pool would otherwise dial elsewhere.
 */
export function databaseSlot(target: ConnectionTarget | null, slot: number, database: string): SlotDatabase {
  const slotTarget = retarget(target, database);
  return { slot, database, target: slotTarget, env: { ...baseEnv(slot), ...connectionEnv(slotTarget, database) } };
}

/**
 * Schema isolation: the slot's schema first on the search_path of every connection, through the startup option
 * that pg and libpq read from PGOPTIONS, so the worker's connection and the specs' own pools both get it. A
 * DATABASE_URL that carries its own `options` overrides PGOPTIONS, so the setting is added there too.
 */
export function schemaSlot(target: ConnectionTarget | null, slot: number, database: string, scope = ''): SlotDatabase {
  const schema = names.schema(slot, scope);
  const option = `-c search_path=${schema},public`;
  let slotTarget = target;
  const cs = target?.connectionString;
  if (target !== null && cs !== undefined && /^postgres(ql)?:/i.test(cs)) {
    const url = new URL(cs);
    const own = url.searchParams.get('options');
    if (own !== null) {
      url.searchParams.set('options', `${own} ${option}`);
      slotTarget = { ...target, connectionString: url.toString() };
    }
  }
  const env = { ...baseEnv(slot), ...connectionEnv(slotTarget, database), PGOPTIONS: [process.env['PGOPTIONS'], option].filter(Boolean).join(' ') };
  return { slot, database, schema, target: slotTarget, env };
}

export function sharedSlot(target: ConnectionTarget | null, slot: number, database: string): SlotDatabase {
  return { slot, database, target, env: { ...baseEnv(slot), ...connectionEnv(target, database) } };
}

/*
 * How long a session first seen after a file may take to go away before it counts as leaked. A file that ended its
 * pool has said goodbye on every connection, but pg-pool's end() resolves before the sockets close, so the backends
 * may still be exiting when the file is over; they are gone within milliseconds. Only a real leak waits this long.
 */
const LEAK_GRACE_MS = 500;
const LEAK_POLL_MS = 10;

const same = (a: Session, b: Session): boolean => a.pid === b.pid && a.started === b.started;

/** Leaked sessions are reported once, by the file after which they were first seen. */
export class LeakLedger {
  private readonly seen = new Map<number, Session[]>();

  /**
   * The sessions `list()` returns that are still open once those new since the last check have had the grace
   * period to close, counted as leaks of the file that just ran when they were not reported before.
   */
  async find(slot: number, list: () => Promise<Session[]>, held: readonly number[] = []): Promise<Leaks> {
    let sessions = await list();
    const deadline = performance.now() + LEAK_GRACE_MS;
    // A session the worker says its code still holds open is no session on its way out: it needs no grace.
    while (this.unseen(slot, sessions.filter((s) => !held.includes(s.pid))) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LEAK_POLL_MS));
      const now = await list();
      sessions = sessions.filter((s) => now.some((n) => same(n, s)));
    }
    return this.fresh(slot, sessions);
  }

  private unseen(slot: number, sessions: readonly Session[]): boolean {
    const known = this.seen.get(slot) ?? [];
    return sessions.some((s) => !known.some((k) => same(k, s)));
  }

  fresh(slot: number, sessions: readonly Session[]): Leaks {
    const known = this.seen.get(slot) ?? [];
    const fresh = sessions.filter((s) => !known.some((k) => same(k, s)));
    this.seen.set(slot, [...known.filter((k) => sessions.some((s) => same(s, k))), ...fresh]);
    return { count: fresh.length, applicationNames: [...new Set(fresh.map((s) => s.applicationName))].sort() };
  }

  /** Every leaked session reported so far and still open at its last check. */
  all(): Session[] {
    return [...this.seen.values()].flat();
  }

  forget(slot: number): void {
    this.seen.delete(slot);
  }
}

/** The leaks of slots that share one database (schema and shared isolation), traced by application_name. */
export interface TaggedLeaks {
  ledger: LeakLedger;
  find(slot: number, ownPids: readonly number[], held: readonly number[]): Promise<Leaks>;
  /** Ends every leaked session reported so far. */
  close(): Promise<number>;
}

/**
 * Sessions the specs of a slot opened without naming themselves carry the slot's PGAPPNAME tag. Other sessions
 * on a shared database cannot be told apart from another run's or a colleague's, so they are never touched.
 * find() takes the maintenance session for each look (its grace period leaves it free for other slots); call
 * close() inside admin.serial().
 */
export function taggedLeaks(admin: Admin, database: string): TaggedLeaks {
  const ledger = new LeakLedger();
  return {
    ledger,
    find(slot, ownPids, held) {
      const list = (): Promise<Session[]> =>
        admin.serial(async () => {
          const sessions = await sessionsOn(admin.client, database, `^${appTag(slot)}$`);
          return sessions.filter((s) => !ownPids.includes(s.pid));
        });
      return ledger.find(slot, list, held);
    },
    close: () => admin.end(ledger.all()),
  };
}
