// The arguments left after bulkhead's own flags, checked and put in the one form mocha's option loader reads
// the same way for every flag: `--flag=value`. mocha's loader (yargs) reads `--import tsx` as a boolean
// `--import` and a spec "tsx", since --import is a Node flag it has no type for, and the unknown-flag check below
// has to see `-t40` as `-t` with the value 40, as yargs does.
import { createRequire } from 'node:module';
import { errors } from '../errors.js';
import { BULKHEAD_OPTIONS, MOCHA_OPTIONS } from './options.js';
import { didYouMean } from '../config/suggest.js';

const require = createRequire(import.meta.url);
const metadata = require('mocha/lib/cli/run-option-metadata.cjs') as {
  types: Record<'array' | 'boolean' | 'number' | 'string', string[]>;
  aliases: Record<string, string[]>;
  isMochaFlag(flag: string): boolean;
};
const { isNodeFlag } = require('mocha/lib/cli/node-flags.cjs') as { isNodeFlag(flag: string): boolean };

/** Node flags that bulkhead reads (and so must parse with their value): --import loads like --require. */
const NODE_VALUE_FLAGS = ['import'];

/** Every name (long, alias, short) of a mocha option that takes a value, and of the Node flags above. */
const VALUE_NAMES = new Set<string>(NODE_VALUE_FLAGS);
/** Single-letter aliases of mocha's boolean options, which yargs also accepts bundled (-bA). */
const BOOLEAN_SHORTS = new Set<string>();
for (const [type, names] of Object.entries(metadata.types)) {
  for (const name of names) {
    const all = [name, ...(metadata.aliases[name] ?? [])];
    if (type === 'boolean') for (const a of all) if (a.length === 1) BOOLEAN_SHORTS.add(a);
    if (type !== 'boolean') for (const a of all) VALUE_NAMES.add(a);
  }
}

/** Every long name a user may mean: mocha's options and aliases, and bulkhead's own. */
const LONG_NAMES = [
  ...Object.values(metadata.types).flat(),
  ...Object.values(metadata.aliases).flat(),
  ...BULKHEAD_OPTIONS.flatMap((o) => o.names.map((n) => n.replace(/^-+/, ''))),
].filter((n) => n.length > 1);

function unknown(name: string): Error {
  const hint = name.startsWith('--') ? didYouMean(name, LONG_NAMES, '--') : '';
  return errors.usage(`Unknown option ${name}.${hint}`);
}

function isValue(arg: string | undefined): arg is string {
  return arg !== undefined && arg !== '--' && (!arg.startsWith('-') || /^-\d/.test(arg));
}

function known(name: string): boolean {
  const bare = name.replace(/^-+/, '');
  const positive = bare.startsWith('no-') ? bare.slice(3) : bare;
  return metadata.isMochaFlag(positive) || /^reporter-options?\./.test(bare) || isNodeFlag(positive);
}

/**
 * Rejects unknown flags (mocha ignores them; a typo in a test command should not pass silently) and rewrites
 * value-taking flags to `--flag=value`: `--import tsx`, `-t40`, `-t 40`, `-R=dot`.
 */
export function normalizeMochaArgs(rest: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--') {
      out.push(...rest.slice(i));
      break;
    }
    if (!arg.startsWith('-') || /^-\d/.test(arg)) {
      out.push(arg);
      continue;
    }
    // mocha 8 removed .opts files; asking for none is harmless, naming one is a mistake worth a message.
    if (arg === '--no-opts') continue;
    if (arg === '--opts' || arg.startsWith('--opts=')) {
      throw errors.usage('--opts is not supported: mocha 8 removed .opts files. Move the options into a .mocharc.* file (or the "mocha" key of package.json).');
    }
    const long = arg.startsWith('--');
    const eq = arg.indexOf('=');
    if (long && eq > 0) {
      const name = arg.slice(0, eq);
      if (!known(name)) throw unknown(name);
      out.push(arg);
      continue;
    }
    // -t40, -t=40: a single-letter option that takes a value carries it attached, as yargs allows.
    const short = !long && arg.length > 2 ? arg.slice(1, 2) : null;
    if (short !== null && VALUE_NAMES.has(short)) {
      // yargs reads "-t=40" as the value "=40", so the value goes as its own argument.
      out.push(`-${short}`, arg.slice(2).replace(/^=/, ''));
      continue;
    }
    if (short !== null) {
      // -bA: bundled boolean letters.
      const letters = arg.slice(1).split('');
      if (!letters.every((l) => BOOLEAN_SHORTS.has(l))) throw unknown(arg);
      out.push(arg);
      continue;
    }
    if (!known(arg)) throw unknown(arg);
    const bare = arg.replace(/^-+/, '');
    const next = rest[i + 1];
    if (VALUE_NAMES.has(bare)) {
      if (!isValue(next)) throw errors.usage(`${arg} needs a value, for example ${arg} ${exampleFor(bare)}.`);
      if (long) out.push(`${arg}=${next}`);
      else out.push(arg, next);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** The example a "needs a value" error gives, from the option table. */
function exampleFor(name: string): string {
  return MOCHA_OPTIONS.find((o) => o.names.includes(name))?.example ?? '<value>';
}
