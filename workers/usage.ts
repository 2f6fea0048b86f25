// Whether the test attempt now running used a database connection: db(), or a statement on one of the project's
// own pg clients. A flaky test whose failing attempt used none was not cured by the fresh connection its retry got,
// and the summary must not say it was.
let used = false;

export function noteDatabaseUse(): void {
  used = true;
}

/** At the start of each attempt (the first beforeEach): what came before belongs to another attempt. */
export function resetDatabaseUse(): void {
  used = false;
}

export function databaseUsed(): boolean {
  return used;
}
