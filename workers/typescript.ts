// TypeScript specs run without a build step: tsx's loaders are registered in a worker only when it needs them,
// since registering costs start-up time that plain JavaScript suites should not pay.
// Whether a run needs them is decided on the main thread (WorkerData.typescript).
let registered: Promise<void> | null = null;

export function ensureTypeScript(): Promise<void> {
  registered ??= (async () => {
    const esm = (await import('tsx/esm/api')) as { register(): unknown };
    const cjs = (await import('tsx/cjs/api')) as { register(): unknown };
    esm.register();
    cjs.register();
  })();
  return registered;
}
