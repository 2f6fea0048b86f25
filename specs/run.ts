// `npm test` runs the whole suite; `npm test -- specs/x.spec.ts` (the pretest script builds dist/ first, which the
// specs spawn) runs exactly the files named. The suite's glob lives here and not in .mocharc.json because mocha
// adds the rc's `spec` to the files given on the command line, so a single file would run the whole suite.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';

const SUITE = 'specs/**/*.spec.ts';

const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): { _?: unknown[] } };

const args = process.argv.slice(2);
// mocha's own parser tells spec arguments (positional or --spec) from option values such as `--grep x`.
const named = loadOptions(args)._ ?? [];
const mocha = require.resolve('mocha/bin/mocha.js');
const result = spawnSync(process.execPath, [mocha, ...args, ...(named.length === 0 ? [SUITE] : [])], { stdio: 'inherit' });
const signal = result.signal === null ? undefined : (constants.signals as Record<string, number>)[result.signal];
process.exitCode = result.status ?? (signal !== undefined ? 128 + signal : 1);
