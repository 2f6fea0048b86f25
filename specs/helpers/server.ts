// What the shared PostgreSQL server saw of a run: a scratch database per spec file (so counters and log lines
// can be attributed to our runs alone, whatever else uses the server), its bulkhead sessions, its abandoned
// sessions, and the "unexpected EOF" lines the server log gained.
import { accessSync, constants, openSync, readSync, closeSync, statSync } from 'node:fs';
import { bulkheadSessions, query, sessionsAbandoned, SERVER_URL } from './fixture.js';

/** Where the Debian cluster of the shared server logs (log_line_prefix '%m [%p] %q%u@%d '). */
export const SERVER_LOG = process.env['BULKHEAD_TEST_SERVER_LOG'] ?? '/var/log/postgresql/postgresql-15-main.log';
const EOF_LINE = 'unexpected EOF on client connection';

let counter = 0;

export interface ScratchDatabase {
  name: string;
  /** SERVER_URL with the scratch database in place of its own. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database; `drop()` removes it even with sessions still on it. */
export async function scratchDatabase(label: string): Promise<ScratchDatabase> {
  // "test" in the name: bulkhead only provisions on databases that look like test databases.
  const name = `bulkhead_test_${label}_${process.pid}_${++counter}`;
  await query(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return { name, url: url.href, drop: async () => void (await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

/** Fails loudly when the log cannot be read, rather than letting the EOF check pass on nothing. */
export function assertServerLogReadable(): void {
  accessSync(SERVER_LOG, constants.R_OK);
}

function logSize(log = SERVER_LOG): number {
  return statSync(log).size;
}

/** Lines the log gained since `offset` that report an unexpected EOF from a session on `database`. */
function eofLinesSince(offset: number, database: string, log = SERVER_LOG): string[] {
  const size = logSize(log);
  // A rotated (smaller) log is read from its start: every line in it is new.
  const from = size < offset ? 0 : offset;
  const buf = Buffer.alloc(size - from);
  const fd = openSync(log, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes(EOF_LINE) && line.includes(`@${database}`));
}

export interface ServerState {
  /** bulkhead sessions still open on the database. */
  sessions: number;
  /** Sessions the database saw dropped without a protocol goodbye since the watch began. */
  abandoned: number;
  /** "unexpected EOF on client connection" lines the log gained for the database since the watch began. */
  eof: string[];
}

/** What the server should report after every run: all clean. */
export const CLEAN: ServerState = { sessions: 0, abandoned: 0, eof: [] };

export interface ServerWatch {
  check(): Promise<ServerState>;
}

/** A server other than the shared one (a spec's own cluster): any URL on it, and its log (with %u@%d in each line). */
export interface WatchedServer {
  url: string;
  log: string;
}

/** Starts watching a database; `check()` tells what the runs since then left behind. */
export async function watchServer(database: string, server: WatchedServer = { url: SERVER_URL, log: SERVER_LOG }): Promise<ServerWatch> {
  accessSync(server.log, constants.R_OK);
  const offset = logSize(server.log);
  const abandoned = await sessionsAbandoned(database, server.url);
  return {
    async check() {
      return {
        sessions: await bulkheadSessions(database, server.url),
        abandoned: (await sessionsAbandoned(database, server.url)) - abandoned,
        eof: eofLinesSince(offset, database, server.log),
      };
    },
  };
}

/**
 * A scratch database for the enclosing describe(): created before its hooks and tests run, dropped after them
 * even when they fail. Call it inside the describe() callback; the returned getter is valid from then on.
 */
export function scratchPerSuite(label: string): () => ScratchDatabase {
  let scratch: ScratchDatabase | null = null;
  before(async function () {
    scratch = await scratchDatabase(label);
  });
  after(async function () {
    await scratch?.drop();
  });
  return () => {
    if (scratch === null) throw new Error(`the scratch database "${label}" is used before its before() hook ran`);
    return scratch;
  };
}
