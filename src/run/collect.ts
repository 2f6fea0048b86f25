// Files loaded without being run: the .only probe (which files really use .only), and the files a stopped run
// never started, loaded to list each of their tests as not run.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Admin } from '../db/admin.js';
import type { SpecFile } from '../plan/discover.js';
import type { PlanEntry } from '../plan/schedule.js';
import type { WorkerEvent } from '../protocol/messages.js';
import type { EventBus } from './events.js';
import { EventBus as Bus } from './events.js';
import { FileRun } from './filerun.js';
import type { SlotPool } from './slotpool.js';
import { Watchdog, runWatched } from './watchdog.js';
import type { Interrupts } from './interrupts.js';

export interface LoadContext {
  bus: EventBus;
  interrupts: Pick<Interrupts, 'stoppedAtOnce' | 'cutReason'>;
  admin: Pick<Admin, 'terminate'>;
  loadTimeout: number;
  /** The backends each slot's worker opened, for the watchdog to end. */
  slotPids(slot: number): number[];
}

// `.only` as a word, not only as a call: `(cond ? it.only : it)(...)` and `const t = it.only` count too, and so
// does the bracket spelling `it['only'](...)`.
const ONLY = /\.only\b|\[\s*(['"`])only\1\s*\]/;
/** How deep relative imports are followed from a spec file (helpers that re-export shared examples). */
const IMPORT_DEPTH = 4;
const RELATIVE_IMPORT = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const EXTENSIONS = ['', '.js', '.ts', '.mjs', '.cjs', '.mts', '.cts', '/index.js', '/index.ts'];

/**
 * A spec file is a candidate when it, or a module it imports by relative paths (shared examples, also through an
 * index that re-exports them), mentions .only. A false candidate costs one load; a missed one would leave out the
 * files that use .only (or run the whole suite where mocha runs the .only tests). `seen` is shared by one probe's
 * files, so a helper many specs import is read once; a helper that mentions .only is remembered as such.
 */
async function mentionsOnly(file: string, seen: Map<string, boolean>, depth = 0): Promise<boolean> {
  const known = seen.get(file);
  if (known !== undefined) return known;
  seen.set(file, false);
  const text = await readFile(file, 'utf8').catch(() => '');
  let found = ONLY.test(text);
  if (!found && depth < IMPORT_DEPTH) {
    for (const [, spec] of text.matchAll(RELATIVE_IMPORT)) {
      const imported = await resolveRelative(path.dirname(file), spec ?? '');
      if (imported !== null && (await mentionsOnly(imported, seen, depth + 1))) {
        found = true;
        break;
      }
    }
  }
  // A file whose imports the depth cut off is read again where it is reached less deep.
  if (found || depth < IMPORT_DEPTH) seen.set(file, found);
  else seen.delete(file);
  return found;
}

async function resolveRelative(dir: string, spec: string): Promise<string | null> {
  for (const ext of EXTENSIONS) {
    const candidate = path.resolve(dir, `${spec}${ext}`);
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  return null;
}

/** Files that really use .only: a text scan finds candidates, and loading them (without running) confirms. */
export async function probeOnly(files: SpecFile[], pools: SlotPool[], o: LoadContext): Promise<SpecFile[]> {
  const candidates: SpecFile[] = [];
  const seen = new Map<string, boolean>();
  for (const f of files) {
    if (await mentionsOnly(f.path, seen)) candidates.push(f);
  }
  if (candidates.length === 0) return [];
  const quiet = new Bus();
  const confirmed = new Set<SpecFile>();
  const queue = [...candidates];
  await Promise.all(
    pools.map(async (pool) => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const fr = new FileRun(f.rel, 0, pool, { bus: quiet, cutOff: () => false });
        const outcome = await runWatched(pool, { file: f.path, mode: 'collect' }, fr, new Watchdog(pool, o.admin, o.slotPids), o.loadTimeout);
        if (outcome.kind === 'done' && fr.hasOnly) confirmed.add(f);
      }
    }),
  );
  return files.filter((f) => confirmed.has(f));
}

/**
 * Loads (without running) each file that never started, on all slots at once, and lists its tests as not run.
 * Files already collected (later --repeat rounds of the same selection) are not loaded again. A second signal
 * stops that too: the files not listed by then are listed whole.
 */
export async function collectUnstarted(left: PlanEntry[], pools: SlotPool[], reason: string, o: LoadContext): Promise<void> {
  const collected = new Map<string, WorkerEvent[]>();
  const key = (e: PlanEntry): string => `${e.file.path}\u0000${JSON.stringify(e.tests ?? null)}`;
  const cancelled = (): boolean => o.interrupts.stoppedAtOnce;
  const queue = [...left];
  await Promise.all(
    pools.map(async (pool) => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        const fr = new FileRun(entry.file.rel, entry.round, pool, { bus: o.bus, cutOff: cancelled, cutReason: () => o.interrupts.cutReason });
        if (cancelled()) {
          fr.notRunWhole(reason);
          continue;
        }
        const seen: WorkerEvent[] = [];
        const known = collected.get(key(entry));
        if (known !== undefined) {
          for (const e of known) fr.handle(e);
          fr.finish(reason);
          continue;
        }
        const outcome = await runWatched(
          pool,
          { file: entry.file.path, mode: 'collect', ...(entry.tests !== undefined ? { select: entry.tests } : {}) },
          {
            file: fr.file,
            handle: (e) => {
              seen.push(e);
              fr.handle(e);
            },
          },
          new Watchdog(pool, o.admin, o.slotPids),
          o.loadTimeout,
        );
        if (outcome.kind === 'done') {
          if (fr.loaded) collected.set(key(entry), seen.filter((e) => e.type === 'file:begin' || e.type === 'file:loaded'));
          fr.finish(reason);
        } else if (cancelled()) {
          // Stopped at once by the second Ctrl-C: not a failure of the file.
          if (!fr.loaded) fr.notRunWhole(reason);
          if (fr.begun) fr.finish(reason);
        } else {
          fr.crashed(outcome.error, outcome.aborted);
        }
      }
    }),
  );
}
