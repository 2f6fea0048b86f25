// mocha 12 made reporters/Base an ES class, so a reporter written as a function that calls
// `Base.call(this, runner)` (mocha-junit-reporter is one) throws "Class constructor Base cannot be invoked
// without 'new'", even under plain mocha. A static `call` on Base does the constructor's work for such a
// reporter: the same fields, sharing the failure list that Base's own listeners fill.
import type Mocha from 'mocha';
import { mochaInUse } from '../protocol/mochacopy.js';

interface BaseFields {
  failures: unknown[];
  options: unknown;
  runner: unknown;
  stats: unknown;
}

export function allowFunctionReporters(): void {
  const Base = mochaInUse().Mocha.reporters.Base as unknown as new (runner: Mocha.Runner, options?: unknown) => BaseFields;
  if (Object.prototype.hasOwnProperty.call(Base, 'call')) return;
  Object.defineProperty(Base, 'call', {
    configurable: true,
    value(this: unknown, self: Partial<BaseFields>, runner: Mocha.Runner, options?: unknown): unknown {
      // Subclasses inherit this static; anything but Base itself keeps the ordinary Function#call.
      if (this !== Base) return Function.prototype.call.call(this as (...a: unknown[]) => unknown, self, runner, options);
      const base = Reflect.construct(Base, [runner, options]) as BaseFields;
      Object.assign(self, { failures: base.failures, options: base.options, runner: base.runner, stats: base.stats });
      return undefined;
    },
  });
}
