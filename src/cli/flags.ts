// bulkhead's own command-line flags (options.ts declares them), taken out of argv before the rest goes to mocha's
// option loader (mocha would read -w as --watch and -j as --jobs).
import { errors } from '../errors.js';
import { BULKHEAD_OPTIONS } from './options.js';
import type { BulkheadFlags, BulkheadOption, Command } from './options.js';

export type { BulkheadFlags, Command } from './options.js';

const BY_NAME = new Map<string, BulkheadOption>(BULKHEAD_OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));

/** The flags before anything is given: every boolean off, every value absent. */
function defaults(): BulkheadFlags {
  const flags: Record<string, unknown> = { command: 'run' };
  for (const o of BULKHEAD_OPTIONS) if (o.kind === 'boolean') flags[o.key] = false;
  return flags as BulkheadFlags;
}

/**
 * `replay <record>` / `bisect <record>` at the front of argv: the command and its record, and what follows. `list`
 * takes spec arguments as a run does; `merge` takes its records as the positional arguments that follow.
 */
function command(argv: readonly string[]): { command: Command; recordArg?: string; args: string[] } {
  const [first, second] = argv;
  if (first === 'list' || first === 'merge' || first === 'report') return { command: first, args: argv.slice(1) };
  if (first !== 'replay' && first !== 'bisect') return { command: 'run', args: [...argv] };
  if (second === undefined || second.startsWith('-')) throw errors.usage(`"bulkhead ${first}" needs a run record, for example: bulkhead ${first} .bulkhead/last-run.json`);
  return { command: first, recordArg: second, args: argv.slice(2) };
}

/** The option an argument names and the value attached to it (`--workers=4`, `-w4`, `-w=4`), if any. */
function split(arg: string): { option: BulkheadOption | undefined; name: string; inline: string | undefined } {
  // -w4, -j=4: a short flag that takes a value may carry it attached, as mocha's own short options can.
  const short = /^-[a-zA-Z]./.test(arg) ? BY_NAME.get(arg.slice(0, 2)) : undefined;
  if (short?.kind === 'value') return { option: short, name: arg.slice(0, 2), inline: arg.slice(2).replace(/^=/, '') };
  const eq = arg.indexOf('=');
  const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
  return { option: BY_NAME.get(name), name, inline: name !== arg ? arg.slice(eq + 1) : undefined };
}

/** Why a flag of one command cannot go with another, and what to do instead. */
const ELSEWHERE: Record<string, string> = {
  'replay:shuffle': 'replay runs the recorded order with the recorded seed; drop --shuffle (to try a new order, run bulkhead --shuffle without replay)',
  'run:test': 'it names the failing test for bisect: bulkhead bisect .bulkhead/last-run.json --test "<full title>"; to select tests in a run use --grep or --fgrep',
  'run:pair': 'it belongs to bisect: bulkhead bisect .bulkhead/last-run.json --test "<full title>" --pair',
};

/** A flag that another command reads is a usage error, not a flag ignored in silence. */
function checkCommand(option: BulkheadOption, name: string, cmd: Command): void {
  if (option.commands.includes(cmd)) return;
  const fix = ELSEWHERE[`${cmd}:${option.key}`] ?? (option.commands.includes('run') ? `drop it, or use it on a plain run (bulkhead ${name} ...)` : `drop it; it is for bulkhead ${option.commands.join(' or ')}`);
  const what = cmd === 'run' ? 'a plain run' : `"bulkhead ${cmd}"`;
  throw errors.usage(`${name} cannot be used with ${what}: ${fix}.`);
}

export function takeBulkheadFlags(argv: readonly string[]): { flags: BulkheadFlags; rest: string[] } {
  const { command: cmd, recordArg, args } = command(argv);
  const flags = defaults();
  const set = flags as unknown as Record<string, unknown>;
  flags.command = cmd;
  if (recordArg !== undefined) flags.recordArg = recordArg;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const { option, name, inline } = split(arg);
    if (option !== undefined) checkCommand(option, name, cmd);
    if (option?.kind === 'value') {
      const value = inline ?? args[++i];
      if (value === undefined || (value.startsWith('-') && !/^-\d/.test(value))) throw errors.usage(`${name} needs a value, for example ${name} ${option.example ?? '<value>'}.`);
      set[option.key] = value;
    } else if (option?.kind === 'boolean' && inline === undefined) {
      set[option.key] = true;
    } else if (option?.kind === 'optional') {
      // A bare whole number after it is its value (`--until-fail 20`, `--shuffle 1234`): no spec is named so, and
      // mocha would refuse the number as an unknown option. Anything else after it is left for mocha (a spec).
      const next = args[i + 1];
      set[option.key] = inline ?? (next !== undefined && /^\d+$/.test(next) ? (i++, next) : null);
    } else if (arg !== '--parallel' && arg !== '-p') {
      // bulkhead is always parallel; everything else is mocha's to read.
      rest.push(arg);
    }
  }
  return { flags, rest };
}
