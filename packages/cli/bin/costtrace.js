#!/usr/bin/env node
// The `costtrace` command. A file of the source tree, not of the build, so that npm links it
// into node_modules/.bin on `npm ci` even before the first build (the link would otherwise be
// skipped and `npx costtrace` could not find it); it loads the compiled CLI.
try {
  await import('../dist/src/bin.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/bin.js')) {
    process.stderr.write('costtrace: the CLI is not built yet; run `npm run build` in the repository\n');
    process.exit(1);
  }
  throw err;
}
