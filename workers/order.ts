// Test order inside a loaded file: a seeded shuffle (--shuffle) and an exact selection (replay, bisect).
// Hooks belong to their suites, so only the order of tests and of sibling suites changes.
import type Mocha from 'mocha';
import { hash32, rng, shuffled } from '../src/protocol/random.js';

export function shuffleSuite(suite: Mocha.Suite, seed: number): void {
  const random = rng(hash32(suite.fullTitle(), seed));
  suite.tests.splice(0, suite.tests.length, ...shuffled(suite.tests, random));
  suite.suites.splice(0, suite.suites.length, ...shuffled(suite.suites, random));
  for (const child of suite.suites) shuffleSuite(child, seed);
}

/**
 * Keeps only the tests whose full titles are listed and puts them (and their suites) in the listed order, as far
 * as mocha's suite-by-suite execution allows. Returns the titles that were not found in the file.
 */
export function selectTests(root: Mocha.Suite, titles: readonly string[]): string[] {
  const rank = new Map<string, number>();
  titles.forEach((t, i) => {
    if (!rank.has(t)) rank.set(t, i);
  });
  const found = new Set<string>();
  const visit = (suite: Mocha.Suite): number => {
    const kept = suite.tests.filter((t) => rank.has(t.fullTitle()));
    kept.forEach((t) => found.add(t.fullTitle()));
    kept.sort((a, b) => (rank.get(a.fullTitle()) ?? 0) - (rank.get(b.fullTitle()) ?? 0));
    suite.tests.splice(0, suite.tests.length, ...kept);
    const children = suite.suites.map((s) => ({ s, first: visit(s) })).filter((c) => c.first !== Infinity);
    children.sort((a, b) => a.first - b.first);
    suite.suites.splice(0, suite.suites.length, ...children.map((c) => c.s));
    return Math.min(Infinity, ...kept.map((t) => rank.get(t.fullTitle()) ?? Infinity), ...children.map((c) => c.first));
  };
  visit(root);
  return titles.filter((t) => !found.has(t));
}
