// Stable ids for a loaded file's suites and tests, and the list of tests mocha will actually run.
import type Mocha from 'mocha';
import type { HookInfo, HookType, SuiteInfo, TestInfo } from '../src/protocol/messages.js';

const HOOK_TYPES: readonly HookType[] = ['before all', 'before each', 'after all', 'after each'];

export class FileTree {
  private readonly suiteIds = new WeakMap<Mocha.Suite, string>();
  private readonly testIds = new WeakMap<Mocha.Runnable, string>();
  /** Mocha retries a test by cloning it; the clone inherits the id of the attempt it replaces. */
  private readonly retried = new Map<string, string>();
  readonly suites: SuiteInfo[] = [];
  readonly tests: TestInfo[] = [];

  constructor(root: Mocha.Suite, grep: RegExp | undefined, invert: boolean, private readonly lines?: { line(test: Mocha.Runnable): number | undefined }) {
    this.walk(root, null, grep, invert);
  }

  private walk(suite: Mocha.Suite, parentId: string | null, grep: RegExp | undefined, invert: boolean): void {
    const id = parentId === null ? 'root' : `s${this.suites.length}`;
    this.suiteIds.set(suite, id);
    if (parentId !== null) this.suites.push({ id, parentId, title: suite.title });
    for (const test of suite.tests) {
      if (grep !== undefined && grep.test(test.fullTitle()) === invert) continue;
      const testId = `t${this.tests.length + 1}`;
      this.testIds.set(test, testId);
      this.tests.push({
        id: testId,
        suiteId: id,
        title: test.title,
        titlePath: test.titlePath(),
        pending: test.isPending(),
        timeout: test.timeout(),
        slow: test.slow(),
        retries: test.retries(),
        ...lineOf(this.lines, test),
      });
    }
    for (const child of suite.suites) this.walk(child, id, grep, invert);
  }

  suiteId(suite: Mocha.Suite): string | undefined {
    return this.suiteIds.get(suite);
  }

  testId(test: Mocha.Runnable): string | undefined {
    const known = this.testIds.get(test);
    if (known !== undefined) return known;
    const key = retryKey(test);
    const inherited = this.retried.get(key);
    if (inherited !== undefined) {
      this.retried.delete(key);
      this.testIds.set(test, inherited);
    }
    return inherited;
  }

  markRetry(test: Mocha.Runnable): void {
    const id = this.testIds.get(test);
    if (id !== undefined) this.retried.set(retryKey(test), id);
  }

  hookInfo(hook: Mocha.Hook): HookInfo {
    const title = hook.title;
    const original = (hook as Mocha.Hook & { originalTitle?: string }).originalTitle ?? title;
    const type = HOOK_TYPES.find((t) => original.startsWith(`"${t}" hook`)) ?? 'before all';
    const current = (hook.ctx as (Mocha.Context & { currentTest?: Mocha.Runnable }) | undefined)?.currentTest;
    const testId = type.endsWith('each') && current !== undefined ? this.testId(current) : undefined;
    return {
      title,
      type,
      suiteId: (hook.parent && this.suiteIds.get(hook.parent)) ?? 'root',
      ...(testId !== undefined ? { testId } : {}),
    };
  }
}

function lineOf(lines: { line(test: Mocha.Runnable): number | undefined } | undefined, test: Mocha.Runnable): { line?: number } {
  const line = lines?.line(test);
  return line === undefined ? {} : { line };
}

function retryKey(test: Mocha.Runnable): string {
  return `${test.fullTitle()}\u0000${test.file ?? ''}`;
}

// @types/mocha marks these protected or leaves them out, though mocha's reporters rely on them.
export function attemptOf(runnable: Mocha.Runnable): number {
  return (runnable as unknown as { currentRetry(): number }).currentRetry();
}

export function isHook(runnable: Mocha.Runnable): runnable is Mocha.Hook {
  return (runnable as unknown as { type?: string }).type === 'hook';
}

export function hooksOf(suite: Mocha.Suite, name: 'beforeEach' | 'afterEach'): Mocha.Hook[] {
  return (suite as unknown as { getHooks(n: string): Mocha.Hook[] }).getHooks(name);
}
