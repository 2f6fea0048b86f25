#!/usr/bin/env node
import { existsSync } from 'node:fs';

// The CLI as one file when the build made it (scripts/bundle-own.mjs); the modules themselves otherwise.
const bundle = new URL('../dist/src/cli/main.bundle.js', import.meta.url);
const { cli } = await import(existsSync(bundle) ? bundle.href : '../dist/src/cli/main.js');

await cli();
