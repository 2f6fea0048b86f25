// argv -> options, --help, and the process's exit status. The only file that may call process.exit.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { loadConfig } from '../config/load.js';
import { EXIT, errors, isBulkheadError } from '../errors.js';
import { findDatabaseFault } from '../protocol/faults.js';
import { helpText } from './help.js';
import { run } from '../run/pipeline.js';
import { Interrupts } from '../run/interrupts.js';
import { Redactor } from '../db/redact.js';
import { mergeCommand } from './merge.js';
import { listCommand } from './list.js';
import { reportCommand } from './report.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/*
 * Ctrl-C (SIGINT), SIGTERM (what CI sends on a timeout) and SIGHUP (a closed terminal) all stop the run the same
 * way: the first stops dispatching, lets the running tests finish, closes every connection, drops the slot
 * databases and prints the summary; the second stops at once, and so does the end of the shutdown grace
 * (--shutdown-grace) after the first. The exit status is 128 + the first signal's number.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number] | 'SIGPIPE';

export async function main(argv: readonly string[]): Promise<number> {
  const interrupts = new Interrupts();
  const onSignal = (signal: Signal): void => {
    // Said before the run acts on it, so the words come first.
    const count = interrupts.count + 1;
    if (count === 1) {
      const what = signal === 'SIGINT' ? '' : ` by ${signal}`;
      const again = signal === 'SIGINT' ? 'Ctrl-C again' : `send ${signal} again`;
      process.stderr.write(`\nbulkhead: interrupted${what}; finishing the running tests and closing connections (${again} to stop at once)\n`);
    } else if (count === 2) {
      process.stderr.write(`\nbulkhead: ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again: stopping now; the running tests are cut off and reported as not run (a third time exits at once, without cleaning up)\n`);
    } else {
      // A cleanup that hangs (an unreachable server) must not make the process unkillable by the same key.
      process.stderr.write(`\nbulkhead: ${signal} a third time: exiting now; slot databases and sessions may be left for the next run to remove\n`);
      process.exit(128 + constants.signals[signal]);
    }
    interrupts.receive(signal);
  };
  const handlers = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  watchOutput(interrupts);
  // What escapes the run is printed here, where the run's own target is out of reach: the environment names it.
  const redactor = Redactor.fromEnv();
  try {
    // merge reads records, not a suite: no configuration, no server.
    const ownHelp = argv.includes('--help') || argv.includes('-h');
    if (argv[0] === 'merge' && !ownHelp) return mergeCommand(argv.slice(1), process.stdout);
    if (argv[0] === 'report' && !ownHelp) return reportCommand(argv.slice(1), process.stdout);
    const { config, flags } = await loadConfig(argv.length > 0 && (argv[0] === 'merge' || argv[0] === 'report') ? ['--help'] : argv);
    if (flags.help) {
      process.stdout.write(helpText());
      return EXIT.ok;
    }
    if (flags.version) {
      process.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    if (config.command === 'list') return listCommand(config, process.stdout, process.stderr);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    interrupts.setGrace(config.shutdownGrace);
    const offNow = interrupts.on('now', () => {
      if (interrupts.graceExpired) process.stderr.write(`\nbulkhead: the running tests did not finish within the shutdown grace of ${config.shutdownGrace} ms (--shutdown-grace); stopping them now\n`);
    });
    const code = await run(config, { out: process.stdout, err: process.stderr, interrupts }).finally(() => {
      offNow();
      interrupts.dispose();
    });
    // A signal at any point of the run (also in its cleanup: a close cut by the second one) is the exit status,
    // as README's exit codes say: 128 + its number. Usage and database errors keep theirs.
    const first = interrupts.signal as Signal | null;
    const interruptible: number[] = [EXIT.ok, EXIT.failed, EXIT.interrupted];
    return first !== null && interruptible.includes(code) ? 128 + constants.signals[first] : code;
  } catch (err) {
    // A server condition (no connection slot left, a restart that did not end in time) is never an internal error.
    const fault = isBulkheadError(err) ? undefined : findDatabaseFault(err);
    const known = isBulkheadError(err) ? err : fault !== undefined ? errors.server(fault.message, fault.sqlstate, err) : null;
    if (known !== null) {
      process.stderr.write(`bulkhead: ${redactor.redact(known.message)}\n`);
      return known.exitCode;
    }
    process.stderr.write(`bulkhead: internal error: ${redactor.redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return EXIT.failed;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/*
 * A reader that goes away (`bulkhead | head`, a pager quit early) fails the next write with EPIPE. Unhandled, that
 * crashed the process mid-run and left the slot databases and sessions behind. It stops the run as SIGPIPE would
 * (the running tests finish, connections close, databases are dropped; exit 141); what is written after that to the
 * closed stream is dropped.
 */
let outputWatched = false;
function watchOutput(interrupts: Interrupts): void {
  if (outputWatched) return;
  outputWatched = true;
  let gone = false;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (gone || err.code !== 'EPIPE') return;
    gone = true;
    process.stderr.write('\nbulkhead: the output was closed (EPIPE); finishing the running tests and closing connections\n');
    if (interrupts.count === 0) interrupts.receive('SIGPIPE');
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

export async function cli(): Promise<void> {
  const code = await main(process.argv.slice(2));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
