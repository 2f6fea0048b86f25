// Shared isolation: every slot uses the target as it is. Nothing is created, so nothing is dropped; only the
// sessions the specs leaked, traced by their slot's application_name, are found and ended.
import type { Context, Provisioned } from './types.js';
import { sharedSlot, taggedLeaks } from './slots.js';
import { teardownOnce } from './teardown.js';

export function provisionShared(ctx: Context): Provisioned {
  const { admin, opts, base } = ctx;
  const leaks = taggedLeaks(admin, base);
  return {
    slots: Array.from({ length: opts.workers }, (_, i) => sharedSlot(opts.target, i + 1, base)),
    templateReused: false,
    setupRan: false,
    timings: { template: 0, perSlot: Array.from({ length: opts.workers }, () => 0), slots: 0 },
    reclone: async () => undefined,
    // The slots share one database: what they leaked is ended at teardown, with the rest.
    release: () => Promise.resolve(),
    leaks: (slot, ownPids, held) => leaks.find(slot, ownPids, held),
    closeLeaks: () => admin.serial(leaks.close),
    teardown: teardownOnce(admin, { closeLeaks: leaks.close, leftOpen: 'the specs left open' }),
  };
}
