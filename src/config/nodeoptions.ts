// --node-option (mocha's -n) and Node flags given directly (--enable-source-maps): mocha starts a child process
// with them; bulkhead's specs run in worker threads, which take only the options Node allows per thread. Each is
// tried on a throwaway thread here, before anything runs, so one a thread cannot take is refused with the fix
// instead of failing every worker later.
import { Worker } from 'node:worker_threads';
import { errors } from '../errors.js';

/** `--name[=value]` for each option, as a Worker's execArgv takes it. */
export function nodeOptions(m: Record<string, unknown>, list: string[], isNodeFlag: (name: string) => boolean, isMochaFlag: (name: string) => boolean): string[] {
  const out = list.map((o) => (o.startsWith('-') ? o : `--${o}`));
  for (const [key, value] of Object.entries(m)) {
    // --import is loaded like --require (config/requires.ts), not passed to node.
    if (key === 'import' || key === '_' || isMochaFlag(key) || !isNodeFlag(key)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(v === true ? `--${key}` : `--${key}=${String(v)}`);
  }
  return out;
}

/** Throws a usage error for the first option a worker thread refuses (Node checks execArgv as the Worker is made). */
export function checkWorkerOptions(options: readonly string[]): void {
  for (const option of options) {
    let worker: Worker;
    try {
      worker = new Worker('', { eval: true, execArgv: [option], stdout: true, stderr: true });
    } catch (err) {
      throw errors.usage(
        `The Node option ${option} (from --node-option or given directly) cannot be applied to bulkhead's workers: ` +
          `they are worker threads, and Node refuses it for a thread (${(err as { code?: string }).code ?? 'invalid'}). ` +
          `Set it for the whole process instead (NODE_OPTIONS="${option}" bulkhead ..., or node ${option} node_modules/.bin/bulkhead ...), or drop it.`,
        err,
      );
    }
    void worker.terminate();
  }
}
