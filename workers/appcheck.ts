// The reset rule for the application's own sessions, applied: after a test, the sessions of the application's clients
// that ran statements during it are looked up in pg_stat_activity, judged by judgeSessions (reset.ts), and the ones
// it names are ended server-side. A test whose clients all went back idle outside a transaction costs nothing.
import type pg from 'pg';
import type { ConnectionTarget, EndedSession } from '../src/protocol/messages.js';
import { judgeSessions } from './reset.js';
import type { AppSession, SessionContext } from './reset.js';
import { clientTimes, markEnded, takeTouched, watchAgain } from './apppg.js';
import type { AppClient } from './apppg.js';
import { clientConfig, closeClient, newClient } from './client.js';
import { idleConnection } from './connection.js';
import type { Culprit } from './connection.js';
import { withoutOrigin } from './origin.js';

export interface SessionCheckSettings {
  slot: number;
  target: ConnectionTarget | null;
  onEnded: (session: EndedSession) => void;
}

let settings: SessionCheckSettings | null = null;
/** The worker's check session, opened only when db()'s connection is not there (or not idle) to ask on. */
let own: Promise<pg.Client> | null = null;

/** How long the sockets of ended sessions get to close, so the pool has dropped them before the next test. */
const GONE_WAIT_MS = 2000;

// The server says what state each session is in; when its statements were sent the worker knows better (see apppg.ts).
const SESSIONS_SQL = `SELECT pid, state, application_name FROM pg_stat_activity
WHERE pid = ANY($1::int[]) AND backend_type = 'client backend'`;

export function configureSessionCheck(next: SessionCheckSettings): void {
  settings = next;
}

/** After a test (and its afterEach hooks), or after a file's last hooks with no test to name. */
export async function checkSessions(ctx: SessionContext, culprit: Culprit): Promise<void> {
  const s = settings;
  const clients = takeTouched();
  if (s === null || clients.length === 0) return;
  await Promise.all(clients.map(settle));
  const byPid = new Map<number, AppClient[]>();
  for (const c of clients) {
    const pid = c.processID ?? 0;
    if (pid <= 0 || c._ended === true || c._ending === true) continue;
    // A client idle outside a transaction can only be ended for a failed test: there is nothing to look up.
    if (!ctx.failedWithDbError && c.getTransactionStatus?.() === 'I') continue;
    byPid.set(pid, [...(byPid.get(pid) ?? []), c]);
  }
  if (byPid.size === 0) return;
  try {
    await withoutOrigin(() => judgeAndEnd(s, byPid, ctx, culprit));
  } catch {
    // The check must never fail a test: a server that cannot be asked will fail the next test on its own terms.
    own = null;
  }
}

async function judgeAndEnd(s: SessionCheckSettings, byPid: Map<number, AppClient[]>, ctx: SessionContext, culprit: Culprit): Promise<void> {
  const session = idleConnection() ?? (await checkSession(s));
  const { rows } = await session.query<{ pid: number; state: string | null; application_name: string | null }>(SESSIONS_SQL, [[...byPid.keys()]]);
  const sessions: AppSession[] = rows.map((r) => {
    const t = latest((byPid.get(r.pid) ?? []).map(clientTimes));
    return { pid: r.pid, state: r.state, applicationName: r.application_name ?? '', xactStart: t?.fromIdle ?? null, queryStart: t?.query ?? null };
  });
  const verdicts = judgeSessions(sessions, ctx);
  for (const x of sessions) {
    if (x.state === 'idle in transaction' && !verdicts.some((v) => v.pid === x.pid)) for (const c of byPid.get(x.pid) ?? []) watchAgain(c);
  }
  if (verdicts.length === 0) return;
  const doomed = verdicts.flatMap((v) => byPid.get(v.pid) ?? []);
  // Nothing listens for its errors: no pool holds it idle, so the application holds it across tests.
  const held = new Set(verdicts.filter((v) => (byPid.get(v.pid) ?? []).every((c) => c.listenerCount('error') === 0)).map((v) => v.pid));
  for (const c of doomed) markEnded(c);
  await session.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [verdicts.map((v) => v.pid)]);
  await gone(doomed);
  for (const v of verdicts) {
    const seen = sessions.find((x) => x.pid === v.pid);
    s.onEnded({
      slot: s.slot,
      pid: v.pid,
      applicationName: seen?.applicationName ?? '',
      state: seen?.state ?? 'unknown',
      reasons: v.reasons,
      heldAcrossTests: held.has(v.pid),
      culprit: { kind: culprit.kind, title: culprit.title, ...(culprit.testId !== undefined ? { testId: culprit.testId } : {}) },
    });
  }
}

function latest(list: ({ query: number; fromIdle: number } | null)[]): { query: number; fromIdle: number } | null {
  let out: { query: number; fromIdle: number } | null = null;
  for (const t of list) if (t !== null && (out === null || t.query > out.query)) out = t;
  return out;
}

function checkSession(s: SessionCheckSettings): Promise<pg.Client> {
  own ??= (async () => {
    const client = await newClient(clientConfig(s.target, `bulkhead:w${s.slot}:check`));
    client.on('error', () => {
      own = null;
    });
    client.on('end', () => {
      own = null;
    });
    await client.connect();
    return client;
  })().catch((err: unknown) => {
    own = null;
    throw err;
  });
  return own;
}

const READY_WAIT_MS = 200;

/**
 * pg settles a failed statement on the server's ErrorResponse; the ReadyForQuery after it may come a moment later.
 * Until it has, the server may not yet show the session idle, nor the client its transaction state: wait (briefly,
 * so a statement that is really still running is judged as running) for it.
 */
function settle(client: AppClient): Promise<void> {
  const c = client as AppClient & { readyForQuery?: boolean; connection?: import('node:events').EventEmitter };
  const connection = c.connection;
  if (c.readyForQuery !== false || c._ended === true || connection === undefined) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      connection.off('readyForQuery', done);
      resolve();
    };
    const timer = setTimeout(done, READY_WAIT_MS);
    connection.on('readyForQuery', done);
  });
}

/** Waits (briefly) until the ended sessions' sockets closed: a pool then no longer hands them out. */
function gone(clients: AppClient[]): Promise<void> {
  const waiting = clients.filter((c) => c._ended !== true);
  if (waiting.length === 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.all(waiting.map((c) => new Promise<void>((resolve) => c.once('end', () => resolve())))),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, GONE_WAIT_MS);
    }),
  ]).then(() => clearTimeout(timer));
}

/** Closes the check session when the worker ends. */
export async function closeSessionCheck(): Promise<void> {
  const pending = own;
  own = null;
  if (pending === null) return;
  const client = await pending.catch(() => null);
  if (client !== null) await closeClient(client);
}
