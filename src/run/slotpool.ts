// One single-thread Piscina per slot. Piscina cannot send a task to a chosen thread, and our workers are
// stateful (a connection, a database per slot), so each slot owns its pool: a task for slot k always runs on
// slot k's thread, and Piscina's replacement of a dead thread keeps the slot (its workerData) intact.
import { existsSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { CloseResult, ConnectionTarget, ControlMessage, RunResult, RunTask, WorkerData, WorkerEvent } from '../protocol/messages.js';
import { ENV_WORKER } from '../protocol/messages.js';

// The worker as one file when the build made it (scripts/bundle-own.mjs); its modules themselves otherwise.
const BUNDLED_WORKER = fileURLToPath(new URL('../../workers/worker.bundle.js', import.meta.url));
const WORKER_FILE = existsSync(BUNDLED_WORKER) ? BUNDLED_WORKER : fileURLToPath(new URL('../../workers/worker.js', import.meta.url));

export interface FileRun {
  /** Live events, in order, as the worker posts them. */
  onEvent(event: WorkerEvent): void;
}

/** A task as its callers give it: the pool adds the port, the slot's settings and its last generation. */
export type SlotTask = Omit<RunTask, 'kind' | 'port' | 'onlyMode' | 'env' | 'target' | 'database' | 'lastGeneration'>;

/** Which slot, and which of the slot's threads (its incarnation), runs a file. */
export interface SlotWorker {
  readonly slot: number;
  /** 1 for the slot's first thread, one more each time a new thread takes the slot over (crash, watchdog, exit). */
  readonly incarnation: number;
}

export type RunOutcome =
  | { kind: 'done'; result: RunResult }
  | { kind: 'crashed'; error: Error; aborted: string | null };

export class SlotPool implements SlotWorker {
  private pool: Piscina;
  private threadId: number | null = null;
  private thread = 1;
  private generation = 0;
  private readonly errors: Error[] = [];
  private controller: AbortController | null = null;
  private port: MessagePort | null = null;
  private abortReason: string | null = null;
  /** The last file's sink: errors that surface after it ended are still its own. */
  private lastSink: FileRun | null = null;

  constructor(private readonly data: WorkerData, private readonly env: NodeJS.ProcessEnv) {
    this.pool = this.create();
  }

  get slot(): number {
    return this.data.slot;
  }

  get incarnation(): number {
    return this.thread;
  }

  /**
   * Follows the slot's threads and connections through its events: a file begun on another thread than the last
   * is a new incarnation (Piscina replaced a dead thread, or recycle() did), and the highest generation seen is
   * handed to the next task, so a new thread does not count its connections from 1 again.
   */
  private observe(event: WorkerEvent): void {
    switch (event.type) {
      case 'file:begin':
        this.begun = true;
        if (this.threadId !== null && event.threadId !== this.threadId) this.thread++;
        this.threadId = event.threadId;
        return;
      case 'connect':
      case 'test:end':
        this.generation = Math.max(this.generation, event.generation);
        return;
      case 'rebuild':
        this.generation = Math.max(this.generation, event.rebuild.generation);
        return;
      default:
        return;
    }
  }

  private create(): Piscina {
    const pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // With 'sync' a worker's event loop is frozen between tasks, so an idle connection's socket error would
      // only surface when the next file starts.
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      workerData: this.data,
      // A thread inherits the process's execArgv unless given its own, so --node-option adds to it.
      ...(this.data.nodeOptions.length > 0 ? { execArgv: [...process.execArgv, ...this.data.nodeOptions] } : {}),
      env: { ...this.env, [ENV_WORKER]: String(this.data.slot) },
      name: 'default',
    });
    pool.on('error', (err: Error) => {
      this.errors.push(err);
      // A thread that dies before its task began (a --loader that throws as the thread starts): Piscina starts
      // another for the waiting task, which dies the same way, for ever. The task fails with the thread's error.
      if (!this.begun && this.controller !== null) {
        this.abortReason = `the worker of slot ${this.slot} could not start a thread for this file: ${err.message}`;
        this.controller.abort(err);
      }
    });
    return pool;
  }

  private slotEnv: Record<string, string> = {};
  private target: ConnectionTarget | null = null;
  private database: string | null = null;

  /** The slot's database, once provisioned; every later task carries it to the thread. */
  assign(env: Record<string, string>, target: ConnectionTarget | null, database: string | null): void {
    this.slotEnv = env;
    this.target = target;
    this.database = database;
  }

  /** Runs one file; a crash or an abort of the thread resolves as 'crashed', never rejects. */
  async run(task: SlotTask, sink: FileRun): Promise<RunOutcome> {
    this.threadRan = true;
    this.begun = false;
    const channel = new MessageChannel();
    this.controller = new AbortController();
    this.port = channel.port1;
    this.abortReason = null;
    this.lastSink = sink;
    const deliver = (event: WorkerEvent): void => {
      this.observe(event);
      sink.onEvent(event);
    };
    channel.port1.on('message', deliver);
    try {
      const result = (await this.pool.run(
        { ...task, kind: 'run', onlyMode: false, port: channel.port2, env: this.slotEnv, target: this.target, database: this.database, lastGeneration: this.generation },
        { transferList: [channel.port2], signal: this.controller.signal },
      )) as RunResult;
      this.generation = Math.max(this.generation, result.generation);
      return { kind: 'done', result: { ...result, file: task.file } };
    } catch (err) {
      // The thread is gone; Piscina starts another, which has run nothing yet.
      this.threadRan = false;
      return { kind: 'crashed', error: err instanceof Error ? err : new Error(String(err)), aborted: this.abortReason };
    } finally {
      // Messages the worker posted before its task settled (or before it died) are already queued on our port:
      // take them synchronously, in order, before the outcome is acted on.
      for (let m = receiveMessageOnPort(channel.port1); m !== undefined; m = receiveMessageOnPort(channel.port1)) {
        deliver(m.message as WorkerEvent);
      }
      channel.port1.close();
      this.controller = null;
      this.port = null;
    }
  }

  /** Asks the running file to stop after its current test (bail, Ctrl-C). */
  stop(reason: string): void {
    const message: ControlMessage = { type: 'abort', reason };
    this.port?.postMessage(message);
  }

  /** The run stops at once: the thread opens no connection any more (its backends are being ended). */
  stopAtOnce(): void {
    const message: ControlMessage = { type: 'now' };
    this.port?.postMessage(message);
  }

  /** A heartbeat to the running file's thread: it answers with a pong while its event loop turns. */
  ping(n: number): void {
    const message: ControlMessage = { type: 'ping', n };
    this.port?.postMessage(message);
  }

  /** Terminates the thread running the current file (watchdog); Piscina starts a replacement for the slot. */
  kill(reason: string): void {
    this.abortReason = reason;
    this.controller?.abort(new Error(reason));
    this.closeController?.abort(new Error(reason));
  }

  /** Replaces the thread (after a spec called process.exit), closing its connection first. */
  async recycle(): Promise<void> {
    await this.closeConnection();
    await this.pool.destroy();
    this.pool = this.create();
    this.threadRan = false;
    this.connectionClosed = null;
  }

  private connectionClosed: Promise<CloseResult | null> | null = null;

  /** Runs the thread's close task (onWorkerStop, then the goodbye) once per thread. */
  closeConnection(): Promise<CloseResult | null> {
    this.connectionClosed ??= this.runClose();
    return this.connectionClosed;
  }

  /** The close task's own abort: a root afterAll that never settles (under --timeout 0) is cut by kill() too. */
  private closeController: AbortController | null = null;

  /**
   * Whether the slot's current thread has run a task. A thread that has run none (a replacement after a crash) has
   * no connection, hooks or worker hooks to close: its close is skipped. Running it would start that thread for
   * nothing, and wait for ever when threads cannot start at all (a --loader that dies as it loads).
   */
  private threadRan = false;
  /** The running task's file has begun on a thread (its file:begin came). */
  private begun = false;

  private async runClose(): Promise<CloseResult | null> {
    if (!this.threadRan) return null;
    let result: CloseResult;
    this.closeController = new AbortController();
    try {
      result = (await this.pool.run({ kind: 'close' }, { signal: this.closeController.signal })) as CloseResult;
    } catch {
      return null;
    } finally {
      this.closeController = null;
    }
    this.deliverLate(result);
    return result;
  }

  private deliverLate(result: CloseResult): void {
    for (const { origin, error, title } of result.late ?? []) {
      this.lastSink?.onEvent({ type: 'file:error', phase: 'async', error, ...(origin !== null ? { origin } : {}), ...(title !== undefined ? { title } : {}) });
    }
  }

  /**
   * After the close, before the thread goes: the errors its code raised since (a slot that ran out of files closed
   * while others still ran), reported against their files as at the close.
   */
  async takeLate(): Promise<void> {
    if (this.connectionClosed === null || this.closing !== null || (await this.connectionClosed) === null) return;
    const result = (await this.pool.run({ kind: 'late' }).catch(() => null)) as CloseResult | null;
    if (result !== null) this.deliverLate(result);
  }

  private closing: Promise<void> | null = null;

  /**
   * Closes the slot's connection with a protocol goodbye, then the thread. Idempotent: a second call must not
   * run a task on the destroyed pool, which would boot a fresh thread just to close it.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.closeConnection();
      await this.pool.destroy();
    })();
    return this.closing;
  }
}
