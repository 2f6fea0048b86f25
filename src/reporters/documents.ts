// The run's picture as files: the HTML report and the Chrome trace, written from a record at the end of a run
// (--html, --trace) or by `bulkhead report`, each named in the closing note with its size on disk; and GitHub's
// annotations and step summary at the end of a run.
import { statSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../plan/record.js';
import { htmlReport } from './html.js';
import { chromeTrace } from './trace.js';
import { writeDocument } from './set.js';
import { reportToGitHub } from './github.js';
import type { Config } from '../config/types.js';

/** Writes the page (and the trace) of a record; returns the closing note naming each file with its size. */
export function writeReports(record: RunRecord, root: string, files: { html: string | null; trace: string | null; record: string }): string {
  let note = '';
  const size = (file: string): string => `${Math.max(1, Math.round(statSync(file).size / 1024))} KB`;
  if (files.html !== null) {
    writeDocument({ name: 'html', file: files.html }, htmlReport(record, path.relative(root, files.record)), process.stdout);
    note += `bulkhead: HTML report written to ${path.relative(root, files.html) || files.html} (${size(files.html)})\n`;
  }
  if (files.trace !== null) {
    writeDocument({ name: 'trace', file: files.trace }, chromeTrace(record), process.stdout);
    note += `bulkhead: Chrome trace written to ${path.relative(root, files.trace) || files.trace} (${size(files.trace)}; open it in Perfetto or chrome://tracing)\n`;
  }
  return note;
}

/**
 * What a run writes from its record after the reporters: GitHub's notes, the report and the trace. A file that
 * cannot be written is a warning, not a lost run (its summary, record and exit status are kept).
 */
export function endOfRunDocuments(config: Config, record: RunRecord, recordFile: string, info: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  const warn = (what: string, error: unknown): void => void err.write(`bulkhead: warning: could not write ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
  if (config.github !== null) {
    try {
      reportToGitHub(record, config.root, config.github, info, config.command === 'run' ? `bulkhead replay ${path.relative(config.root, recordFile)}` : null);
    } catch (error) {
      warn('the GitHub step summary', error);
    }
  }
  if (config.html === null && config.trace === null) return;
  try {
    info.write(writeReports(record, config.root, { html: config.html, trace: config.trace, record: recordFile }));
  } catch (error) {
    warn('the report', error);
  }
}
