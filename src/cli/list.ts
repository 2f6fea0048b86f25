// `bulkhead list`: the spec files a run with the same arguments would plan (after --shard), one per line, longest
// first when durations are recorded; --json adds each file's recorded seconds. An engine that hands out work itself
// can read it and run `bulkhead FILES...`.
import type { Config } from '../config/types.js';
import { EXIT } from '../errors.js';
import { discover } from '../plan/discover.js';
import { plan } from '../plan/schedule.js';
import { select } from '../plan/select.js';

export function listCommand(config: Config, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const selection = select(config, discover(config, (line) => err.write(`${line}\n`)));
  const p = plan(selection.files, { workers: config.workers, seed: config.seed, repeat: 1, weights: selection.weights });
  const files = (p.kind === 'queue' ? p.entries : p.slots.flat()).map((e) => e.file.rel);
  if (selection.describe !== null) err.write(`bulkhead: ${selection.describe}\n`);
  if (config.json) {
    const seconds = (f: string): number | null => selection.timings.get(f) ?? null;
    out.write(`${JSON.stringify({ shard: selection.shard === null ? null : { index: selection.shard.index, total: selection.shard.total, source: selection.shard.source, plan: selection.shard.plan }, files: files.map((file) => ({ file, seconds: seconds(file) })) }, null, 1)}\n`);
  } else {
    for (const f of files) out.write(`${f}\n`);
  }
  return EXIT.ok;
}
