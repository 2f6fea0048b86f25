// `npm test` runs the whole suite; `npm test -- specs/x.spec.ts` (the pretest script builds dist/ first, which the
// specs spawn) runs exactly the files named. The suite's glob lives here and not in .mocharc.json because mocha
// adds the rc's `spec` to the files given on the command line, so a single file would run the whole suite.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { existsSync, readdirSync } from 'node:fs';

const SUITE = 'specs/**/*.spec.ts';

const require = createRequire(import.meta.url);
const { loadOptions } = require('mocha/lib/cli/options.cjs') as { loadOptions(argv: string[]): { _?: unknown[] } };

const args = process.argv.slice(2);
// The whole suite runs on two mocha workers (BULKHEAD_SPEC_JOBS=n for n), each with a PostgreSQL cluster of its own
// (helpers/serversetup.ts), where the system's binaries can build one; otherwise, and for named files, serially
// against one server (the local one, or the embedded server on a machine with none).
const canCluster = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
// mocha's own parser tells spec arguments (positional or --spec) from option values such as `--grep x`.
const named = loadOptions(args)._ ?? [];
// The whole suite defaults to two workers (the machine CI runs on has two cores); named files run serially.
const wanted = Number(process.env['BULKHEAD_SPEC_JOBS'] ?? (named.length === 0 ? '2' : '1'));
const jobs = wanted > 1 && canCluster && process.env['BULKHEAD_TEST_URL'] === undefined ? wanted : 1;
const parallel = jobs > 1 ? ['--parallel', '--jobs', String(jobs)] : [];
const mocha = require.resolve('mocha/bin/mocha.js');
const result = spawnSync(process.execPath, [mocha, ...parallel, ...args, ...(named.length === 0 ? [SUITE] : [])], { stdio: 'inherit', env: { ...process.env, BULKHEAD_SPEC_JOBS: String(jobs) } });
const signal = result.signal === null ? undefined : (constants.signals as Record<string, number>)[result.signal];
process.exitCode = result.status ?? (signal !== undefined ? 128 + signal : 1);
