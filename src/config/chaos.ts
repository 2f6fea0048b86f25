// --chaos: probabilities per query of a test body, and the seed that makes the hits reproducible.
import { errors } from '../errors.js';
import type { ChaosSpec } from '../protocol/messages.js';
import { newSeed } from '../protocol/random.js';

/** --chaos terminate=0.05,drop=0.02,delay=0.1,delay-ms=20,seed=7 */
export function parseChaos(text: string, runSeed: number | null): ChaosSpec {
  const spec: ChaosSpec = { seed: runSeed ?? newSeed(), terminate: 0, drop: 0, delay: 0, delayMs: 20 };
  const fix = 'Write it as --chaos terminate=0.05,drop=0.02,delay=0.1,delay-ms=20,seed=7 (probabilities per query, from 0 to 1).';
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [key, value] = part.split('=');
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw errors.config('chaos', `"${part}" is not key=number`, fix);
    if (key === 'terminate' || key === 'drop' || key === 'delay') {
      if (n > 1) throw errors.config('chaos', `${key}=${value} is not a probability`, fix);
      spec[key] = n;
    } else if (key === 'delay-ms') spec.delayMs = n;
    else if (key === 'seed') spec.seed = Math.trunc(n);
    else throw errors.config('chaos', `"${key}" is not a fault`, fix);
  }
  if (spec.terminate + spec.drop + spec.delay > 1) throw errors.config('chaos', 'the probabilities add up to more than 1', fix);
  return spec;
}
