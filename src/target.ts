// The server a run talks to (external from DATABASE_URL/PG*, or the embedded one) and how each slot gets its
// database. Opened once per command; bisect provisions fresh slots for every probe.
import type { Config } from './config.js';
import { Admin, resolveTarget } from './database.js';
import type { SlotResources } from './execute.js';

export interface Target {
  kind: 'external' | 'embedded';
  version: string;
  where: string;
  admin: Admin;
  provision(workers: number): Promise<SlotResources & { teardown(): Promise<void> }>;
  close(): Promise<void>;
}

export async function openTarget(config: Config, info: NodeJS.WritableStream): Promise<Target> {
  void info;
  const resolved = resolveTarget();
  const admin = new Admin(resolved);
  try {
    const version = await admin.check();
    return {
      kind: 'external',
      version,
      where: resolved.where,
      admin,
      provision: async () => ({
        target: () => resolved.target,
        env: () => ({}),
        recover: async () => undefined,
        leaks: async () => ({ count: 0, applicationNames: [] }),
        teardown: async () => undefined,
      }),
      close: () => admin.close(),
    };
  } catch (err) {
    await admin.close();
    throw err;
  }
}
