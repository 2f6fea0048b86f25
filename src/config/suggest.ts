// "Did you mean": the closest known name to a misspelt flag or key, by edit distance, so a typo is refused with
// the name the user meant rather than with a list to read.

/** Levenshtein distance, with a transposition counted as one edit (Damerau's "optimal string alignment"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The candidate nearest to `name` if it is near enough to be a typo of it (a third of its length, at least 1). */
export function closest(name: string, candidates: Iterable<string>): string | null {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : null;
}

/** " Did you mean --x?" or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>, prefix = ''): string {
  const bare = name.replace(/^-+/, '');
  const hit = closest(bare, candidates);
  return hit === null ? '' : ` Did you mean ${prefix}${hit}?`;
}
