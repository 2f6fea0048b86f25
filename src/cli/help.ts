// The --help text, printed from the option tables (options.ts): bulkhead's flags in the README's groups, then the
// mocha options bulkhead reads.
import { BULKHEAD_OPTIONS, MOCHA_OPTIONS } from './options.js';
import type { BulkheadOption, MochaOption, OptionGroup } from './options.js';

const WIDTH = 112;
/** Where help lines start: the flag column is this wide. */
const COLUMN = 33;
const GROUPS: readonly OptionGroup[] = ['Workers and databases', 'Flaky failures', 'Shards', 'Other'];

const HEAD = `Usage:
  bulkhead [spec..] [options]            run the suite
  bulkhead replay <record> [options]     run a recorded schedule again, slot by slot, and compare outcomes
  bulkhead bisect <record> --test "<full title>" [--pair]
                                         find the tests that make a test fail when they run before it
  bulkhead list [spec..] [--shard i/n] [--json]
                                         print the planned spec files, one per line
  bulkhead merge <record..> [--record <file>] [--timings <file>] [--reporter junit:<file>]
                                         combine the shards' records, checking that each test ran once
  bulkhead report [record] [--html <file>] [--trace <file>]
                                         the HTML report (and Chrome trace) of a run record

Runs mocha spec files on a pool of worker threads. Each worker owns one lazily created PostgreSQL
connection, discarded and rebuilt after any test that breaks it.
`;

const TAIL = `Exit codes: 0 all passed; 1 a test failed, a file crashed or (--fail-zero) no test was found; 2 bad usage,
configuration or run record; 3 the database could not be reached or started; 130 interrupted.
`;

/** Words of `text` in lines that fit after the flag column. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && COLUMN + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** `  flag   help`, the help wrapped under its column; a flag too wide for the column puts its help below. */
function row(flag: string, help: string): string {
  const [first = '', ...more] = wrap(help);
  const head = `  ${flag}`;
  const lines = head.length < COLUMN - 1 ? [head.padEnd(COLUMN) + first] : [head, ' '.repeat(COLUMN) + first];
  return [...lines, ...more.map((l) => ' '.repeat(COLUMN) + l)].join('\n');
}

function bulkheadRow(o: BulkheadOption): string {
  const names = o.names.join(', ');
  const flag = o.arg === undefined ? names : o.arg.startsWith('[') ? `${names}${o.arg}` : `${names} ${o.arg}`;
  // A flag that plain runs do not read says which command it is for.
  const only = o.commands.includes('run') ? '' : `${o.commands.join(', ')}: `;
  return row(flag, only + o.help);
}

/** mocha's options, a topic to a line (or more); a note ends its line; an option with a help line gets a row. */
function mochaLines(options: readonly MochaOption[]): string[] {
  const lines: string[] = [];
  let line = '';
  const end = (): void => {
    if (line !== '') lines.push(line);
    line = '';
  };
  let topic: MochaOption['topic'];
  for (const o of options.filter((m) => m.unsupported === undefined)) {
    if (o.topic !== topic) end();
    topic = o.topic;
    if (o.help !== undefined) {
      end();
      lines.push(row(o.usage, o.help));
      continue;
    }
    const next = line === '' ? `  ${o.usage}` : `${line}  ${o.usage}`;
    if (next.length > WIDTH) {
      end();
      line = `  ${o.usage}`;
    } else {
      line = next;
    }
    if (o.note !== undefined) {
      line = `${line}   (${o.note})`;
      end();
    }
  }
  end();
  const unsupported = options.filter((m) => m.unsupported !== undefined).map((m) => m.usage);
  if (unsupported.length > 0) lines.push(row('not supported:', `${unsupported.join(', ')} (a usage error that says what to do)`));
  return lines;
}

export function helpText(): string {
  const groups = GROUPS.map((g) => `${g}:\n${BULKHEAD_OPTIONS.filter((o) => o.group === g).map(bulkheadRow).join('\n')}\n`);
  const mocha =
    'mocha options (also read from .mocharc.* and package.json "mocha" through mocha\'s own loader);\n' +
    'values go as "--flag value" or "--flag=value", and attached to short options (-t5000, -w4):\n' +
    `${mochaLines(MOCHA_OPTIONS).join('\n')}\n`;
  return [HEAD, ...groups, mocha, TAIL].join('\n');
}
