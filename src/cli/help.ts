// The --help text: every flag, grouped as the README groups them.
export const HELP = `Usage:
  bulkhead [spec..] [options]            run the suite
  bulkhead replay <record> [options]     run a recorded schedule again, slot by slot, and compare outcomes
  bulkhead bisect <record> --test "<full title>" [--pair]
                                         find the tests that make a test fail when they run before it

Runs mocha spec files on a pool of worker threads. Each worker owns one lazily created PostgreSQL
connection, discarded and rebuilt after any test that breaks it.

Workers and databases:
  -w, --workers, -j, --jobs <n>  worker threads (default: available parallelism; env BULKHEAD_WORKERS)
  --embedded                     start a throwaway PostgreSQL even if DATABASE_URL/PG* are set
  --isolation <mode>             database (default with 2+ workers), schema, or shared (env BULKHEAD_ISOLATION)
  --transaction                  run each test inside BEGIN ... ROLLBACK
  --setup <path>                 .sql file, migrations directory or module that builds the template
  --keep-databases               keep the per-worker databases after the run
  --allow-any-database           allow setup/isolation on a database without "test" in its name
  --load-timeout <ms>            fail a spec file that has not loaded after this long, replacing its
                                 worker (default: 30000, or --timeout if larger; 0: no limit)

Flaky failures:
  --shuffle[=seed]               random, seeded order of files and tests (the seed is printed and recorded)
  --repeat <n>                   run each selected test n times
  --until-fail[=max]             repeat the whole selection until the first failure (default max 100)
  --fail-on-flaky                fail the run when a test passed only on a retry
  --record <file>                also write the run record here (.bulkhead/last-run.json is always written)
  --last-failed                  run only the tests that failed in the last run
  --chaos <spec>                 inject faults: terminate=P,drop=P,delay=P,delay-ms=N,seed=N (P per query)
  --test "<full title>"          bisect: the test that fails
  --pair                         bisect: look for a single culprit (fastest)

Other:
  --config-file <path>           bulkhead config file (default: bulkhead.config.{ts,mts,js,mjs,cjs,json})
  --no-config-file               ignore bulkhead.config.*
  --verbose                      print phase timings, provisioning times and per-worker details
  -h, --help                     show this help
  -V, --version                  print the version

mocha options (also read from .mocharc.* and package.json "mocha" through mocha's own loader);
values go as "--flag value" or "--flag=value", and attached to short options (-t5000, -w4):
  --config <path>  --package <path>  --no-config  --no-package
  --spec <glob>  --file <setup file>  --extension <ext>  --ignore <glob>  --recursive  --sort
  -t, --timeout <ms|2s>  --no-timeouts  -s, --slow <ms|1s>  --retries <n>  -g, --grep <re>  -f, --fgrep <s>
  -i, --invert  -b, --bail  --forbid-only  --forbid-pending  -u, --ui <bdd|tdd>
  -r, --require <mod>  --import <mod>   (resolved from the project root; a missing one is an error)
  -R, --reporter <name>  -O, --reporter-option <k=v>  --exit  -A, --async-only  --full-trace
  --check-leaks  --global <name>        (repeatable, alias --globals, wildcards: my*)
  --dry-run                      report the tests as passed without running tests or hooks (no database used)
  --fail-zero                    exit 1 when no test was found to run
  not supported (a usage error): --watch, --delay

Exit codes: 0 all passed; 1 a test failed, a file crashed or (--fail-zero) no test was found; 2 bad usage,
configuration or run record; 3 the database could not be reached or started; 130 interrupted.
`;
