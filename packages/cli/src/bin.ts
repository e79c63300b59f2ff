#!/usr/bin/env node
import { run } from './cli.js';

// The only place the CLI reads the process: arguments, environment, stdout/stderr, exit code.
process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  // Installed only by commands that run until stopped (costtrace dev): Ctrl-C then stops cleanly.
  untilStopped: () =>
    new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    }),
  isTTY: process.stdout.isTTY && process.env.NO_COLOR === undefined,
});
