// Where each test was declared. mocha's Runnable has no line, so the worker reads one off the call stack at the
// moment it() adds the test to its suite (the suite's 'test' event fires inside that call): the first frame in the
// spec file itself. Node maps the frame through source maps when they are on (tsx turns them on), so a TypeScript
// spec gets its own line. A test declared by a helper in another file gets the line of the spec's call into that
// helper; a test whose stack never passes through the spec file gets none.
import type Mocha from 'mocha';
import { pathToFileURL } from 'node:url';

export class DefinitionLines {
  private readonly lines = new WeakMap<Mocha.Runnable, number>();
  private readonly frame: RegExp;

  constructor(root: Mocha.Suite, file: string) {
    const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A repeat load imports the file under a URL with a query (workers/load.ts), which the frame keeps.
    this.frame = new RegExp(`(?:${escape(file)}|${escape(pathToFileURL(file).href)})(?:\\?[^:\\s)]*)?:(\\d+):\\d+`);
    this.watch(root);
  }

  private watch(suite: Mocha.Suite): void {
    suite.on('test', (test: Mocha.Test) => {
      const line = this.caller();
      if (line !== undefined) this.lines.set(test, line);
    });
    suite.on('suite', (child: Mocha.Suite) => this.watch(child));
  }

  private caller(): number | undefined {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const m = this.frame.exec(stack);
    return m === null ? undefined : Number(m[1]);
  }

  line(test: Mocha.Runnable): number | undefined {
    return this.lines.get(test);
  }
}
