// The guards around provisioning: which databases bulkhead may touch, the names and markers of what it creates,
// and whether the server has room for the run. Nothing here creates or drops anything.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { errors } from '../errors.js';

/** PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1), which could merge w1 and w12. */
const MAX_IDENTIFIER_BYTES = 63;
const PLAIN = /^[A-Za-z0-9_]+$/;

/** Every comment bulkhead puts on a database or schema starts with this; nothing without it is ever dropped. */
export const MARKER_PREFIX = 'bulkhead:';
export const markers = {
  slot: (slot: number): string => `${MARKER_PREFIX}slot:${slot}`,
  template: (hash: string): string => `${MARKER_PREFIX}template:${hash}`,
  /** The per-run copy of a target used as the template when there is no setup: never reused. */
  snapshot: `${MARKER_PREFIX}snapshot`,
  /** Set while setup runs, so a build that crashed half way is recognised as ours and rebuilt. */
  building: `${MARKER_PREFIX}building`,
};

export function isOurs(comment: string | null | undefined): boolean {
  return typeof comment === 'string' && comment.startsWith(MARKER_PREFIX);
}

/** Refuses setup and isolation on a database that does not look disposable. */
export function assertTestDatabase(database: string, allowAnyDatabase: boolean): void {
  if (!allowAnyDatabase && !database.toLowerCase().includes('test')) throw errors.notTestDatabase(database);
}

/**
 * A name bulkhead creates next to `base`. Plain short bases keep the documented `<base><suffix>` form; anything
 * else (quotes, spaces, non-ASCII, too long) becomes a plain stem plus a digest of the real base, so every name
 * we create is a safe identifier that survives URLs and PGOPTIONS unescaped, and distinct bases stay distinct.
 */
export function derivedName(base: string, suffix: string): string {
  const full = `${base}${suffix}`;
  if (PLAIN.test(base) && full.length <= MAX_IDENTIFIER_BYTES) return full;
  const digest = createHash('sha256').update(base).digest('hex').slice(0, 8);
  const stem = base.replace(/[^A-Za-z0-9_]+/g, '_').slice(0, MAX_IDENTIFIER_BYTES - suffix.length - digest.length - 1);
  return `${stem}_${digest}${suffix}`;
}

const scoped = (scope: string): string => (scope === '' ? '_bulkhead' : `_bulkhead_${scope}`);

export const names = {
  slotDatabase: (base: string, slot: number, scope = ''): string => derivedName(base, `${scoped(scope)}_w${slot}`),
  template: (base: string, scope = ''): string => derivedName(base, `${scoped(scope)}_tpl`),
  /** Never derived from config but the scope (a plain s<n>): a schema name is also written into PGOPTIONS. */
  schema: (slot: number, scope = ''): string => `bulkhead${scope === '' ? '' : `_${scope}`}_w${slot}`,
  /** Matches the slot databases of one scope, capturing the slot number. */
  slotPattern: (scope = ''): string => `${scoped(scope)}_w([0-9]+)$`,
};

export interface Capacity {
  /** Connections the run may hold at once: 2 per worker plus 2 for the main thread. */
  needed: number;
  /** What the server grants to a non-reserved role: max_connections less the reserved slots (and the role's limit). */
  limit: number;
  /** Client sessions open on the server now, including this one (other users count against the same limit). */
  inUse: number;
}

/*
 * Per worker: the lazy test connection plus the reaper the worker opens to end a busy backend after a failed
 * test; the reaper overlaps the old connection while the next one may already be connecting, so 2 is the peak.
 * Main thread: the maintenance session (admin.ts) and a short-lived one beside it at times (the probe of the
 * target, schema DDL, ROLLBACK PREPARED).
 */
export const CONNECTIONS_PER_WORKER = 2;
export const MAIN_CONNECTIONS = 2;

interface Room {
  capacity: Capacity;
  /** Why the room is short, in words, with the numbers. */
  why: string;
  /** Workers that fit now: the server's limit less every session open (ours included) leaves room for them. */
  fits: number;
  /** Workers that could ever fit on this server (nothing else connected). */
  fitsServer: number;
}

async function room(client: pg.Client, workers: number): Promise<Room> {
  const { rows } = await client.query<{ max: number; su: number; reserved: number; role: number; used: number }>(
    `SELECT current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int AS su,
            coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
            coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user), -1) AS role,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used`,
  );
  const r = rows[0];
  if (r === undefined) throw new Error('capacity query returned no row');
  const serverLimit = r.max - r.su - r.reserved;
  const byRole = r.role >= 0 && r.role < serverLimit;
  const limit = byRole ? r.role : serverLimit;
  const needed = CONNECTIONS_PER_WORKER * workers + MAIN_CONNECTIONS;
  const allows = byRole ? `the role may open only ${r.role} (its CONNECTION LIMIT)` : `the server allows ${serverLimit} (max_connections ${r.max} less ${r.su + r.reserved} reserved)`;
  // `used` counts the asking session, which is one of the run's own: the room is the limit less the others.
  const free = limit - r.used + 1;
  const perWorker = (n: number): number => Math.max(0, Math.floor((n - MAIN_CONNECTIONS) / CONNECTIONS_PER_WORKER));
  const why = needed > limit ? allows : `${allows} and ${r.used - 1} of them are in use by other sessions, which leaves ${Math.max(0, free)}`;
  return { capacity: { needed, limit, inUse: r.used }, why, fits: Math.min(perWorker(free), perWorker(limit)), fitsServer: perWorker(limit) };
}

/** Fails before the run starts when the workers cannot all connect; warns (via log) when others use the room. */
export async function checkCapacity(client: pg.Client, workers: number, log?: (line: string) => void): Promise<Capacity> {
  const r = await room(client, workers);
  const { needed, limit } = r.capacity;
  if (needed > limit) {
    throw r.fitsServer >= 2 ? errors.capacity(workers, needed, r.why, r.fitsServer) : errors.capacityAtMostOne(workers, needed, r.why, r.fitsServer === 1 ? 1 : 0);
  }
  // Other sessions come and go on a shared server: here (after fitWorkers) they are a note, not a refusal.
  if (r.fits < workers) log?.(`bulkhead: warning: ${workers} workers need up to ${needed} connections and ${r.capacity.inUse} of ${limit} are in use now`);
  return r.capacity;
}

/**
 * Acts on the room before anything starts: the workers that fit now, with a warning when that is fewer than asked
 * (`fixed`: a replayed schedule needs all its slots, so fewer is a refusal); none fits: exit 3 with the numbers.
 */
export async function fitWorkers(client: pg.Client, workers: number, fixed: boolean, warn: (line: string) => void): Promise<number> {
  const r = await room(client, workers);
  if (r.fits >= workers) return workers;
  const { needed } = r.capacity;
  if (r.fits >= 1 && !fixed) {
    warn(
      `bulkhead: warning: ${workers} workers need up to ${needed} connections (2 per worker, 2 for bulkhead itself), but ${r.why}; ` +
        `running on ${r.fits} worker${r.fits === 1 ? '' : 's'}. ${needed > r.capacity.limit ? 'Raise' : 'Close other sessions or raise'} max_connections to run on ${workers}.`,
    );
    return r.fits;
  }
  throw r.fits >= 2 ? errors.capacity(workers, needed, r.why, r.fits) : errors.capacityAtMostOne(workers, needed, r.why, r.fits === 1 ? 1 : 0);
}
