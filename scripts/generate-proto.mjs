// Generates TypeScript for every .proto under proto/ into packages/proto/src/gen with ts-proto,
// driven by buf (both from npm). Skips the work when the output is newer than every input.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'packages/proto/src/gen');
const inputs = [join(root, 'buf.yaml'), join(root, 'buf.gen.yaml'), ...walk(join(root, 'proto'))];

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const newestInput = Math.max(...inputs.map((file) => statSync(file).mtimeMs));
const outputs = existsSync(out) ? walk(out) : [];
const oldestOutput = outputs.length > 0 ? Math.min(...outputs.map((file) => statSync(file).mtimeMs)) : 0;
if (outputs.length > 0 && oldestOutput >= newestInput && !process.argv.includes('--force')) {
  process.exit(0);
}
rmSync(out, { recursive: true, force: true });
const result = spawnSync(join(root, 'node_modules/.bin/buf'), ['generate'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('proto generation failed: is `npm ci` done (it installs @bufbuild/buf and ts-proto)?');
  process.exit(result.status ?? 1);
}
