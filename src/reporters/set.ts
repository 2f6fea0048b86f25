// Every reporter of a run (--reporter, any number of times, each `name[:file]`), behind one file gate. mocha's
// reporters replay the event stream as it comes; bulkhead's own (junit) are written from the finished run record,
// so `bulkhead merge` writes the same documents for merged shards. A reporter that throws (as it is made, on an
// event or at the end) is dropped and reported; the others, the echo of the tests' output and the record go on.
import type { Config, ReporterChoice } from '../config/types.js';
import type { Redactor } from '../db/redact.js';
import type { RunRecord } from '../plan/record.js';
import type { EventBus, RunEvent } from '../run/events.js';
import { Destination } from './destination.js';
import { FileGate } from './gate.js';
import { junitXml } from './junit.js';
import { MochaReplay, loadReporter } from './mocha.js';

/** bulkhead's own reporters: a document made from the run record. */
export const RECORD_REPORTERS: Readonly<Record<string, (record: RunRecord) => string>> = {
  junit: junitXml,
};

export interface Broken {
  name: string;
  error: unknown;
}

export interface ReporterContext {
  config: Config;
  /** The run's test count so far (see session.ts). */
  total: () => number;
  redactor: Redactor;
  /** The live progress, taken off the screen before any reporter writes. */
  screen?: { clear(): void } | null;
}

export class Reporters {
  private readonly live: { name: string; replay: MochaReplay }[] = [];
  private readonly fromRecord: ReporterChoice[] = [];
  readonly broken: Broken[] = [];
  private readonly gate = new FileGate((e) => this.deliver(e));

  constructor(private readonly ctx: ReporterContext) {
    const { config } = ctx;
    for (const choice of config.reporters) {
      if (RECORD_REPORTERS[choice.name] !== undefined) {
        this.fromRecord.push(choice);
        continue;
      }
      // An unknown name is a usage error before anything runs; a reporter that cannot start is a broken one.
      const Reporter = loadReporter(choice.name, config.root);
      try {
        const dest = choice.file === null ? Destination.stdout() : Destination.file(choice.file);
        const replay = new MochaReplay(Reporter, config.reporterOptions, config.root, ctx.total, ctx.redactor, { inlineDiffs: config.inlineDiffs, diff: config.diff, color: config.color, dest });
        this.live.push({ name: choice.name, replay });
      } catch (error) {
        this.broken.push({ name: choice.name, error });
      }
    }
  }

  listen(bus: EventBus): void {
    bus.on('reporters', (e) => this.gate.push(e));
  }

  private deliver(event: RunEvent): void {
    this.ctx.screen?.clear();
    if (event.type === 'output') {
      (event.stream === 'stdout' ? process.stdout : process.stderr).write(this.ctx.redactor.redact(event.text));
      return;
    }
    for (const r of [...this.live]) {
      try {
        r.replay.handle(event);
      } catch (error) {
        this.broken.push({ name: r.name, error });
        this.live.splice(this.live.indexOf(r), 1);
      }
    }
  }

  /** At the end of a run (or after an interrupt) whatever the gate still holds is delivered. */
  flush(): void {
    this.gate.flush();
  }

  /** Ends mocha's reporters (file-writing ones finish), then writes bulkhead's own from the finished record. */
  async end(record: RunRecord, out: NodeJS.WritableStream): Promise<void> {
    for (const r of this.live) await r.replay.end().catch((error: unknown) => void this.broken.push({ name: r.name, error }));
    for (const choice of this.fromRecord) {
      try {
        writeDocument(choice, (RECORD_REPORTERS[choice.name] as (r: RunRecord) => string)(record), out);
      } catch (error) {
        this.broken.push({ name: choice.name, error });
      }
    }
  }
}

/** A document to its file (its folder made), or to stdout. */
export function writeDocument(choice: ReporterChoice, text: string, out: NodeJS.WritableStream): void {
  if (choice.file === null) {
    out.write(text);
    return;
  }
  const dest = Destination.file(choice.file);
  try {
    dest.write(text);
  } finally {
    dest.close();
  }
}
