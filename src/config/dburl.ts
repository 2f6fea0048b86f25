// DATABASE_URL is checked before anything connects: a value that is not a URL, or names another protocol
// (mysql://, http://), must be a usage error, never a connection attempt that speaks PostgreSQL to another server.
import { errors } from '../errors.js';

const SCHEMES = ['postgres:', 'postgresql:', 'socket:'];
const EXAMPLE = 'postgres://user@localhost:5432/app_test';

export function checkDatabaseUrl(env: NodeJS.ProcessEnv): void {
  const value = env['DATABASE_URL'];
  if (value === undefined || value === '') return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.config('DATABASE_URL', 'it is not a URL', `Set it to a PostgreSQL URL such as ${EXAMPLE} (or socket:/var/run/postgresql?db=app_test), or unset it and use the PG* variables.`);
  }
  if (!SCHEMES.includes(url.protocol)) {
    throw errors.config('DATABASE_URL', `its scheme "${url.protocol}" is not PostgreSQL's`, `Use postgres:, postgresql: or socket:, for example ${EXAMPLE}; bulkhead runs only against PostgreSQL.`);
  }
}
