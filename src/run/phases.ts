// Where a session's time went, for --verbose and the benchmarks' profile notes.
import type { EventBus } from './events.js';

/**
 * Where the time went (--verbose), for the benchmarks' profile notes. performance.now() counts from the process
 * start.
 */
export class Phases {
  provision = 0;
  run = 0;
  private firstTest: number | null = null;
  private runEnd: number | null = null;

  listen(bus: EventBus): void {
    bus.on('phases', (e) => {
      if (e.type === 'test:begin') this.firstTest ??= performance.now();
      if (e.type === 'run:end') this.runEnd = performance.now();
    });
  }

  /**
   * The phases cut one interval, from the process start to now, at five points, so they add up to the total (each is
   * rounded on its own, so the sum may be off by a millisecond or two): startup is everything before provisioning
   * (loading, the server check or the embedded server's start, global setup, the reporters).
   */
  lines(): string {
    const end = performance.now();
    const f = (ms: number): string => `${ms.toFixed(0)} ms`;
    const first = this.firstTest ?? this.run;
    const last = this.runEnd ?? end;
    return (
      `bulkhead: phases: startup ${f(this.provision)}, provisioning ${f(this.run - this.provision)}, dispatch ${f(first - this.run)} (to the first test), tests ${f(last - first)}, teardown ${f(end - last)}\n` +
      `bulkhead: run ${f(end - this.run)}, total ${f(end)}\n`
    );
  }
}
