// GitHub Actions (GITHUB_ACTIONS=true): every failure as an `::error file=…,line=…::` workflow command, its path
// relative to the repository (GITHUB_WORKSPACE), and a markdown summary appended to GITHUB_STEP_SUMMARY. Both are
// made from the run record, so `bulkhead merge` writes them for merged shards as a run does.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedFile, RunRecord } from '../plan/record.js';
import type { SerializedError } from '../protocol/messages.js';
import { describeReasons } from '../protocol/messages.js';
import { insight, workersText } from '../plan/insight.js';

export interface GitHubTarget {
  /** GITHUB_WORKSPACE: annotation paths are relative to it (else to the project root). */
  workspace: string | null;
  /** GITHUB_STEP_SUMMARY: the file the markdown summary is appended to, if any. */
  stepSummary: string | null;
}

/** What GITHUB_* in the environment asks for; null when not on GitHub Actions. */
export function githubTarget(env: NodeJS.ProcessEnv): GitHubTarget | null {
  if (env['GITHUB_ACTIONS'] !== 'true') return null;
  const given = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);
  return { workspace: given(env['GITHUB_WORKSPACE']), stepSummary: given(env['GITHUB_STEP_SUMMARY']) };
}

// The escaping of GitHub's toolkit (@actions/core): data keeps lines as %0A; a property also escapes : and ,.
const data = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const property = (s: string): string => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** The line of `file` in a stack (a hook's failure has no declared line of its own), or null. */
function lineInStack(stack: string | undefined, file: string): number | null {
  if (stack === undefined) return null;
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(?:^|[\\s(/])${escaped}:(\\d+)(?::\\d+)?`, 'm').exec(stack);
  return m === null ? null : Number(m[1]);
}

function annotation(where: string, line: number | null, title: string, error: SerializedError | undefined): string {
  const message = error === undefined ? 'failed' : `${error.name}: ${error.message}`;
  const props = [`file=${property(where)}`, ...(line !== null ? [`line=${line}`] : []), `title=${property(title)}`];
  return `::error ${props.join(',')}::${data(message)}\n`;
}

/** One `::error` line per failed test, hook and file failure. */
export function annotations(record: RunRecord, root: string, gh: GitHubTarget): string {
  const base = gh.workspace ?? root;
  const rel = (file: string): string => path.relative(base, path.resolve(root, file)).split(path.sep).join('/');
  let out = '';
  for (const f of files(record)) {
    for (const t of f.tests) {
      if (t.state === 'failed') out += annotation(rel(f.file), t.line ?? lineInStack(t.error?.stack, f.file), t.title, t.error);
    }
    for (const x of f.failures) out += annotation(rel(f.file), lineInStack(x.error.stack, f.file), x.title, x.error);
  }
  return out;
}

function files(record: RunRecord): RecordedFile[] {
  return record.slots.flatMap((s) => s.files);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown of the step summary: counts, failures, flaky tests, rebuilds, where the time went, the replay. */
export function stepSummary(record: RunRecord, replayCommand: string | null): string {
  const o = record.outcome;
  const lines = ['### bulkhead', '', '| passed | failed | skipped | not run | flaky | rebuilds |', '|---|---|---|---|---|---|'];
  lines.push(`| ${o.passed} | ${o.failed} | ${o.skipped} | ${o.notRun} | ${o.flaky} | ${record.rebuilds.length} |`, '');
  const all = files(record);
  const failures = all.flatMap((f) => [
    ...f.tests.filter((t) => t.state === 'failed').map((t) => ({ file: f.file, title: t.title, error: t.error })),
    ...f.failures.map((x) => ({ file: f.file, title: x.title, error: x.error as SerializedError | undefined })),
  ]);
  if (failures.length > 0) {
    lines.push('#### Failures', '', '| file | test | error |', '|---|---|---|');
    for (const x of failures) lines.push(`| ${cell(x.file)} | ${cell(x.title)} | ${cell(x.error === undefined ? 'failed' : `${x.error.code !== undefined ? `${x.error.code} ` : ''}${x.error.message}`.slice(0, 300))} |`);
    lines.push('');
  }
  const flaky = all.flatMap((f) => f.tests.filter((t) => t.flaky).map((t) => `- ${f.file}: ${t.title} (passed on attempt ${t.attempts})`));
  if (flaky.length > 0) lines.push('#### Flaky', '', ...flaky, '');
  if (record.rebuilds.length > 0) {
    lines.push('#### Connection rebuilds', '');
    for (const r of record.rebuilds) lines.push(`- w${r.slot} gen ${r.generation} in ${r.file}, after ${r.culprit.kind} "${r.culprit.title}": ${describeReasons(r.reasons)}${r.sqlstate !== undefined ? ` (${r.sqlstate})` : ''}`);
    lines.push('');
  }
  lines.push(...timeSection(record));
  if (replayCommand !== null) lines.push(`Replay this run: \`${replayCommand}\``, '');
  return `${lines.join('\n')}\n`;
}

/** The slowest files and tests and the time line with the suggested -w: the summary's numbers (plan/insight.ts). */
function timeSection(record: RunRecord): string[] {
  const x = insight(record);
  if (x.files.length === 0) return [];
  const runs = (n: number): string => (n > 1 ? ` (mean of ${n})` : '');
  const lines = ['#### Slowest files', '', '| file | seconds |', '|---|---|', ...x.files.map((f) => `| ${cell(f.file)}${runs(f.runs)} | ${f.seconds.toFixed(2)} |`), ''];
  if (x.tests.length > 0) lines.push('#### Slowest tests', '', '| file | test | seconds |', '|---|---|---|', ...x.tests.map((t) => `| ${cell(t.file)} | ${cell(t.title)}${runs(t.runs)} | ${t.seconds.toFixed(2)} |`), '');
  lines.push(`Time: ${cell(workersText(x))}`, '');
  return lines;
}

/** Writes the annotations to `out` and appends the step summary, as GITHUB_* asks. */
export function reportToGitHub(record: RunRecord, root: string, gh: GitHubTarget, out: NodeJS.WritableStream, replayCommand: string | null): void {
  out.write(annotations(record, root, gh));
  if (gh.stepSummary !== null) appendFileSync(gh.stepSummary, stepSummary(record, replayCommand));
}
