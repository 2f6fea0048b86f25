// The CI recipes in docs/ci/ are real files: each parses, and every bulkhead command line in it is accepted by the
// CLI with the environment its engine gives the job, landing on the shard the recipe means.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { loadConfig } from '../../src/config/load.js';
import { mergeArgs } from '../../src/cli/merge.js';
import { REPO } from '../helpers/fixture.js';

/** Every string in a parsed YAML document (and each command array, joined) that runs bulkhead. */
function commandLines(doc: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (/\bbulkhead\b/.test(v) && /^\s*npx /.test(v)) out.push(v.trim());
    } else if (Array.isArray(v)) {
      if (v[0] === 'npx' && v[1] === 'bulkhead') out.push(v.join(' '));
      else v.forEach(walk);
    } else if (v !== null && typeof v === 'object') {
      Object.values(v).forEach(walk);
    }
  };
  walk(doc);
  return out;
}

/** The words after `npx bulkhead`, with the engine's substitutions made and shell globs expanded to `files`. */
function argv(line: string, vars: Record<string, string>, files: readonly string[]): string[] {
  const substituted = line
    .replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, k: string) => vars[`matrix.${k}`] ?? '')
    .replace(/\$\((\w+)\)|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => vars[a ?? b ?? ''] ?? '');
  const words = substituted.split(/\s+/).slice(2);
  return words.flatMap((w) => (w.includes('*') ? files.filter((f) => new RegExp(`^${w.replace('.', '\\.').replace('*', '.*')}$`).test(f)) : [w]));
}

const RECIPES: { file: string; env: Record<string, string>; vars: Record<string, string>; shard: string }[] = [
  { file: 'github-actions.yml', env: {}, vars: { 'matrix.shard': '3' }, shard: '3/4 --shard' },
  { file: 'gitlab-ci.yml', env: { CI_NODE_INDEX: '4', CI_NODE_TOTAL: '4' }, vars: { CI_NODE_INDEX: '4' }, shard: '4/4 CI_NODE_INDEX/CI_NODE_TOTAL' },
  { file: 'kubernetes-job.yml', env: { JOB_COMPLETION_INDEX: '0', BULKHEAD_SHARD_TOTAL: '4' }, vars: { JOB_COMPLETION_INDEX: '0' }, shard: '1/4 JOB_COMPLETION_INDEX/BULKHEAD_SHARD_TOTAL' },
];

describe('scale-out: the CI recipes in docs/ci', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-recipes-'));
    writeFileSync(path.join(dir, 'package.json'), '{}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const recipe of RECIPES) {
    it(`${recipe.file}: parses, and every bulkhead command line is accepted on the shard it means`, async () => {
      const doc = load(readFileSync(path.join(REPO, 'docs', 'ci', recipe.file), 'utf8'));
      const lines = commandLines(doc);
      const runs = lines.filter((l) => !/ merge /.test(l));
      const merges = lines.filter((l) => / merge /.test(l));
      expect(runs, `the run lines of ${recipe.file}`).to.have.length(1);
      for (const line of runs) {
        // mocha's option loader reads the .mocharc of the working directory: the recipe runs in a project of its own.
        const cwd = process.cwd();
        process.chdir(dir);
        const { config } = await loadConfig(argv(line, recipe.vars, []), { ...recipe.env }, dir).finally(() => process.chdir(cwd));
        expect(config.command).to.equal('run');
        expect(config.shard === null ? null : `${config.shard.index}/${config.shard.total} ${config.shard.source}`).to.equal(recipe.shard);
        expect(config.timings).to.equal(path.join(dir, 'timings.json'));
        expect(config.record).to.match(/shard-\d\.json$/);
      }
      for (const line of merges) {
        const args = mergeArgs(argv(line, recipe.vars, ['shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-4.json', 'merged.json']).slice(1));
        expect(args.records).to.deep.equal(['shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-4.json']);
        expect(args.timings).to.equal('timings.json');
      }
      if (recipe.file !== 'kubernetes-job.yml') expect(merges, `the merge job of ${recipe.file}`).to.have.length(1);
    });
  }
});
