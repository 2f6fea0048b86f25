// bulkhead's own command-line flags, taken out of argv before the rest goes to mocha's option loader
// (mocha would read -w as --watch and -j as --jobs).
import { errors } from '../errors.js';

export type Command = 'run' | 'replay' | 'bisect';

export interface BulkheadFlags {
  command: Command;
  /** The record file for replay and bisect. */
  recordArg?: string;
  workers?: string;
  configFile?: string;
  noConfigFile: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
  /** --shuffle: null asks for a fresh seed; a string is the seed given. */
  shuffle?: string | null;
  repeat?: string;
  untilFail?: string | null;
  failOnFlaky: boolean;
  record?: string;
  lastFailed: boolean;
  chaos?: string;
  test?: string;
  pair: boolean;
  embedded: boolean;
  isolation?: string;
  transaction: boolean;
  setup?: string;
  keepDatabases: boolean;
  allowAnyDatabase: boolean;
  /** --load-timeout <ms>: how long a spec file may take to load before its worker is terminated. */
  loadTimeout?: string;
}

type ValueKey = 'workers' | 'configFile' | 'repeat' | 'record' | 'chaos' | 'test' | 'isolation' | 'setup' | 'loadTimeout';
type BoolKey = 'noConfigFile' | 'verbose' | 'help' | 'version' | 'failOnFlaky' | 'lastFailed' | 'pair' | 'embedded' | 'transaction' | 'keepDatabases' | 'allowAnyDatabase';

const VALUE_FLAGS: Record<string, ValueKey> = {
  '--workers': 'workers',
  '-w': 'workers',
  '--jobs': 'workers',
  '-j': 'workers',
  '--config-file': 'configFile',
  '--repeat': 'repeat',
  '--record': 'record',
  '--chaos': 'chaos',
  '--test': 'test',
  '--isolation': 'isolation',
  '--setup': 'setup',
  '--load-timeout': 'loadTimeout',
};

const BOOL_FLAGS: Record<string, BoolKey> = {
  '--no-config-file': 'noConfigFile',
  '--verbose': 'verbose',
  '--help': 'help',
  '-h': 'help',
  '--version': 'version',
  '-V': 'version',
  '--fail-on-flaky': 'failOnFlaky',
  '--last-failed': 'lastFailed',
  '--pair': 'pair',
  '--embedded': 'embedded',
  '--transaction': 'transaction',
  '--keep-databases': 'keepDatabases',
  '--allow-any-database': 'allowAnyDatabase',
};

/** Flags whose value is optional and only given with "=" (--shuffle=42), so a following spec is not taken. */
const OPTIONAL_VALUE: Record<string, 'shuffle' | 'untilFail'> = { '--shuffle': 'shuffle', '--until-fail': 'untilFail' };

export function takeBulkheadFlags(argv: readonly string[]): { flags: BulkheadFlags; rest: string[] } {
  const flags: BulkheadFlags = {
    command: 'run',
    noConfigFile: false,
    verbose: false,
    help: false,
    version: false,
    failOnFlaky: false,
    lastFailed: false,
    pair: false,
    embedded: false,
    transaction: false,
    keepDatabases: false,
    allowAnyDatabase: false,
  };
  const rest: string[] = [];
  let args = [...argv];
  if (args[0] === 'replay' || args[0] === 'bisect') {
    flags.command = args[0];
    flags.recordArg = args[1] !== undefined && !args[1].startsWith('-') ? args[1] : undefined;
    if (flags.recordArg === undefined) throw errors.usage(`"bulkhead ${args[0]}" needs a run record, for example: bulkhead ${args[0]} .bulkhead/last-run.json`);
    args = args.slice(2);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    // -w4, -j=4: a short flag that takes a value may carry it attached, as mocha's own short options can.
    const attached = /^-[a-zA-Z]./.test(arg) && VALUE_FLAGS[arg.slice(0, 2)] !== undefined;
    const name = attached ? arg.slice(0, 2) : arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = attached ? arg.slice(2).replace(/^=/, '') : name !== arg ? arg.slice(eq + 1) : undefined;
    const valueKey = VALUE_FLAGS[name];
    const boolKey = BOOL_FLAGS[name];
    const optionalKey = OPTIONAL_VALUE[name];
    if (valueKey !== undefined) {
      const value = inline ?? args[++i];
      if (value === undefined || (value.startsWith('-') && !/^-\d/.test(value))) throw errors.usage(`${name} needs a value, for example ${name} ${example(valueKey)}.`);
      flags[valueKey] = value;
    } else if (boolKey !== undefined && inline === undefined) {
      flags[boolKey] = true;
    } else if (optionalKey !== undefined) {
      flags[optionalKey] = inline ?? null;
    } else if (arg !== '--parallel' && arg !== '-p') {
      // bulkhead is always parallel; everything else is mocha's to read.
      rest.push(arg);
    }
  }
  return { flags, rest };
}

function example(key: ValueKey): string {
  const examples: Record<ValueKey, string> = {
    workers: '4',
    configFile: 'bulkhead.config.js',
    repeat: '10',
    record: 'run.json',
    chaos: 'terminate=0.05,drop=0.02',
    test: '"suite name test name"',
    isolation: 'database',
    setup: './migrations',
    loadTimeout: '30000',
  };
  return examples[key];
}
