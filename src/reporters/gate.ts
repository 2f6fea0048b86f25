// Keeps one file's output together: the focused file streams live, other files' events wait in order until it
// ends. Events that are not about a file (run begin/end, connects) pass straight through.
import type { RunEvent } from '../run/events.js';

type FileEvent = Extract<RunEvent, { file: string }>;

export class FileGate {
  private focus: string | null = null;
  private readonly order: string[] = [];
  private readonly buffers = new Map<string, FileEvent[]>();
  private readonly done = new Set<string>();

  constructor(private readonly deliver: (event: RunEvent) => void) {}

  push(event: RunEvent): void {
    if (!('file' in event)) {
      this.deliver(event);
      return;
    }
    const file = this.done.has(event.file) ? (this.focus ?? event.file) : event.file;
    if (this.done.has(file) && this.focus === null) {
      // A late error for a finished file with nothing else running: show it now.
      this.deliver(event);
      return;
    }
    if (!this.buffers.has(file)) {
      this.buffers.set(file, []);
      this.order.push(file);
    }
    this.focus ??= file;
    if (file === this.focus) {
      this.deliver(event);
      if (event.type === 'file:end' && event.file === file) this.advance();
    } else {
      this.buffers.get(file)?.push(event);
    }
  }

  private advance(): void {
    if (this.focus !== null) {
      this.done.add(this.focus);
      this.buffers.delete(this.focus);
      this.order.splice(this.order.indexOf(this.focus), 1);
    }
    this.focus = null;
    // Flush files in the order they started; a finished one is emptied whole, a running one becomes live.
    while (this.order.length > 0) {
      const next = this.order[0] as string;
      this.focus = next;
      const queued = this.buffers.get(next) ?? [];
      this.buffers.set(next, []);
      let ended = false;
      for (const e of queued) {
        this.deliver(e);
        if (e.type === 'file:end' && e.file === next) ended = true;
      }
      if (!ended) return;
      this.done.add(next);
      this.buffers.delete(next);
      this.order.shift();
      this.focus = null;
    }
  }

  /** At the end of a run (or after an interrupt) whatever is still buffered is delivered. */
  flush(): void {
    for (const file of [...this.order]) {
      for (const e of this.buffers.get(file) ?? []) this.deliver(e);
    }
    this.order.length = 0;
    this.buffers.clear();
    this.focus = null;
  }
}
