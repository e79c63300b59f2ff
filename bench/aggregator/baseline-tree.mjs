// A built git worktree of a baseline commit under .cache/bench-baseline/, for benchmarks that
// compare this checkout with an earlier one in one run (pricing-engine, span-stages).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command; its stdout, or an error with both outputs. */
export function run(command, args, cwd, env = process.env) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * The baseline commit built in a worktree of `root` (this checkout), sharing this checkout's
 * third-party node_modules; the workspace's own packages (@costtrace/*) are links to the
 * baseline's, so the baseline runs its own code.
 */
export function baselineTree(root, baseline) {
  const sha = run('git', ['rev-parse', '--short=12', `${baseline}^{commit}`], root).trim();
  const dir = join(root, '.cache', 'bench-baseline', sha);
  if (!existsSync(join(dir, '.git'))) {
    mkdirSync(join(root, '.cache', 'bench-baseline'), { recursive: true });
    run('git', ['worktree', 'add', '--force', '--detach', dir, sha], root);
  }
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) {
    mkdirSync(join(modules, '@costtrace'), { recursive: true });
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry === '@costtrace') continue;
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    }
    for (const workspace of ['packages', 'services']) {
      for (const name of readdirSync(join(dir, workspace))) {
        if (existsSync(join(dir, workspace, name, 'package.json'))) {
          symlinkSync(join(dir, workspace, name), join(modules, '@costtrace', name));
        }
      }
    }
  }
  if (!existsSync(join(dir, 'services', 'aggregator', 'dist'))) {
    console.log(`building baseline ${sha} in ${dir} …`);
    run(process.execPath, ['scripts/generate-proto.mjs'], dir);
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], dir);
  }
  return { sha, dir };
}
