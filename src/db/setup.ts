// The user's setup: a .sql file, a directory of migrations applied in name order, or a module exporting
// setup(client). Its content hash decides whether a template built by an earlier run can be reused.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { errors } from '../errors.js';
import { Redactor } from './redact.js';

const SQL = /\.sql$/i;
const MODULE = /\.(m|c)?(j|t)s$/i;
const TYPESCRIPT = /\.(m|c)?ts$/i;

export interface SetupStep {
  file: string;
  /** The file's base name: shown in messages and hashed with its content. */
  label: string;
  kind: 'sql' | 'module';
  content: string;
}

export interface SetupPlan {
  steps: SetupStep[];
  /** Changes when any step's name, order or content changes. */
  hash: string;
}

/** Reads the setup and hashes it; every problem with the path itself is reported before the server is touched. */
export async function loadSetup(setup: string, root: string): Promise<SetupPlan> {
  const file = path.resolve(root, setup);
  const info = await stat(file).catch(() => null);
  if (info === null) throw errors.setupInvalid(setup, `${file} does not exist`);
  let steps: SetupStep[];
  if (info.isDirectory()) {
    // Plain code-unit order, not localeCompare: the same order on every machine and locale.
    const entries = (await readdir(file, { withFileTypes: true }))
      .filter((e) => e.isFile() && (SQL.test(e.name) || MODULE.test(e.name)) && !e.name.endsWith('.d.ts'))
      .map((e) => e.name)
      .sort();
    if (entries.length === 0) throw errors.setupInvalid(setup, 'the directory holds no .sql, .js, .mjs or .ts files');
    steps = await Promise.all(entries.map((name) => step(path.join(file, name), name)));
  } else if (SQL.test(file) || MODULE.test(file)) {
    // The base name, not the path: the hash must not change with the directory bulkhead is started from.
    steps = [await step(file, path.basename(file))];
  } else {
    throw errors.setupInvalid(setup, 'it is neither a directory, a .sql file nor a JavaScript or TypeScript module');
  }
  const hash = createHash('sha256').update('bulkhead-setup-v1\0');
  for (const s of steps) hash.update(`${s.label}\0${s.content}\0`);
  return { steps, hash: hash.digest('hex').slice(0, 16) };
}

async function step(file: string, label: string): Promise<SetupStep> {
  return { file, label, kind: SQL.test(file) ? 'sql' : 'module', content: await readFile(file, 'utf8') };
}

/**
 * Applies every step on `client`, in order. A module's own imports are not part of the hash: a module that
 * pulls migrations from elsewhere should be replaced by the migrations directory itself.
 */
export async function runSetup(client: pg.Client, plan: SetupPlan): Promise<void> {
  // A failing step's message may quote the connection's password; pg has it from the target (or PGPASSWORD).
  const redactor = new Redactor({ password: client.password });
  for (const s of plan.steps) {
    if (s.kind === 'sql') {
      // One simple-protocol query per file: multi-statement files and $$-quoted bodies work as in psql -f.
      await client.query(s.content).catch((err: unknown) => {
        throw errors.setupFailed(`${s.label}${sqlLine(s.content, err)}`, clean(err, redactor));
      });
      continue;
    }
    const fn = await loadSetupFunction(s, redactor);
    try {
      await fn(client);
    } catch (err) {
      throw errors.setupFailed(`${s.label} (its setup(client) threw)`, clean(err, redactor));
    }
  }
}

type SetupFunction = (client: pg.Client) => unknown;

async function loadSetupFunction(s: SetupStep, redactor: Redactor): Promise<SetupFunction> {
  // The content hash in the URL makes an edited module load afresh within one process.
  const url = `${pathToFileURL(s.file).href}?bulkhead=${createHash('sha256').update(s.content).digest('hex').slice(0, 12)}`;
  let mod: { setup?: unknown; default?: unknown };
  try {
    if (TYPESCRIPT.test(s.file)) {
      const { tsImport } = (await import('tsx/esm/api')) as { tsImport(specifier: string, parent: string): Promise<unknown> };
      mod = (await tsImport(url, import.meta.url)) as typeof mod;
    } else {
      mod = (await import(url)) as typeof mod;
    }
  } catch (err) {
    throw errors.setupFailed(`${s.label} (loading the module)`, clean(err, redactor));
  }
  const def = mod.default as { setup?: unknown } | undefined;
  const fn = mod.setup ?? (typeof def === 'function' ? def : def?.setup);
  if (typeof fn !== 'function') throw errors.setupInvalid(s.label, 'the module exports no setup(client) function (named "setup" or default)');
  return fn as SetupFunction;
}

/** ":line" of a server error inside a SQL file, from the character position PostgreSQL reports. */
function sqlLine(content: string, err: unknown): string {
  const position = Number((err as { position?: unknown } | null)?.position);
  if (!Number.isInteger(position) || position < 1) return '';
  return `:${content.slice(0, position - 1).split('\n').length}`;
}

function clean(err: unknown, redactor: Redactor): Error {
  const message = redactor.redact(err instanceof Error ? err.message : String(err));
  return Object.assign(new Error(message, { cause: err }), { code: (err as { code?: unknown } | null)?.code });
}
