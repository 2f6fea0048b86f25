// Versions for the run record: what ran, so a replay on another machine can say what differs.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { Piscina } from 'piscina';

const require = createRequire(import.meta.url);

async function versionOf(pkg: string): Promise<string> {
  try {
    const file = pkg === 'bulkhead' ? new URL('../../../package.json', import.meta.url) : require.resolve(`${pkg}/package.json`);
    return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function versions(postgres: string): Promise<Record<string, string>> {
  const [bulkhead, mocha, pg] = await Promise.all(['bulkhead', 'mocha', 'pg'].map(versionOf));
  const piscina = Piscina.version;
  return { bulkhead: bulkhead ?? '', node: process.versions.node, mocha: mocha ?? '', pg: pg ?? '', piscina: piscina ?? '', postgres };
}
