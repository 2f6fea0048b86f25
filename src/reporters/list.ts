// --list-reporters and --list-interfaces: mocha's lists, printed as mocha prints them (one-and-dones.js), and
// nothing is run.
import { mochaInUse } from '../protocol/mochacopy.js';

type Described = Record<string, { description?: string; browserOnly?: boolean; abstract?: boolean }>;

// mocha 12 declares Base abstract with a static field, which every reporter class inherits, so its own
// --list-reporters prints an empty list; only a class that declares itself abstract is left out here.
function own(value: object | undefined, key: string): boolean {
  return value !== undefined && Object.prototype.hasOwnProperty.call(value, key) && (value as Record<string, unknown>)[key] === true;
}

function keys(obj: Described): string {
  const names = Object.keys(obj);
  const width = names.reduce((max, k) => Math.max(max, k.length), 0);
  const lines = names
    .filter((k) => /^[a-z]/.test(k) && obj[k]?.browserOnly !== true && !own(obj[k], 'abstract'))
    .sort()
    .map((k) => {
      const description = obj[k]?.description;
      return `    ${k.padEnd(width + 1)}${description !== undefined && description !== '' ? `- ${description}` : ''}`;
    });
  return `\n${lines.join('\n')}\n\n`;
}

export function listText(what: 'reporters' | 'interfaces'): string {
  const { Mocha } = mochaInUse();
  return keys((what === 'reporters' ? Mocha.reporters : Mocha.interfaces) as unknown as Described);
}
