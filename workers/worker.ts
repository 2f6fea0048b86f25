// Runs one spec file per task with a fresh Mocha, streaming events as they happen. Imports only protocol types
// from src/; never the pool.
// Piscina hands its workerData to node's Worker as is; importing it from piscina would load all of piscina again.
import { threadId, workerData as piscinaData } from 'node:worker_threads';
import path from 'node:path';
import type Mocha from 'mocha';
import { preferBundle } from './mocha.js';
import type { CloseResult, ControlMessage, RunResult, RunTask, Task, WorkerData, WorkerEvent } from '../src/protocol/messages.js';
import { ENV_WORKER } from '../src/protocol/messages.js';
import { mochaInUse, useMocha } from '../src/protocol/mochacopy.js';
import { attach, detach, drainOrphans, installCapture, setMochaRunning, takeExitCalled } from './capture.js';
import { closeConnection, configureConnection, continueGenerations, currentGeneration, stopConnecting } from './connection.js';
import { installResetHooks, settleFile, watchFailures, watchSessions } from './hooks.js';
import { configureAppTermination, heldPids, patchApplicationPg } from './apppg.js';
import { isConnectionError } from '../src/protocol/faults.js';
import { terminateBackend } from './client.js';
import { closeSessionCheck, configureSessionCheck } from './appcheck.js';
import type { FileTree } from './tree.js';
import { createMocha, loadFile } from './load.js';
import { attributeUncaught, streamEvents } from './stream.js';
import { loadConfigHooks } from './confighooks.js';
import { serializeError } from '../src/protocol/serialize.js';
import { ensureTypeScript } from './typescript.js';
import { RootHooks } from './roothooks.js';
import { closeSetupFiles } from './setuponce.js';
import { configureChaos, setChaosRunner } from './chaos.js';
import { StopReason } from './stop.js';
import { drainTimers, enterRunPhase, withOrigin, withoutOrigin } from './origin.js';

/*
 * Before a worker closes, a test's late timer still gets this long to fire, so its error is reported (serial mocha
 * waits for the event loop to empty; with --exit it does not wait, and neither do we).
 */
const LATE_ERRORS_GRACE_MS = 1000;

const data = piscinaData as WorkerData;
// Loaded only for --require/--import: it pulls in mocha's watch mode, which costs every worker's start-up.
interface RunHelpers {
  handleRequires(requires: string[]): Promise<{ rootHooks?: Mocha.RootHookObject }>;
}
const runHelpers = (): RunHelpers => mochaInUse().load<RunHelpers>('lib/cli/run-helpers');

process.env[ENV_WORKER] = String(data.slot);
useMocha(data.mochaPackage);
preferBundle(data.mochaPackage, data.mochaBundle);
installCapture();

let stopHook: ((info: { slot: number }) => unknown) | null = null;
let prepared: Promise<RootHooks> | null = null;

/** Once per worker: TypeScript support, bulkhead config hooks, and `--require` modules (root hook plugins). */
function prepare(target: RunTask['target'], database: RunTask['database']): Promise<RootHooks> {
  prepared ??= withoutOrigin(async () => {
    if (data.typescript) await ensureTypeScript();
    // Before anything of the project loads pg: its clients are then the patched ones the reset rule can see.
    patchApplicationPg(data.root);
    configureAppTermination((pid) => terminateBackend(target ?? data.target, data.slot, pid));
    configureSessionCheck({ slot: data.slot, target: target ?? data.target, onEnded: (session) => emitCurrent({ type: 'session:ended', session }) });
    const hooks = await loadConfigHooks(data.configFile);
    configureConnection({
      slot: data.slot,
      target: target ?? data.target,
      ...(hooks.onConnect !== undefined ? { onConnect: hooks.onConnect } : {}),
      ...(hooks.onReset !== undefined ? { onReset: hooks.onReset } : {}),
      transaction: data.transaction,
      onEvent: (event) => emitCurrent(event.type === 'connect' ? { ...event, slot: data.slot } : event),
    });
    stopHook = hooks.onWorkerStop ?? null;
    await hooks.onWorkerStart?.({ slot: data.slot, db: database ?? process.env['PGDATABASE'] ?? null });
    configureChaos(data.chaos, (fault, title) => emitCurrent({ type: 'chaos', fault, title }));
    if (data.mocha.requires.length === 0) return new RootHooks(undefined, data.rootHooks, data.slot);
    const plugins = await runHelpers().handleRequires(data.mocha.requires);
    return new RootHooks(plugins.rootHooks, data.rootHooks, data.slot);
  });
  return prepared;
}

let currentEmit: ((event: WorkerEvent) => void) | null = null;
/**
 * The connection opened ahead of the next test after a discard may finish connecting once its file has ended. The
 * main thread still needs its connect event (the pid, for the watchdog and a second signal to end it; the generation,
 * for the slot's count), so it waits for the next file.
 */
const heldConnects: WorkerEvent[] = [];
function emitCurrent(event: WorkerEvent): void {
  if (currentEmit !== null) currentEmit(event);
  else if (event.type === 'connect') heldConnects.push(event);
}

export default async function run(task: Task): Promise<RunResult | CloseResult> {
  // A slot that ran out of files closed while others still ran; what its code threw since is still its files' error.
  // But not a lost session: once the worker closed, the main thread ends what is left on the slot's database (release,
  // teardown), including the clients of a pg this thread cannot see (another copy than the project's).
  if (task.kind === 'late') return { closed: true, generation: currentGeneration(), late: lateErrors((e) => !isConnectionError(e)), held: [] };
  if (task.kind === 'close') {
    // The plugin's afterAll (once per worker) runs first, as serial mocha runs the root afterAll before it waits for
    // the event loop: it ends the app's pools, whose idle timers would otherwise hold the wait below to its limit.
    // It runs before onWorkerStop and the goodbye, since it may still use the database.
    const hooks = prepared === null ? null : await prepared.catch(() => null);
    const hooksError = hooks === null ? null : await hooks.close(data.mocha.timeout);
    // Then a --file setup file's root after hooks, once per worker, as serial mocha runs them after the plugin's.
    const setupError = await closeSetupFiles(data.mocha.timeout);
    if (!data.mocha.exit) await drainTimers(LATE_ERRORS_GRACE_MS);
    // onWorkerStop runs only in a worker whose onWorkerStart ran, and before its connection goes.
    let stopError: unknown = null;
    try {
      await stopHook?.({ slot: data.slot });
    } catch (err) {
      stopError = new Error(`the onWorkerStop hook of slot ${data.slot} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    await closeConnection();
    await closeSessionCheck();
    // Errors that surfaced after this worker's last file ended have no file run to report them; the pool does.
    const late = lateErrors();
    if (hooksError !== null) late.push({ origin: null, error: serializeError(hooksError.error), title: hooksError.title });
    if (setupError !== null) late.push({ origin: null, error: serializeError(setupError.error), title: setupError.title });
    if (stopError !== null) late.push({ origin: null, error: serializeError(stopError) });
    return { closed: true, generation: currentGeneration(), late, held: heldPids() };
  }
  return withOrigin(relative(task.file), () => runFile(task));
}

function lateErrors(keep: (error: unknown) => boolean = () => true): CloseResult['late'] {
  return drainOrphans()
    .filter(({ error }) => keep(error))
    .map(({ file, error }) => ({ origin: file, error: serializeError(error) }));
}

async function runFile(task: RunTask): Promise<RunResult> {
  const port = task.port as unknown as import('node:worker_threads').MessagePort;
  const emit = (event: WorkerEvent): void => port.postMessage(event);
  currentEmit = emit;
  // The heartbeat: the test watchdog judges a blocked event loop by these answers, not by the clock alone.
  const onPing = (message: ControlMessage): void => {
    if (message.type === 'ping') emit({ type: 'pong', n: message.n });
    if (message.type === 'now') stopConnecting();
  };
  port.on('message', onPing);
  try {
    return await runTask(task, port, emit);
  } finally {
    port.off('message', onPing);
  }
}

async function runTask(task: RunTask, port: import('node:worker_threads').MessagePort, emit: (event: WorkerEvent) => void): Promise<RunResult> {
  const stop = new StopReason();
  continueGenerations(task.lastGeneration);
  attach({ emit, file: relative(task.file), onExit: (code) => stop.exitCalled(code) });
  emit({ type: 'file:begin', slot: data.slot, threadId });
  for (const held of heldConnects.splice(0)) emit(held);
  let mocha: Mocha | null = null;
  try {
    // The slot's database settings go in before anything of the user's loads (requires, config, specs).
    Object.assign(process.env, task.env);
    const rootHooks = await prepare(task.target, task.database);
    mocha = createMocha(data.mocha, rootHooks.forFile(relative(task.file)));
    const loaded = await loadFile(mocha, task, data.mocha, emit, data.rootHooks);
    if (loaded === null || task.mode === 'collect') return await finish(task.file, mocha);
    enterRunPhase();
    await runMocha(mocha, loaded, emit, port, stop);
    await settleFile();
    if (stop.reason !== null) emit({ type: 'file:stopped', reason: stop.reason });
  } catch (err) {
    emit({ type: 'file:error', phase: 'run', error: serializeError(err) });
  }
  return finish(task.file, mocha);
}

async function finish(file: string, mocha: Mocha | null): Promise<RunResult> {
  // Give errors scheduled by the file's last test a turn of the event loop to surface while the file is current.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  try {
    mocha?.dispose();
  } catch {
    // dispose() throws while a runner is still referenced; the instance is dropped either way.
  }
  detach();
  currentEmit = null;
  return { file, recycle: takeExitCalled(), generation: currentGeneration() };
}

function relative(file: string): string {
  return path.relative(data.root, file).split(path.sep).join('/');
}

function runMocha(mocha: Mocha, tree: FileTree, emit: (event: WorkerEvent) => void, port: import('node:worker_threads').MessagePort, stop: StopReason): Promise<void> {
  return new Promise<void>((resolve) => {
    installResetHooks(mocha.suite, tree);
    // Listeners go on in the reporter's constructor, the one place mocha hands out its runner before it starts.
    mocha.reporter(function BulkheadStream(r: Mocha.Runner) {
      attributeUncaught(r, emit);
      // Under mocha the reporter's Base listeners set test.err and test.speed as a test fails or passes, before
      // its afterEach hooks run; specs read this.currentTest.err there. A Base keeps that true in the worker.
      // It also turns the failure's actual and expected values into text, within maxDiffSize as in mocha.
      const size = data.mocha.maxDiffSize;
      new (mochaInUse().Mocha.reporters.Base)(r, (size !== undefined ? { reporterOption: { maxDiffSize: size } } : {}) as Mocha.MochaOptions);
      setChaosRunner(r);
      stop.watch(r);
      streamEvents(r, tree, emit, stop, data.mocha.bail);
      watchFailures(r, tree);
      watchSessions(r);
    } as unknown as string);
    setMochaRunning(true, () => (runner as Mocha.Runner & { currentRunnable?: Mocha.Runnable }).currentRunnable !== undefined);
    const runner: Mocha.Runner = mocha.run(() => {
      setMochaRunning(false);
      // Mocha keeps its 'uncaughtException' listener after a run and rethrows from it, which is fatal to the
      // thread; from here on, capture.ts attributes stray errors to the file instead.
      runner.dispose();
      port.off('message', onControl);
      resolve();
    });
    const onControl = (message: ControlMessage): void => {
      if (message.type === 'abort') runner.abort();
    };
    port.on('message', onControl);
  });
}

