// Why a file's runner stopped before its last test. The main thread lists the tests it never reached as
// "not run" with this reason, so a stop is never silent.
import type Mocha from 'mocha';

export const BAIL_REASON = '--bail stopped the run after the first failure';

export class StopReason {
  reason: string | null = null;
  private runner: Mocha.Runner | null = null;
  private current: string | null = null;

  watch(runner: Mocha.Runner): void {
    this.runner = runner;
  }

  /** The runnable now running, named in the reason when it stops the file. */
  running(title: string | null): void {
    this.current = title;
  }

  private set(reason: string): void {
    this.reason ??= reason;
  }

  bail(): void {
    this.set(BAIL_REASON);
  }

  // In serial mocha process.exit() would end the whole run; here it fails its test and the file stops there,
  // since the test's own code after the call never ran and the thread is replaced after the file.
  exitCalled(code: number): void {
    this.set(`process.exit(${code}) was called in ${this.current === null ? 'this file' : `"${this.current}"`}`);
    this.runner?.abort();
  }

  /** Mocha aborts a file when an error arrives for a test that had already passed. */
  lateError(title: string): void {
    this.set(`an uncaught error arrived after "${title}" had passed, and mocha stopped the file`);
  }
}
