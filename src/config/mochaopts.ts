// mocha's options beyond what each worker's Mocha is given: misspelt keys in .mocharc.*, flags bulkhead cannot
// honour, the one-and-done lists, colour, and the Node options for the worker threads.
import { createRequire } from 'node:module';
import { errors } from '../errors.js';
import type { BulkheadFlags } from '../cli/flags.js';
import { MOCHA_OPTIONS } from '../cli/options.js';
import type { Config } from './types.js';
import { didYouMean } from './suggest.js';
import { list } from './values.js';
import { checkWorkerOptions, nodeOptions } from './nodeoptions.js';

const require = createRequire(import.meta.url);
const metadata = require('mocha/lib/cli/run-option-metadata.cjs') as {
  types: Record<string, string[]>;
  aliases: Record<string, string[]>;
  isMochaFlag(flag: string): boolean;
};
const { isNodeFlag } = require('mocha/lib/cli/node-flags.cjs') as { isNodeFlag(flag: string): boolean };

type MochaArgs = Record<string, unknown>;

/** Keys mocha's loader adds itself. */
const LOADER_KEYS = new Set(['_', '$0', 'config', 'package', 'opts']);
const MOCHA_NAMES = [...Object.values(metadata.types).flat(), ...Object.values(metadata.aliases).flat()].filter((n) => n.length > 1);

/** A key in .mocharc.* (or package.json "mocha") that mocha has no option for: mocha ignores it, we say so. */
function checkKeys(m: MochaArgs): void {
  for (const key of Object.keys(m)) {
    if (LOADER_KEYS.has(key) || metadata.isMochaFlag(key) || isNodeFlag(key) || /^reporter-options?\./.test(key)) continue;
    const hint = didYouMean(key, MOCHA_NAMES).trim();
    throw errors.config(key, 'mocha has no such option (in .mocharc.* or the "mocha" key of package.json)', `${hint === '' ? 'Remove it' : `${hint} Rename it, or remove it`}; "mocha --help" lists mocha's options.`);
  }
}

/** What mocha accepts but bulkhead cannot honour, and what cannot go with the command. */
export function checkMochaOptions(m: MochaArgs, flags: BulkheadFlags): void {
  checkKeys(m);
  for (const o of MOCHA_OPTIONS) {
    const flag = o.names[0] as string;
    if (o.unsupported !== undefined && m[flag] !== undefined && m[flag] !== false) {
      throw errors.usage(`--${flag} (or "${flag}" in the mocha config) is not supported by bulkhead, which runs each spec file in its own Mocha on a worker. ${o.unsupported}`);
    }
  }
  if (m['dry-run'] === true && flags.command !== 'run') {
    throw errors.usage(`--dry-run cannot be combined with "bulkhead ${flags.command}", which compares real outcomes; drop --dry-run.`);
  }
}

/**
 * Colour for the reporters: -c/--color and -C/--no-colors first (mocha's loader leaves the last one given in
 * `color`), then NO_COLOR (https://no-color.org: set and not empty), which also beats FORCE_COLOR; otherwise mocha
 * decides (a terminal, FORCE_COLOR, MOCHA_COLORS).
 */
export function colorChoice(m: MochaArgs, env: NodeJS.ProcessEnv): boolean | null {
  if (typeof m['color'] === 'boolean') return m['color'];
  if (typeof m['colors'] === 'boolean') return m['colors'];
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return null;
}

export function mochaExtras(m: MochaArgs, env: NodeJS.ProcessEnv): Pick<Config, 'list' | 'nodeOptions' | 'color'> {
  const options = nodeOptions(m, list(m['node-option']), isNodeFlag, (k) => metadata.isMochaFlag(k));
  const listing = m['list-reporters'] === true ? 'reporters' : m['list-interfaces'] === true ? 'interfaces' : null;
  if (listing === null) checkWorkerOptions(options);
  return { list: listing, nodeOptions: options, color: colorChoice(m, env) };
}
