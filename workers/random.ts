// Seeded randomness shared by planning (main thread), test order and fault injection (workers): the same seed
// must give the same choices on every machine, so everything random in bulkhead comes from here.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

export interface Rng {
  /** A whole number in [from, to]. */
  int(from: number, to: number): number;
  /** A float in [0, 1). */
  float(): number;
}

export function rng(seed: number): Rng {
  const g = xoroshiro128plus(seed | 0);
  return {
    int: (from, to) => uniformInt(g, from, to),
    float: () => uniformInt(g, 0, 0x3fffffff) / 0x40000000,
  };
}

/** A 32-bit FNV-1a hash, to derive independent seeds from a run seed and a name (a file, a test). */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}

/** Fisher-Yates on a copy: the caller's array is never shuffled in place. */
export function shuffled<T>(items: readonly T[], random: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A fresh seed for --shuffle without a value: printed and recorded, so the order can be reproduced. */
export function newSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff) + 1;
}
