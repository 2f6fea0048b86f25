#!/usr/bin/env node
import { cli } from '../dist/src/cli.js';

await cli();
