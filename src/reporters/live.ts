// The progress on stderr (--progress). On a terminal it is a block drawn in place by log-update, cleared before any
// reporter writes (reporters/set.ts calls clear() before every delivery) and drawn again on the next tick, so the
// reporter's lines are never overwritten or split. Not a terminal, CI=true, TERM=dumb or NO_COLOR: plain lines, no
// escape codes, one when a file ends and at least `interval` ms after the last.
import { createRequire } from 'node:module';
import type { createLogUpdate } from 'log-update';

// Loaded only for a live block on a terminal (~80 ms to load): CI and piped runs never draw one.
const load = createRequire(import.meta.url);
import { ProgressState, progressBlock, progressLine } from './progress.js';
import type { RunEvent } from '../run/events.js';

export type ProgressMode = 'auto' | 'live' | 'plain' | 'off';

/** In `auto` mode, without a terminal: a plain line at most every 30 s, a sign of life in a CI log. */
export const AUTO_PLAIN_INTERVAL = 30_000;
const TICK = 200;

/** What `mode` comes to on this stream in this environment. */
export function progressKind(mode: ProgressMode, stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): { kind: 'live' | 'plain' | 'off'; interval: number } {
  if (mode === 'off') return { kind: 'off', interval: 0 };
  if (mode === 'plain') return { kind: 'plain', interval: 0 };
  if (mode === 'live') return { kind: 'live', interval: 0 };
  // A pseudo-terminal nobody sized (0 columns) cannot hold a block drawn in place.
  const tty = (stream as NodeJS.WriteStream).isTTY === true && ((stream as NodeJS.WriteStream).columns ?? 0) > 0;
  const plain = !tty || env['CI'] === 'true' || env['TERM'] === 'dumb' || (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '');
  return plain ? { kind: 'plain', interval: AUTO_PLAIN_INTERVAL } : { kind: 'live', interval: 0 };
}

export class Progress {
  private readonly draw: ReturnType<typeof createLogUpdate> | null;
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private lastLine = -Infinity;

  constructor(
    private readonly state: ProgressState,
    private readonly kind: 'live' | 'plain',
    private readonly stream: NodeJS.WritableStream,
    private readonly interval: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.draw = kind === 'live' ? (load('log-update') as { createLogUpdate: typeof createLogUpdate }).createLogUpdate(stream as NodeJS.WriteStream, { showCursor: true }) : null;
  }

  handle(event: RunEvent): void {
    const now = this.clock();
    this.state.handle(event, now);
    if (event.type === 'run:begin' && this.kind === 'live') {
      this.redraw();
      this.timer = setInterval(() => this.redraw(), TICK);
      this.timer.unref();
    }
    if (event.type === 'file:end' && this.kind === 'plain' && now - this.lastLine >= this.interval) {
      this.lastLine = now;
      this.stream.write(`${progressLine(this.state, now)}\n`);
    }
  }

  private redraw(): void {
    if (this.draw === null) return;
    const columns = (this.stream as NodeJS.WriteStream).columns ?? 100;
    this.draw(progressBlock(this.state, this.clock(), columns));
    this.shown = true;
  }

  /** Takes the block off the screen before someone else writes; the next tick draws it below their lines. */
  clear(): void {
    if (this.draw !== null && this.shown) {
      this.draw.clear();
      this.shown = false;
    }
  }

  /** The run is over: the block goes, the summary follows. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }
}
