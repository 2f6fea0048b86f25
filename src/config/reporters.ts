// --reporter, given any number of times, each `name[:file]`. mocha's own loader keeps only the last --reporter (and
// the last entry of an rc file's list), so the values are read here from the normalised argv and, when the command
// line names none, from the raw rc file or package.json, before mocha's loader folds them.
import { createRequire } from 'node:module';
import path from 'node:path';
import { errors } from '../errors.js';
import type { ReporterChoice } from './types.js';
import { list } from './values.js';

const require = createRequire(import.meta.url);
const rc = require('mocha/lib/cli/options.cjs') as { loadRc(args: Record<string, unknown>): Record<string, unknown> | undefined; loadPkgRc(args: Record<string, unknown>): Record<string, unknown> };

// mocha's terminal reporters: bulkhead's own lines (start, rebuilds, the summary) may share their stdout, and two
// of them may share it. Any other reporter's stdout is a document (json, tap, xunit, junit, or a third-party format
// bulkhead cannot know), which a line of anyone else's would make unparseable.
export const TERMINAL_REPORTERS = new Set(['spec', 'dot', 'list', 'min', 'progress', 'landing', 'nyan', 'base', 'github-actions']);

/** The --reporter values of a normalised argv (`--reporter=x`, `--reporters=x`, `-R x`), in order. */
function fromArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    const long = /^--reporters?=(.*)$/.exec(arg);
    if (long !== null) out.push(long[1] as string);
    else if (arg === '-R' && argv[i + 1] !== undefined) out.push(argv[++i] as string);
  }
  return out;
}

/** The rc file's (or package.json's) own list, which mocha's loader would cut to its last entry. */
function fromRc(argv: readonly string[]): string[] {
  if (argv.includes('--no-config')) return [];
  const config = argv.find((a) => a.startsWith('--config='))?.slice('--config='.length);
  const pkg = argv.find((a) => a.startsWith('--package='))?.slice('--package='.length);
  try {
    const raw = rc.loadRc(config === undefined ? {} : { config })?.['reporter'] ?? (argv.includes('--no-package') ? undefined : rc.loadPkgRc(pkg === undefined ? {} : { package: pkg })['reporter']);
    return Array.isArray(raw) ? raw.map(String) : [];
  } catch {
    // mocha's own loader reads the same files next and reports what is wrong with them.
    return [];
  }
}

/** `name` or `name:file`; a file is resolved from the project root. */
export function parseReporter(value: string, root: string): ReporterChoice {
  const colon = value.indexOf(':');
  const name = (colon < 0 ? value : value.slice(0, colon)).trim();
  const file = colon < 0 ? null : value.slice(colon + 1).trim();
  if (name === '') throw errors.usage(`--reporter "${value}" names no reporter; write --reporter <name> or --reporter <name>:<file>, for example --reporter junit:reports/junit.xml.`);
  if (file === '') throw errors.usage(`--reporter "${value}" has an empty destination after the colon; name the file (--reporter ${name}:reports/${name}.out) or drop the colon to write to stdout.`);
  return { name, file: file === null ? null : path.resolve(root, file) };
}

/** Every reporter of the run, checked: one destination each, at most one document on stdout. */
export function reporterChoices(argv: readonly string[], loaded: unknown, root: string): ReporterChoice[] {
  const given = fromArgv(argv);
  const values = given.length > 0 ? given : fromRc(argv);
  const choices = (values.length > 0 ? values : list(loaded).slice(-1)).map((v) => parseReporter(v, root));
  if (choices.length === 0) choices.push({ name: 'spec', file: null });
  const files = new Set<string>();
  for (const c of choices) {
    if (c.file === null) continue;
    if (files.has(c.file)) throw errors.usage(`Two reporters write to ${path.relative(root, c.file) || c.file}; give each reporter a file of its own.`);
    files.add(c.file);
  }
  const onStdout = choices.filter((c) => c.file === null);
  const document = onStdout.find((c) => !TERMINAL_REPORTERS.has(c.name));
  if (onStdout.length > 1 && document !== undefined) {
    throw errors.usage(`The reporter "${document.name}" writes a document to stdout, which another reporter's lines would garble; give it a file of its own: --reporter ${document.name}:reports/${document.name}.out.`);
  }
  return choices;
}
