// A server that stops accepting connections mid-run (a restart, a start-up, no connection slot left): the workers'
// db() wait for it (workers/connection.ts); here the main thread says so once and holds dispatch meanwhile, so the
// queue is not spent on a server that is away.
import type { Admin } from '../db/admin.js';
import type { Redactor } from '../db/redact.js';
import { SERVER_WAIT_MS } from '../protocol/faults.js';
import type { EventBus } from './events.js';

/** The first worker that meets the outage says so; every later one waits for the same server. */
export function sayOutageOnce(bus: EventBus, admin: Admin, redactor: Redactor, out: NodeJS.WritableStream): void {
  let said = false;
  bus.on('outage', (e) => {
    if (e.type !== 'server:waiting' || said) return;
    said = true;
    admin.outageSaid();
    out.write(`bulkhead: the server stopped accepting connections (${redactor.redact(e.message)}); tests that need it wait up to ${SERVER_WAIT_MS / 1000} s for it, and no new file starts meanwhile\n`);
  });
}

/**
 * While a worker waits for the server, no new file starts: the maintenance session finds out when the server is
 * back (its reconnect waits, bounded, and gives up once). `wait()` resolves at once when nothing is waited for.
 */
export class DispatchGate {
  private away: Promise<unknown> | null = null;
  private open = true;

  constructor(bus: EventBus, private readonly admin: Admin) {
    bus.on('gate', (e) => {
      if (e.type !== 'server:waiting' || this.away !== null || !this.open) return;
      this.away = admin
        .serial(() => admin.client.query('SELECT 1'))
        .catch(() => undefined)
        .finally(() => {
          this.away = null;
        });
    });
  }

  async wait(): Promise<void> {
    if (this.away !== null) await this.away;
  }

  /** Dispatch is over: later outages are the cleanup's to wait for. */
  close(): void {
    this.open = false;
  }
}
