// Spec globs -> the sorted list of files to run, found with mocha's own file collector so that spec, extension,
// ignore and recursive mean exactly what they mean to mocha.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { errors } from '../errors.js';

const require = createRequire(import.meta.url);
const collectFiles = require('mocha/lib/cli/collect-files.cjs') as (opts: {
  spec: string[];
  extension: string[];
  ignore: string[];
  recursive: boolean;
  sort: boolean;
  file: string[];
  allowEmpty: boolean;
}) => { files: string[]; unmatchedFiles: { pattern: string }[] };

export interface SpecFile {
  /** Absolute path, what the worker loads. */
  path: string;
  /** Path relative to the project root with forward slashes: what reports and records show. */
  rel: string;
}

export function discover(config: Config): SpecFile[] {
  const cwd = process.cwd();
  let files: string[];
  // mocha's collector prints its own warnings; they become part of our one-paragraph error instead.
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' ').replace(/\x1b\[[0-9;]*m/g, ''));
  try {
    process.chdir(config.root);
    files = collectFiles({ spec: [...config.spec], extension: [...config.extension], ignore: [...config.ignore], recursive: config.recursive, sort: false, file: [], allowEmpty: true }).files;
  } catch (err) {
    throw errors.usage(`Cannot collect the spec files: ${err instanceof Error ? err.message : String(err)}.`, err);
  } finally {
    console.warn = warn;
    process.chdir(cwd);
  }
  // --file setup files load before every spec; they are not specs themselves.
  const setup = new Set(config.mocha.files);
  const unique = [...new Set(files.map((f) => path.resolve(config.root, f)))].filter((f) => !setup.has(f));
  if (unique.length === 0) throw errors.noFiles(config.spec);
  for (const w of warnings) if (!/No test files found/.test(w)) warn(`bulkhead: ${w}`);
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
