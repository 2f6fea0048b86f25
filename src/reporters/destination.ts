// Where one reporter writes. mocha's reporters write to process.stdout (directly, through console.log or
// Base.consoleLog, which is console.log); a reporter with a file of its own gets process.stdout pointed at that file
// only while it handles an event, synchronously, and given back before the next reporter's turn, so one reporter's
// lines never reach another's destination.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { mochaInUse } from '../protocol/mochacopy.js';

type Write = NodeJS.WriteStream['write'];

export class Destination {
  private fd: number | null = null;

  private constructor(readonly file: string | null) {}

  static stdout(): Destination {
    return new Destination(null);
  }

  /** The file is created (and its folder) at once, so a reporter that writes nothing still leaves an empty file. */
  static file(file: string): Destination {
    const d = new Destination(file);
    mkdirSync(path.dirname(file), { recursive: true });
    d.fd = openSync(file, 'w');
    return d;
  }

  write(text: string | Uint8Array): void {
    if (this.fd !== null) writeAll(this.fd, text);
    else process.stdout.write(text);
  }

  /** Runs fn with process.stdout writing here and, for a file, mocha's colours off. */
  around<T>(fn: () => T): T {
    const fd = this.fd;
    if (fd === null) return fn();
    const out = process.stdout;
    const own = Object.prototype.hasOwnProperty.call(out, 'write');
    const previous = out.write;
    const Base = mochaInUse().Mocha.reporters.Base;
    const colors = Base.useColors;
    out.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
      writeAll(fd, chunk);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as Write;
    Base.useColors = false;
    try {
      return fn();
    } finally {
      if (own) out.write = previous;
      else delete (out as { write?: Write }).write;
      Base.useColors = colors;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function writeAll(fd: number, chunk: string | Uint8Array): void {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}
