// --require/--import modules are resolved before anything starts, so a missing one is a usage error, not a crash.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * A --require/--import module: a path (resolved from the project root, as mocha resolves it from the working
 * directory, also with ".js" added) or a package. One that cannot be found is a usage error now, before any
 * server is started or any test is loaded, rather than a crash of the first thread that loads it.
 */
export function resolveRequire(root: string, spec: string, flag: '--require' | '--import'): string {
  const file = path.resolve(root, spec);
  if (existsSync(file)) return file;
  if (existsSync(`${file}.js`)) return `${file}.js`;
  if (!/^\.{1,2}([\\/]|$)/.test(spec) && !path.isAbsolute(spec)) {
    // From the project, and from mocha's own location, which is where mocha's loader resolves it from.
    let notFound: unknown = null;
    for (const from of [path.join(root, 'package.json'), require.resolve('mocha')]) {
      try {
        createRequire(from).resolve(spec);
        return spec;
      } catch (err) {
        // A package that exists but exports only for import() is still loadable; only "not found" is an error.
        if ((err as { code?: unknown }).code !== 'MODULE_NOT_FOUND') return spec;
        notFound = err;
      }
    }
    throw errors.requireMissing(spec, flag, root, notFound);
  }
  throw errors.requireMissing(spec, flag, root);
}
