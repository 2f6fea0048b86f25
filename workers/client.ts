// One pg client's life on a worker, below the reset rule: pg loaded on first use, a client named for its slot,
// closed with a goodbye (or its socket cut when the goodbye hangs), and a backend ended from the server side.
import type pg from 'pg';
import type { ConnectionTarget } from '../src/protocol/messages.js';
import { withoutOrigin } from './origin.js';
import { markOwn } from './apppg.js';

const CLOSE_TIMEOUT_MS = 5000;

// pg is loaded with the first connection: a worker whose tests never call db() does not pay for it.
let driver: Promise<typeof pg> | null = null;
export function newClient(config: pg.ClientConfig): Promise<pg.Client> {
  driver ??= import('pg').then((m) => m.default);
  return driver.then((d) => {
    const client = new d.Client(config);
    // The project's pg may be this same copy, patched to watch the application's clients: this one is bulkhead's.
    markOwn(client);
    return client;
  });
}

export function clientConfig(target: ConnectionTarget | null, appName: string): pg.ClientConfig {
  const t = target ?? {};
  // Without an explicit target pg reads PGHOST, PGDATABASE, ... itself, so per-slot env variables apply.
  return { ...t, application_name: appName };
}

/** Ends a backend from the server side, on a short-lived reaper session, and waits until it is gone (its locks released). */
export function terminateBackend(target: ConnectionTarget | null, slot: number, pid: number): Promise<void> {
  return withoutOrigin(() => reap(target, slot, pid));
}

async function reap(target: ConnectionTarget | null, slot: number, pid: number): Promise<void> {
  const reaper = await newClient(clientConfig(target, `bulkhead:w${slot}:reaper`));
  reaper.on('error', () => undefined);
  try {
    await reaper.connect();
    await reaper.query('SELECT pg_terminate_backend($1::int, $2::bigint)', [pid, CLOSE_TIMEOUT_MS]);
  } catch {
    // The backend may already be gone, or the server may be unreachable; either way there is nothing left to end.
  } finally {
    await closeClient(reaper);
  }
}

/** end() with a goodbye; a goodbye that is not answered in time cuts the socket instead. */
export async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (client as pg.Client & { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      resolve();
    }, CLOSE_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.end().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
