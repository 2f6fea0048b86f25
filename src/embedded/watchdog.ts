// The watchdog guarantees that an embedded server never outlives the process that started it, however that process
// ends: stop(), an uncaught exception, Ctrl-C, SIGTERM or SIGKILL. It is a tiny detached Node process that starts
// PostgreSQL as its own child and reads a pipe whose only write end is held by the main process. The kernel closes
// that end when the main process dies, for whatever reason, and the EOF makes the watchdog shut the server down and
// delete its data directory: the pattern of Testcontainers' Ryuk. Signal handlers in the main process could not
// cover SIGKILL, and would fight the CLI over the exit status; the watchdog needs none there.
//
// It is detached (its own session) so that Ctrl-C in the terminal does not stop the server under a CLI that is
// still tearing down gracefully. It runs as `node -e` source rather than a module file, so that it boots without a
// TypeScript loader and cannot import anything from the project.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerCommand {
  bin: string;
  args: string[];
  uid?: number;
  gid?: number;
}

// It guards the data directory from its first moment: the main process copies the cluster while the watchdog boots,
// and sends the server's command line when the copy is complete; an EOF before that just deletes the directory.
// Immediate shutdown (SIGQUIT) skips the shutdown checkpoint, since the data is deleted next. The postmaster
// SIGKILLs children that ignore it; the timer covers a postmaster that hangs. process.exit runs only once the
// server has exited and its directory is gone, so the watchdog's exit tells the main process that stop() is done.
const SOURCE = `'use strict';
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const dataDir = process.argv[1];
process.stderr.on('error', () => {});
let server = null;
let stopping = false;
let input = '';
function finish(code) {
  try {
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    process.stderr.write('bulkhead watchdog: cannot remove ' + dataDir + ': ' + err.message + '\\n');
  }
  process.exit(code);
}
function stop() {
  if (stopping) return;
  stopping = true;
  if (server === null) return finish(0);
  server.kill('SIGQUIT');
  setTimeout(() => server.kill('SIGKILL'), 10000).unref();
}
function start(command) {
  server = spawn(command.bin, command.args, { stdio: ['ignore', 'ignore', 'inherit'], uid: command.uid, gid: command.gid });
  server.on('error', (err) => {
    process.stderr.write('bulkhead watchdog: cannot run ' + command.bin + ': ' + err.message + '\\n');
    finish(127);
  });
  server.on('exit', (code) => finish(stopping ? 0 : code || 1));
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  if (server !== null || stopping) return;
  input += chunk;
  const end = input.indexOf('\\n');
  if (end >= 0) start(JSON.parse(input.slice(0, end)));
});
process.stdin.on('end', stop).on('close', stop).on('error', stop);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
`;

/**
 * Starts the watchdog for `dataDir`. Write one JSON line (a ServerCommand) to its stdin to start the server; its
 * stderr carries the server's log; closing its stdin stops the server; its exit means the server is gone and
 * `dataDir` deleted.
 */
export function spawnWatchdog(dataDir: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['-e', SOURCE, dataDir], { detached: true, stdio: ['pipe', 'ignore', 'pipe'], env });
}
