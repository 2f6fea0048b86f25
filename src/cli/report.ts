// `bulkhead report [record]`: the HTML report of a run record (default .bulkhead/last-run.json, a merged one too)
// to --html (default .bulkhead/report.html), and with --trace the same timeline as Chrome trace events. It reads a
// record, not a suite: no configuration, no server.
import path from 'node:path';
import { EXIT, errors } from '../errors.js';
import { readRecord } from '../plan/record.js';
import { writeReports } from '../reporters/documents.js';
import { LAST_RUN } from '../run/session.js';
import { takeBulkheadFlags } from './flags.js';

export const REPORT_FILE = path.join('.bulkhead', 'report.html');

export function reportCommand(argv: readonly string[], out: NodeJS.WritableStream, root = process.cwd()): number {
  const { flags, rest } = takeBulkheadFlags(['report', ...argv]);
  const unknown = rest.filter((a) => a.startsWith('-'));
  if (unknown.length > 0) throw errors.usage(`"bulkhead report" does not take ${unknown.join(', ')}; it takes a run record, --html <file> and --trace <file>.`);
  if (rest.length > 1) throw errors.usage(`"bulkhead report" reads one run record, not ${rest.length}; merge shards first: bulkhead merge ${rest.join(' ')} --record merged.json, then bulkhead report merged.json.`);
  const recordFile = path.resolve(root, rest[0] ?? LAST_RUN);
  const record = readRecord(recordFile);
  const html = path.resolve(root, flags.html ?? REPORT_FILE);
  out.write(writeReports(record, root, { html, trace: flags.trace === undefined ? null : path.resolve(root, flags.trace), record: recordFile }));
  return EXIT.ok;
}
