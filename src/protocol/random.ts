// Seeded randomness shared by planning (main thread), test order and fault injection (workers): the same seed
// must give the same choices on every machine, so everything random in bulkhead comes from here.
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

export interface Rng {
  /** A whole number in [from, to]. */
  int(from: number, to: number): number;
  /** A float in [0, 1). */
  float(): number;
}

/**
 * SplitMix32 (the finalizer of MurmurHash3 on a Weyl sequence): turns one 32-bit seed into well-mixed words.
 * pure-rand's xoroshiro128plus(seed) puts the seed into the state as it is (s00 = ~seed), so its first outputs are
 * linear in the seed: seeds 7 and 8 drew neighbouring first numbers (the last file of a shuffle was never the same
 * for neighbouring seeds), and a chaos decision, which takes a single draw, was just the hash of its test title.
 */
function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
}

export function rng(seed: number): Rng {
  const mix = splitmix32(seed);
  // Four consecutive SplitMix32 words are never all zero, the one state xoroshiro cannot leave.
  const g = xoroshiro128plusFromState([mix(), mix(), mix(), mix()]);
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
