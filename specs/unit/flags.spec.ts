// The command line without a run (src/cli/): bulkhead's own flags from the option table, in every value form,
// the command words, and what goes on to mocha; mocha's arguments in the one form its loader reads, bundles and
// negations, and the errors; --help printed from the tables.
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { takeBulkheadFlags } from '../../src/cli/flags.js';
import { helpText } from '../../src/cli/help.js';
import { normalizeMochaArgs } from '../../src/cli/mochaargs.js';
import { BULKHEAD_OPTIONS, MOCHA_OPTIONS } from '../../src/cli/options.js';
import { isBulkheadError } from '../../src/errors.js';

const require = createRequire(import.meta.url);
const metadata = require('mocha/lib/cli/run-option-metadata.cjs') as { isMochaFlag(flag: string): boolean };

/** What every usage error ends with. */
const HINT = ' Run "bulkhead --help" for the list of options.';

/** The usage error a call throws (exit code 2), without the closing hint; a failure when there is none. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isBulkheadError(err) && err.exitCode === 2 && err.message.endsWith(HINT)) return err.message.slice(0, -HINT.length);
    throw err;
  }
  throw new Error('expected a usage error, but nothing was thrown');
}

describe('unit: bulkhead\'s flags (takeBulkheadFlags)', () => {
  it('starts from every boolean off and every value absent, the command "run"', () => {
    const { flags, rest } = takeBulkheadFlags([]);
    expect(flags).to.deep.equal({
      command: 'run', embedded: false, transaction: false, keepDatabases: false, allowAnyDatabase: false, failOnFlaky: false, lastFailed: false,
      pair: false, json: false, noConfigFile: false, verbose: false, help: false, version: false,
    });
    expect(rest).to.deep.equal([]);
  });

  it('reads a value as "--flag value", "--flag=value", and a short flag\'s attached ("-w4", "-w=4") or separate', () => {
    for (const argv of [['--workers', '4'], ['--workers=4'], ['-w', '4'], ['-w4'], ['-w=4'], ['--jobs', '4'], ['-j4'], ['-j=4']]) {
      expect(takeBulkheadFlags(argv).flags.workers, argv.join(' ')).to.equal('4');
    }
  });

  it('keeps a value that starts with "=" or a digit after a dash, and takes a negative number as a value', () => {
    expect(takeBulkheadFlags(['bisect', 'r.json', '--test==odd']).flags.test).to.equal('=odd');
    expect(takeBulkheadFlags(['--shuffle=-5']).flags.shuffle).to.equal('-5');
    expect(takeBulkheadFlags(['--repeat', '-1']).flags.repeat).to.equal('-1');
  });

  it('reads every value flag of the table under each of its names', () => {
    for (const o of BULKHEAD_OPTIONS.filter((x) => x.kind === 'value')) {
      for (const name of o.names) {
        const { flags, rest } = takeBulkheadFlags([...commandFor(o), name, 'v1', 'spec.js']);
        expect((flags as Record<string, unknown>)[o.key], name).to.equal('v1');
        expect(rest, name).to.deep.equal(['spec.js']);
      }
    }
  });

  it('sets every boolean flag of the table under each of its names', () => {
    for (const o of BULKHEAD_OPTIONS.filter((x) => x.kind === 'boolean')) {
      for (const name of o.names) expect((takeBulkheadFlags([...commandFor(o), name]).flags as Record<string, unknown>)[o.key], name).to.equal(true);
    }
  });

  it('takes an optional value with "=" or as a bare whole number after it, so a following spec is not taken for one', () => {
    expect(takeBulkheadFlags(['--shuffle=1234']).flags.shuffle).to.equal('1234');
    expect(takeBulkheadFlags(['--until-fail', '20', 'test/a.spec.js'])).to.deep.include({ rest: ['test/a.spec.js'] });
    expect(takeBulkheadFlags(['--until-fail', '20']).flags.untilFail).to.equal('20');
    expect(takeBulkheadFlags(['--shuffle', '1234']).flags.shuffle).to.equal('1234');
    const bare = takeBulkheadFlags(['--shuffle', 'test/a.spec.js']);
    expect(bare.flags.shuffle).to.equal(null);
    expect(bare.rest).to.deep.equal(['test/a.spec.js']);
    expect(takeBulkheadFlags(['--until-fail']).flags.untilFail).to.equal(null);
    expect(takeBulkheadFlags(['--until-fail=50']).flags.untilFail).to.equal('50');
  });

  it('the last of a repeated value wins', () => {
    expect(takeBulkheadFlags(['-w', '2', '--workers=3']).flags.workers).to.equal('3');
  });

  it('passes mocha\'s arguments on in order, drops --parallel/-p, and stops at "--"', () => {
    const { flags, rest } = takeBulkheadFlags(['-t', '500', '--parallel', 'a.js', '-p', '--grep', 'x', '--', '-w', '9']);
    expect(flags.workers).to.equal(undefined);
    expect(rest).to.deep.equal(['-t', '500', 'a.js', '--grep', 'x', '--', '-w', '9']);
  });

  it('does not take a boolean flag given a value: it is left for mocha (which refuses it)', () => {
    const { flags, rest } = takeBulkheadFlags(['--verbose=yes']);
    expect(flags.verbose).to.equal(false);
    expect(rest).to.deep.equal(['--verbose=yes']);
  });

  it('reads "replay <record>" and "bisect <record>" at the front', () => {
    const r = takeBulkheadFlags(['replay', '.bulkhead/last-run.json', '--isolation', 'shared']);
    expect(r.flags).to.include({ command: 'replay', recordArg: '.bulkhead/last-run.json', isolation: 'shared' });
    const b = takeBulkheadFlags(['bisect', 'run.json', '--test', 'suite fails', '--pair']);
    expect(b.flags).to.include({ command: 'bisect', recordArg: 'run.json', test: 'suite fails', pair: true });
    expect(takeBulkheadFlags(['test/replay', '-w1']).flags).to.include({ command: 'run', workers: '1' });
  });

  it('refuses a flag of another command, saying what to do instead', () => {
    expect(usageError(() => takeBulkheadFlags(['--pair']))).to.match(/^--pair cannot be used with a plain run: it belongs to bisect: bulkhead bisect/);
    expect(usageError(() => takeBulkheadFlags(['replay', 'r.json', '--shuffle=3']))).to.match(/^--shuffle cannot be used with "bulkhead replay": .*drop --shuffle/);
    expect(usageError(() => takeBulkheadFlags(['bisect', 'r.json', '--until-fail']))).to.match(/^--until-fail cannot be used with "bulkhead bisect": drop it/);
    for (const o of BULKHEAD_OPTIONS) for (const c of o.commands) expect(() => takeBulkheadFlags([...(c === 'run' ? [] : [c, 'r.json']), o.names[0] + (o.kind === 'value' ? '=1' : '')]), `${c} ${o.names[0]}`).to.not.throw();
  });

  it('refuses a command without its record, and a value flag without its value, with an example', () => {
    expect(usageError(() => takeBulkheadFlags(['replay']))).to.equal('"bulkhead replay" needs a run record, for example: bulkhead replay .bulkhead/last-run.json');
    expect(usageError(() => takeBulkheadFlags(['bisect', '--test', 'x']))).to.include('"bulkhead bisect" needs a run record');
    expect(usageError(() => takeBulkheadFlags(['--workers']))).to.equal('--workers needs a value, for example --workers 4.');
    expect(usageError(() => takeBulkheadFlags(['-w', '--verbose']))).to.equal('-w needs a value, for example -w 4.');
    expect(usageError(() => takeBulkheadFlags(['--chaos']))).to.equal('--chaos needs a value, for example --chaos terminate=0.05,drop=0.02.');
  });
});

/** The command line a flag belongs to: a plain run, or the first command that reads it. */
function commandFor(o: (typeof BULKHEAD_OPTIONS)[number]): string[] {
  const commands: readonly string[] = o.commands;
  return commands.includes('run') ? [] : [commands[0] as string, 'r.json'];
}

describe('unit: mocha\'s arguments (normalizeMochaArgs)', () => {
  it('puts a long option\'s value in the "--flag=value" form, whether given with a space or "="', () => {
    expect(normalizeMochaArgs(['--import', 'tsx', '--grep=slow', '--timeout', '5000'])).to.deep.equal(['--import=tsx', '--grep=slow', '--timeout=5000']);
  });

  it('splits a short option\'s attached value (-t40, -t=40, -Rdot) and keeps a separate one', () => {
    expect(normalizeMochaArgs(['-t40', '-s=300', '-Rdot', '-g', 'x'])).to.deep.equal(['-t', '40', '-s', '300', '-R', 'dot', '-g', 'x']);
  });

  it('keeps bundled boolean short options (-bA) and spec arguments, and everything after "--"', () => {
    expect(normalizeMochaArgs(['-bA', 'test/a.js', '--', '--anything'])).to.deep.equal(['-bA', 'test/a.js', '--', '--anything']);
  });

  it('accepts --no-<boolean> negations, --no-config and --no-package, and drops --no-opts', () => {
    expect(normalizeMochaArgs(['--no-timeouts', '--no-diff', '--no-config', '--no-package', '--no-opts', '--no-exit'])).to.deep.equal(['--no-timeouts', '--no-diff', '--no-config', '--no-package', '--no-exit']);
  });

  it('accepts reporter option paths (--reporter-option.key=value form)', () => {
    expect(normalizeMochaArgs(['--reporter-options.output=out.xml'])).to.deep.equal(['--reporter-options.output=out.xml']);
  });

  it('refuses unknown options, a bundle with a letter that is not a boolean, and --opts', () => {
    expect(usageError(() => normalizeMochaArgs(['--no-such-flag']))).to.equal('Unknown option --no-such-flag.');
    expect(usageError(() => normalizeMochaArgs(['--colour-me=red']))).to.equal('Unknown option --colour-me.');
    expect(usageError(() => normalizeMochaArgs(['-bq']))).to.equal('Unknown option -bq.');
    expect(usageError(() => normalizeMochaArgs(['--opts', 'x.opts']))).to.match(/^--opts is not supported: mocha 8 removed \.opts files/);
  });

  it('refuses a value option without its value, with the example from the option table', () => {
    expect(usageError(() => normalizeMochaArgs(['--require']))).to.equal('--require needs a value, for example --require ./test/setup.js.');
    expect(usageError(() => normalizeMochaArgs(['-R', '--bail']))).to.equal('-R needs a value, for example -R dot.');
    expect(usageError(() => normalizeMochaArgs(['--timeout', '--', 'x']))).to.equal('--timeout needs a value, for example --timeout 5000.');
  });
});

describe('unit: the option tables and --help', () => {
  const help = helpText();

  it('shows every bulkhead flag, under each of its names, with its help line', () => {
    for (const o of BULKHEAD_OPTIONS) {
      const line = help.split('\n').find((l) => l.startsWith(`  ${o.names.join(', ')}`));
      expect(line, o.key).to.be.a('string');
      expect(help.replace(/\n {33}/g, ' '), o.key).to.include(o.help);
    }
  });

  it('names the command of a flag that plain runs do not read', () => {
    expect(help).to.match(/^ {2}--test "<full title>" +bisect: the test that fails$/m);
    expect(help).to.match(/^ {2}--pair +bisect: look for a single culprit/m);
  });

  it('lists every mocha option of the table, and the unsupported ones as such', () => {
    for (const o of MOCHA_OPTIONS.filter((m) => m.unsupported === undefined)) expect(help, o.usage).to.include(o.usage);
    expect(help.replace(/\n +/g, ' ')).to.match(/ not supported: +--allow-uncaught, [^\n]*--watch, --delay \(a usage error that says what to do\)/);
  });

  it('keeps every line within 112 columns', () => {
    expect(help.split('\n').filter((l) => l.length > 112)).to.deep.equal([]);
  });

  it('names in the mocha table only options mocha\'s loader knows (or Node\'s --import)', () => {
    for (const o of MOCHA_OPTIONS) {
      for (const name of o.names) {
        const positive = name.replace(/^no-/, '');
        expect(metadata.isMochaFlag(positive) || name === 'import', name).to.equal(true);
      }
    }
  });

  it('gives no two bulkhead flags the same name', () => {
    const all = BULKHEAD_OPTIONS.flatMap((o) => [...o.names]);
    expect(all.length).to.equal(new Set(all).size);
  });
});
