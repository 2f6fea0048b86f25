// Teardown, written once for every isolation mode: end the sessions the specs left open, then drop what the run
// created, each step on the maintenance session and waiting out a server that is restarting. It never throws:
// what it could not do is returned, so the run can still report (and say how to drop the rest by hand).
import type { Admin } from './admin.js';
import type { TeardownReport } from './types.js';
import { isConnectionError } from '../protocol/faults.js';

/** What differs between the isolation modes. */
export interface TeardownSteps {
  /** Ends the sessions the specs left open on what the run uses; runs on the maintenance session. */
  closeLeaks(): Promise<number>;
  /** Where those sessions are, for the warning when they could not be ended ("the specs left open"). */
  leftOpen: string;
  /** What the run created and drops now, in order: nothing in shared isolation, or what --keep-databases keeps. */
  created?: {
    kind: TeardownReport['notDropped'][number]['kind'];
    names: readonly string[];
    /** Drops one of `names`; runs on the maintenance session (again on a new one when it was lost on the way). */
    drop(name: string): Promise<void>;
  };
  /** Last, whatever happened before (a lock released). Its failure is not reported: the lock goes with the session. */
  release?(): Promise<void>;
}

/** The mode's teardown: idempotent (a second call reports nothing and does nothing). */
export function teardownOnce(admin: Admin, steps: TeardownSteps): () => Promise<TeardownReport> {
  let done = false;
  return async () => {
    const report: TeardownReport = { notDropped: [], problems: [] };
    if (done) return report;
    done = true;
    // Once the server cannot be reached at all, the rest is not tried: each try would wait for it again.
    let unreachable: string | null = null;
    const created = steps.created ?? { kind: 'database', names: [], drop: () => Promise.resolve() };
    try {
      await admin.serial(steps.closeLeaks).catch((err: unknown) => {
        // An unreachable server is reported once, with what it left: the names below.
        if (isConnectionError(err) && created.names.length > 0) unreachable = message(err);
        else report.problems.push(`could not end the sessions ${steps.leftOpen}: ${message(err)}`);
      });
      for (const name of created.names) {
        if (unreachable !== null) {
          report.notDropped.push({ kind: created.kind, name, why: unreachable });
          continue;
        }
        await admin.serial(() => created.drop(name)).catch((err: unknown) => {
          if (isConnectionError(err)) unreachable = message(err);
          report.notDropped.push({ kind: created.kind, name, why: message(err) });
        });
      }
    } finally {
      await steps.release?.().catch(() => undefined);
    }
    return report;
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
