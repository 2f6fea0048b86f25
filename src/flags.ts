// bulkhead's own command-line flags, taken out of argv before the rest goes to mocha's option loader
import { errors } from './errors.js';
// (mocha would read -w as --watch and -j as --jobs).

export interface BulkheadFlags {
  workers?: string;
  configFile?: string;
  noConfigFile: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
}

const VALUE_FLAGS: Record<string, 'workers' | 'configFile'> = {
  '--workers': 'workers',
  '-w': 'workers',
  '--jobs': 'workers',
  '-j': 'workers',
  '--config-file': 'configFile',
};

export function takeBulkheadFlags(argv: readonly string[]): { flags: BulkheadFlags; rest: string[] } {
  const flags: BulkheadFlags = { noConfigFile: false, verbose: false, help: false, version: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_FLAGS[name];
    if (key !== undefined) {
      const value = name !== arg ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value.startsWith('-')) throw errors.usage(`${name} needs a value, for example ${name} 4.`);
      flags[key] = value;
      continue;
    }
    if (arg === '--no-config-file') flags.noConfigFile = true;
    else if (arg === '--verbose') flags.verbose = true;
    else if (arg === '--help' || arg === '-h') flags.help = true;
    else if (arg === '--version' || arg === '-V') flags.version = true;
    else if (arg === '--parallel' || arg === '-p') continue; // bulkhead is always parallel
    else rest.push(arg);
  }
  return { flags, rest };
}


export const HELP = `Usage: bulkhead [spec..] [options]

Runs mocha spec files on a pool of worker threads. Each worker owns one lazily created PostgreSQL
connection, discarded and rebuilt after any test that breaks it.

bulkhead options:
  -w, --workers, -j, --jobs <n>  worker threads (default: available parallelism; env BULKHEAD_WORKERS)
  --config-file <path>           bulkhead config file (default: bulkhead.config.{ts,mts,js,mjs,cjs,json})
  --no-config-file               ignore bulkhead.config.*
  --verbose                      print phase timings and per-worker details
  -h, --help                     show this help
  -V, --version                  print the version

mocha options (read with .mocharc.* and package.json "mocha" through mocha's own loader):
  --config <path>  --package <path>  --no-config  --no-package
  --spec <glob>  --extension <ext>  --ignore <glob>  --recursive  --sort
  --timeout <ms>  --slow <ms>  --retries <n>  --grep <re>  --fgrep <s>  --invert
  --bail  --forbid-only  --forbid-pending  --ui <bdd|tdd>  --require <mod>  --import <mod>
  --reporter <name>  --reporter-option <k=v>  --exit  --async-only  --check-leaks  --full-trace

Exit codes: 0 all passed; 1 a test failed or a file crashed; 2 bad usage or configuration;
3 the database could not be reached.
`;
