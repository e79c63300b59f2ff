#!/usr/bin/env node
import { run } from './cli.js';

// The only place the CLI reads the process: arguments, environment, stdout/stderr, exit code.
process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  isTTY: process.stdout.isTTY && process.env.NO_COLOR === undefined,
});
