// What provisioning hands the rest of the run, and what each isolation mode is built from.
import type { Isolation } from '../config/types.js';
import type { ConnectionTarget } from '../protocol/messages.js';

export type { Isolation };
import type { Admin } from './admin.js';
import type { SetupPlan } from './setup.js';


export interface ProvisionOptions {
  /** null: pg reads the PG* variables. */
  target: ConnectionTarget | null;
  isolation: Isolation;
  /** A .sql file, a directory of migrations (applied in name order), or a module exporting setup(client). */
  setup: string | null;
  workers: number;
  allowAnyDatabase: boolean;
  keepDatabases: boolean;
  /** Resolves a relative `setup`. */
  root: string;
  /**
   * Part of every name this run creates ("s2" for shard 2, "" otherwise): shards of one plan run side by side on
   * one server, each with its own template, lock and slots.
   */
  scope?: string;
  log?: (line: string) => void;
  /** host:port/database as user, for messages (the CLI's own description of the target); derived when absent. */
  where?: string;
  /** The command's maintenance session; without it provisioning opens one of its own, closed at teardown. */
  admin?: Admin;
}

export interface SlotDatabase {
  slot: number;
  database: string;
  /** Schema isolation: the slot's schema, first on the search_path of every connection (set through PGOPTIONS). */
  schema?: string;
  /** For WorkerData.target: null when pg reads the PG* variables (shared mode without DATABASE_URL). */
  target: ConnectionTarget | null;
  /** Merged into the worker's environment before it loads a spec, so the specs' own pools land here too. */
  env: Record<string, string>;
}

export interface TeardownReport {
  /** What teardown meant to drop and could not, with the reason. */
  notDropped: { kind: 'database' | 'schema'; name: string; why: string }[];
  /** Other cleanup that failed (ending leaked sessions). */
  problems: string[];
}

export interface Leaks {
  count: number;
  applicationNames: string[];
}

export interface Provisioned {
  slots: SlotDatabase[];
  templateReused: boolean;
  setupRan: boolean;
  /** Milliseconds: the template (build or check), each slot's database or schema, and all slots' wall time. */
  timings: { template: number; perSlot: number[]; slots: number };
  /** After a worker crash, before its replacement runs a file: a fresh copy of the template for the slot. */
  reclone(slot: number): Promise<void>;
  /**
   * The slot is done (its worker closed, its leaks looked for): what it leaked is ended and its database dropped
   * now, while other slots still run, instead of at teardown. Keeps what --keep-databases keeps.
   */
  release(slot: number): Promise<void>;
  /**
   * Sessions on the slot's database that the worker's code left open (each reported once); `held`: the pids the
   * worker says its code still holds, which need no grace period.
   */
  leaks(slot: number, ownPids: readonly number[], held: readonly number[]): Promise<Leaks>;
  /** After the workers closed their connections: ends what the specs left open on our databases. */
  closeLeaks(): Promise<number>;
  /**
   * Ends leaked sessions and drops the slot databases or schemas (unless keepDatabases). Idempotent. Never
   * rejects: what it could not drop is returned, so the run can still report (and say how to drop it by hand).
   */
  teardown(): Promise<TeardownReport>;
}

/** What each isolation mode builds from. */
export interface Context {
  /** The maintenance session; each mode's work on it runs through admin.serial(). */
  admin: Admin;
  opts: ProvisionOptions;
  /** The target's database name, as the server reports it. */
  base: string;
  plan: SetupPlan | null;
  log: (line: string) => void;
}

/** What each slot runs against; the provisioning layer decides (shared target, a database or schema per slot). */
export interface SlotResources {
  target(slot: number): ConnectionTarget | null;
  env(slot: number): Record<string, string>;
  /** The name of the database the slot works in (its own, or the shared target), for onWorkerStart({ db }). */
  database(slot: number): string | null;
  /**
   * The slot's own database (database isolation), where every `bulkhead:w<slot>` session is this run's worker's:
   * a watchdog ends them all, also a replacement connection still in its handshake, whose pid is not known yet.
   */
  ownDatabase?(slot: number): string | null;
  /** After a worker crash, before its replacement runs anything (e.g. clone the slot's database afresh). */
  recover(slot: number): Promise<void>;
  /** The slot takes no more files and its worker has closed (see Provisioned.release). */
  release(slot: number): Promise<void>;
  /** When a worker has closed: sessions on the slot's database that are not the worker's own (see Provisioned). */
  leaks(slot: number, ownPids: readonly number[], held: readonly number[]): Promise<{ count: number; applicationNames: string[] }>;
  /** Once every worker has closed its own connection, before the threads go: ends the sessions the specs leaked. */
  closeLeaks(): Promise<number>;
}
