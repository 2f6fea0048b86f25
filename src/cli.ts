// argv -> options, --help, and the process's exit status. The only file that may call process.exit.
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.js';
import { EXIT, isBulkheadError } from './errors.js';
import { HELP } from './help.js';
import { run } from './run.js';
import { redact } from './database.js';
import { failZero } from './failzero.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const interrupt = new EventTarget();
  const onSigint = (): void => {
    process.stderr.write('\nbulkhead: interrupted; finishing the running tests and closing connections (Ctrl-C again to stop at once)\n');
    interrupt.dispatchEvent(new Event('abort'));
  };
  try {
    const { config, flags } = await loadConfig(argv);
    if (flags.help) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    if (flags.version) {
      process.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    process.on('SIGINT', onSigint);
    const startedAt = Date.now();
    const code = await run(config, { out: process.stdout, err: process.stderr, interrupt });
    const zero = code === EXIT.ok ? failZero(config, startedAt) : null;
    if (zero !== null) throw zero;
    return code;
  } catch (err) {
    if (isBulkheadError(err)) {
      process.stderr.write(`bulkhead: ${redact(err.message)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`bulkhead: internal error: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

export async function cli(): Promise<void> {
  const code = await main(process.argv.slice(2));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
