// Which mocha runs the specs: the project's own copy when it has one (a spec that imports `describe` from 'mocha',
// a reporter that extends mocha's Base, and `mocha --require bulkhead/register` all meet that copy), else bulkhead's.
// mocha 11 names its internal files `.js` and mocha 12 `.cjs`; both are read here and nowhere else.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type MochaType from 'mocha';

/** The mocha majors bulkhead is tested with (package.json peerDependencies says the same). */
export const SUPPORTED_MOCHA = '>=11 <13';
const MAJORS = [11, 12];

export interface MochaCopy {
  /** The package directory, symlinks resolved: two paths to one copy compare equal. */
  dir: string;
  version: string;
}

export type MochaChoice =
  | { ok: true; copy: MochaCopy; project: boolean }
  | { ok: false; found: MochaCopy; own: MochaCopy };

const require = createRequire(import.meta.url);

function readCopy(packageJson: string): MochaCopy {
  const dir = realpathSync(path.dirname(packageJson));
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  return { dir, version: typeof version === 'string' ? version : 'unknown' };
}

/** bulkhead's own mocha (its dependency). */
let own: MochaCopy | null = null;
export function ownMocha(): MochaCopy {
  own ??= readCopy(require.resolve('mocha/package.json'));
  return own;
}

/** The mocha the project at `root` resolves, as `require('mocha')` in its files would, or null when it has none. */
export function projectMocha(root: string): MochaCopy | null {
  try {
    return readCopy(createRequire(path.join(root, 'package.json')).resolve('mocha/package.json'));
  } catch {
    return null;
  }
}

/** The mocha package a file belongs to (mocha's own bin or CLI file: the copy that is running), or null. */
export function mochaOf(file: string): MochaCopy | null {
  let dir: string;
  try {
    dir = path.dirname(realpathSync(file));
  } catch {
    return null;
  }
  for (; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'mocha') return readCopy(pkg);
    } catch {
      // An unreadable package.json is not mocha's; keep looking upwards.
    }
  }
  return null;
}

export function supportedMocha(copy: MochaCopy): boolean {
  return MAJORS.includes(Number(/^(\d+)\./.exec(copy.version)?.[1]));
}

/** The project's mocha when it has one it can use, else bulkhead's own; a project copy outside the range is refused. */
export function chooseMocha(root: string): MochaChoice {
  const found = projectMocha(root);
  if (found === null) return { ok: true, copy: ownMocha(), project: false };
  return supportedMocha(found) ? { ok: true, copy: found, project: true } : { ok: false, found, own: ownMocha() };
}

/** The one paragraph for a copy bulkhead cannot use, naming both copies and the fix. */
export function unsupportedMochaMessage(found: MochaCopy, own: MochaCopy, role: string): string {
  return `${role} is mocha ${found.version} (${found.dir}), which bulkhead does not support: it runs mocha ${SUPPORTED_MOCHA.replace(' <', ' and <')} ` +
    `(its own copy is mocha ${own.version}, ${own.dir}). Install a supported mocha in the project ` +
    `(npm install --save-dev mocha@12, or mocha@11), or remove the project's mocha to use bulkhead's.`;
}

export interface MochaLib {
  copy: MochaCopy;
  Mocha: typeof MochaType;
  /** One of mocha's modules by path without extension (`lib/cli/options`), whichever extension the copy uses. */
  load<T>(base: string): T;
}

const libs = new Map<string, MochaLib>();
let selected: string | null = null;

function file(dir: string, base: string): string {
  const cjs = path.join(dir, `${base}.cjs`);
  return existsSync(cjs) ? cjs : path.join(dir, `${base}.js`);
}

/** A copy's classes and CLI modules, loaded once per copy. */
export function mochaLib(dir: string): MochaLib {
  let lib = libs.get(dir);
  if (lib === undefined) {
    const load = <T>(base: string): T => require(file(dir, base)) as T;
    const loaded = load<typeof MochaType | { default: typeof MochaType }>('lib/mocha');
    const Mocha = typeof loaded === 'function' ? loaded : loaded.default;
    lib = { copy: readCopy(path.join(dir, 'package.json')), Mocha, load };
    libs.set(dir, lib);
  }
  return lib;
}

/**
 * The copy this process runs specs and reporters with, chosen once per command (the main thread from the project
 * root, a worker from its WorkerData); bulkhead's own until then.
 */
export function useMocha(dir: string): void {
  selected = dir;
}

export function mochaInUse(): MochaLib {
  return mochaLib(selected ?? ownMocha().dir);
}
