// Spec globs -> the sorted list of files to run, found with mocha's own file collector so that spec, extension,
// ignore and recursive mean exactly what they mean to mocha.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { errors } from '../errors.js';

const require = createRequire(import.meta.url);
// mocha's own file lookup (what its collect-files calls for each spec), and the glob matcher it filters --ignore
// with, taken from mocha's own dependencies so both read patterns exactly as mocha does.
const { lookupFiles } = require('mocha/lib/cli/lookup-files.js') as { lookupFiles(filepath: string, extensions: string[], recursive: boolean): string[] | string | undefined };
const { minimatch } = createRequire(require.resolve('mocha/lib/cli/collect-files.cjs'))('minimatch') as { minimatch(path: string, pattern: string, options: { windowsPathsNoEscape: boolean }): boolean };

export interface SpecFile {
  /** Absolute path, what the worker loads. */
  path: string;
  /** Path relative to the project root with forward slashes: what reports and records show. */
  rel: string;
}

/**
 * The spec files under `config.root`, as mocha's collect-files finds them from that directory, without changing
 * the process's working directory: every spec and --ignore pattern is made absolute against the root first (a
 * glob stays a glob). A pattern that matches nothing is a warning when others match, and the error when none do.
 */
export function discover(config: Config, warn: (line: string) => void): SpecFile[] {
  const found: string[] = [];
  const unmatched: string[] = [];
  const ignore = config.ignore.map((pattern) => path.resolve(config.root, pattern));
  for (const spec of config.spec) {
    let files: string[];
    try {
      files = [lookupFiles(path.resolve(config.root, spec), [...config.extension], config.recursive) ?? []].flat();
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_MOCHA_NO_FILES_MATCH_PATTERN') {
        unmatched.push(spec);
        continue;
      }
      throw errors.usage(`Cannot collect the spec files: ${err instanceof Error ? err.message : String(err)}.`, err);
    }
    found.push(...files.filter((f) => ignore.every((pattern) => !minimatch(f, pattern, { windowsPathsNoEscape: true }))));
  }
  // --file setup files load before every spec; they are not specs themselves.
  const setup = new Set(config.mocha.files);
  const unique = [...new Set(found.map((f) => path.resolve(config.root, f)))].filter((f) => !setup.has(f));
  if (unique.length === 0) throw errors.noFiles(config.spec);
  for (const spec of unmatched) warn(`bulkhead: Warning: Cannot find any files matching pattern "${spec}"`);
  // Sorted by root-relative path, so every machine plans the same order.
  return unique
    .map((p) => ({ path: p, rel: path.relative(config.root, p).split(path.sep).join('/') }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * The files a run record names (root-relative), for replay, bisect and --last-failed: the record says which files
 * ran, whatever spec arguments or configuration that run was given.
 */
export function recordedFiles(root: string, rels: Iterable<string>): SpecFile[] {
  const files: SpecFile[] = [];
  for (const rel of new Set(rels)) {
    const file = path.resolve(root, rel);
    if (!existsSync(file)) {
      throw errors.usage(`The recorded file ${rel} does not exist under ${root}; run from the project root the record was made in, with the same files.`);
    }
    files.push({ path: file, rel });
  }
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
