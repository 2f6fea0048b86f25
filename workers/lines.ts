// Where each test was declared. mocha's Runnable has no line, so the worker reads one off the call stack at the
// moment it() adds the test to its suite (the suite's 'test' event fires inside that call): the first frame in the
// spec file itself. Node maps the frame through source maps when they are on (tsx turns them on), so a TypeScript
// spec gets its own line. A test declared by a helper in another file gets the line of the spec's call into that
// helper; a test whose stack never passes through the spec file gets none.
import type Mocha from 'mocha';
import { pathToFileURL } from 'node:url';

/** Frames enough for an it() in the spec itself: the listener, mocha's addTest and it(), then the spec. */
const SHORT_LOOK = 12;

export class DefinitionLines {
  private readonly lines = new WeakMap<Mocha.Runnable, number>();
  private readonly frame: RegExp;
  private readonly url: string;

  constructor(root: Mocha.Suite, private readonly file: string) {
    const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A repeat load imports the file under a URL with a query (workers/load.ts), which the frame keeps.
    this.url = pathToFileURL(file).href;
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
    try {
      // Without source maps the frames' own positions are the lines: read them as call sites, which skips
      // formatting 30 frames into a string for every test (~70 µs a test, 7% of a worker's time on trivial tests).
      // A spec's own it() is a few frames down; a helper's, deeper: the short look first, the long one if needed.
      // With source maps on (tsx turns them on) only the formatted stack carries the mapped line.
      if (process.sourceMapsEnabled) {
        Error.stackTraceLimit = 30;
        return this.fromText(new Error().stack ?? '');
      }
      return this.fromSites(SHORT_LOOK) ?? this.fromSites(30);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private fromText(stack: string): number | undefined {
    const m = this.frame.exec(stack);
    return m === null ? undefined : Number(m[1]);
  }

  private fromSites(depth: number): number | undefined {
    const prepare = Error.prepareStackTrace;
    let sites: NodeJS.CallSite[] = [];
    try {
      Error.stackTraceLimit = depth;
      Error.prepareStackTrace = (_error, callSites) => callSites;
      const holder: { stack?: unknown } = {};
      Error.captureStackTrace(holder);
      // Read while the override is in place: V8 prepares the stack on first access.
      if (Array.isArray(holder.stack)) sites = holder.stack as NodeJS.CallSite[];
    } finally {
      Error.prepareStackTrace = prepare;
    }
    for (const site of sites) {
      const name = site.getFileName();
      // The path (CommonJS), the URL (ESM), or the URL with the query of a repeat load (workers/load.ts).
      if (name === this.file || name === this.url || name?.startsWith(`${this.url}?`) === true) return site.getLineNumber() ?? undefined;
    }
    return undefined;
  }

  line(test: Mocha.Runnable): number | undefined {
    return this.lines.get(test);
  }
}
