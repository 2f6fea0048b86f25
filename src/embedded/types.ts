// What a running embedded server looks like to the rest of bulkhead, started (server.ts) or claimed (linger.ts).

/** Where to connect; the fields match pg's ClientConfig. */
export interface EmbeddedTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

/** A running embedded PostgreSQL server. */
export interface EmbeddedServer {
  target: EmbeddedTarget;
  /** "127.0.0.1:PORT/postgres as postgres": safe to print, it never holds the password. */
  where: string;
  /** The server's version, e.g. "17.10". */
  version: string;
  /** True when this start had to initialise the cluster (initdb) instead of copying the cached one. */
  cold: boolean;
  /** True when this run claimed a server that lingered after an earlier run instead of starting one. */
  attached: boolean;
  /** Milliseconds from the call until the server accepted connections. */
  startMs: number;
  /** This run's data directory, deleted when the server stops. */
  dataDir: string;
  pids: { postmaster: number; watchdog: number };
  /**
   * Stops the server and deletes its data directory; resolves once both are gone. With `lingerMs` > 0 (a run that
   * ended normally) its watchdog keeps it that long for the next run instead, and this resolves once the lease is
   * published. The first call decides; later ones return the same promise.
   */
  stop(lingerMs?: number): Promise<void>;
}
