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
//
// Lingering (the inner loop): an owner that ends normally writes {"linger": {ms, file, lease}} before closing its
// channel. Only then does EOF not stop the server: the watchdog publishes the lease (written whole, then renamed
// into place, 0600: it holds the password and the claim token) and stops the server when `ms` pass unclaimed. A
// later run claims it over a loopback TCP connection with the token; the watchdog's one event loop decides, so
// exactly one claimer gets "ok" and the lease file is gone before it does. That connection is then the owner's
// channel, with the pipe's guarantee: the kernel closes it however the claimer dies, and EOF without a linger
// message stops the server. The server's log goes to whoever owns it (the starter's stderr pipe, the claimer's
// connection), and nowhere while it lingers. The owner hears "... lingers for N s" on that channel once the lease is
// in place, so the next run, however soon it starts, finds it. `<dataDir>.watchdog` holds the watchdog's pid, so the reaper
// (runs.ts) can tell a directory whose owner died but whose watchdog still guards it from an abandoned one.
const SOURCE = `'use strict';
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { renameSync, rmSync, unlinkSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const dataDir = process.argv[1];
const sidecar = dataDir + '.watchdog';
process.stderr.on('error', () => {});
process.stdin.on('error', () => {});
let server = null;
let stopping = false;
let sink = (chunk) => process.stderr.write(chunk);
let asked = null;
let lingering = null;
let control = null;
function unlink(file) {
  try { unlinkSync(file); } catch {}
}
try { writeFileSync(sidecar, String(process.pid)); } catch {}
function finish(code) {
  if (lingering !== null) unlink(lingering.file);
  try {
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    process.stderr.write('bulkhead watchdog: cannot remove ' + dataDir + ': ' + err.message + '\\n');
  }
  unlink(sidecar);
  process.exit(code);
}
function stop() {
  if (stopping) return;
  stopping = true;
  if (lingering !== null) clearTimeout(lingering.timer);
  if (control !== null) control.close();
  if (server === null) return finish(0);
  server.kill('SIGQUIT');
  setTimeout(() => server.kill('SIGKILL'), 10000).unref();
}
function start(command) {
  server = spawn(command.bin, command.args, { stdio: ['ignore', 'ignore', 'pipe'], uid: command.uid, gid: command.gid });
  server.stderr.on('data', (chunk) => sink(chunk));
  server.on('error', (err) => {
    process.stderr.write('bulkhead watchdog: cannot run ' + command.bin + ': ' + err.message + '\\n');
    finish(127);
  });
  server.on('exit', (code) => finish(stopping ? 0 : code || 1));
}
function lines(stream, onMessage) {
  let input = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    input += chunk;
    for (let end = input.indexOf('\\n'); end >= 0; end = input.indexOf('\\n')) {
      let message;
      try { message = JSON.parse(input.slice(0, end)); } catch { message = null; }
      input = input.slice(end + 1);
      if (message === null || typeof message !== 'object') return stop();
      onMessage(message);
    }
  });
}
function owned(stream, ack) {
  let gone = false;
  const released = () => {
    if (gone) return;
    gone = true;
    const linger = asked;
    asked = null;
    if (linger === null || server === null || stopping || !(linger.ms > 0)) {
      ack(null);
      return stop();
    }
    sink = () => {};
    publish(linger, ack);
  };
  stream.on('end', released).on('close', released).on('error', released);
}
function publish(linger, ack) {
  const token = randomBytes(18).toString('base64url');
  const go = () => {
    if (stopping) return ack(null);
    const tmp = linger.file + '.' + process.pid + '.tmp';
    try {
      const lease = Object.assign({}, linger.lease, { watchdog: process.pid, control: control.address().port, token });
      writeFileSync(tmp, JSON.stringify(lease) + '\\n', { mode: 0o600 });
      renameSync(tmp, linger.file);
    } catch {
      unlink(tmp);
      ack(null);
      return stop();
    }
    lingering = { file: linger.file, token, timer: setTimeout(expire, linger.ms) };
    ack('bulkhead: the embedded PostgreSQL on 127.0.0.1:' + linger.lease.port + ' lingers for ' + linger.ms / 1000 + ' s for the next run\\n');
  };
  if (control !== null) return go();
  control = net.createServer({ allowHalfOpen: true }, claim).on('error', stop);
  control.listen(0, '127.0.0.1', go);
}
function expire() {
  unlink(lingering.file);
  lingering = null;
  stop();
}
function claim(socket) {
  socket.on('error', () => {});
  let decided = false;
  lines(socket, (message) => {
    if (decided) {
      if (message.linger) asked = message.linger;
      return;
    }
    decided = true;
    if (lingering === null || stopping || message.claim !== lingering.token) return void socket.end('busy\\n');
    clearTimeout(lingering.timer);
    unlink(lingering.file);
    lingering = null;
    socket.write('ok\\n');
    sink = (chunk) => socket.write(chunk);
    owned(socket, (text) => socket.end(text === null ? undefined : text));
  });
}
lines(process.stdin, (message) => {
  if (message.linger) asked = message.linger;
  else if (server === null && !stopping) start(message);
});
owned(process.stdin, (text) => { if (text !== null) process.stderr.write(text); });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
`;

/**
 * Starts the watchdog for `dataDir`. Write one JSON line (a ServerCommand) to its stdin to start the server; its
 * stderr carries the server's log; closing its stdin stops the server (after a LingerRequest line: lingers); its
 * exit means the server is gone and `dataDir` deleted.
 */
export function spawnWatchdog(dataDir: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['-e', SOURCE, dataDir], { detached: true, stdio: ['pipe', 'ignore', 'pipe'], env });
}

/** What an owner that ends normally writes (one JSON line) before closing its channel, so the server lingers. */
export interface LingerRequest {
  linger: { ms: number; file: string; lease: LeaseBody };
}

/** The lease as the owner describes it; the watchdog adds its pid, its control port and the claim token. */
export interface LeaseBody {
  port: number;
  password: string;
  dataDir: string;
  /** The server's version ("17.10") and the binaries package's (the cache key). */
  version: string;
  binaries: string;
  postmaster: number;
}

export interface Lease extends LeaseBody {
  watchdog: number;
  control: number;
  token: string;
}

/** The line the watchdog writes to its owner once the lease is published (LINGERS matches it). */
export const LINGERS = /^bulkhead: the embedded PostgreSQL on \S+ lingers for /;
