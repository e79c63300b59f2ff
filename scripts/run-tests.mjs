// Runs the compiled test files with node's test runner.
//   node scripts/run-tests.mjs unit|integration|all [name-filter]
// Unit tests are dist/test/**/*.test.js and need no services. Integration tests are
// dist/test/**/*.itest.js and need Kafka and ClickHouse: for those this script runs
// `scripts/services.sh up` (which starts nothing when KAFKA_BROKERS / CLICKHOUSE_URL are set)
// and passes the addresses on in the environment.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [mode = 'all', filter] = process.argv.slice(2);
if (!['unit', 'integration', 'all'].includes(mode)) {
  console.error(`usage: node scripts/run-tests.mjs unit|integration|all [filter]; got ${mode}`);
  process.exit(2);
}

const workspaces = ['packages', 'services'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(root, group, entry.name, 'dist', 'test')),
);

function find(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

const pick = (suffix) =>
  workspaces.flatMap((dir) => find(dir, suffix)).filter((file) => filter === undefined || file.includes(filter));
const unit = mode === 'integration' ? [] : pick('.test.js');
const integration = mode === 'unit' ? [] : pick('.itest.js');
if (unit.length + integration.length === 0) {
  console.error('no compiled tests found: run `npm run build` first');
  process.exit(1);
}

const env = { ...process.env };
if (integration.length > 0) {
  const up = spawnSync('bash', [join(root, 'scripts/services.sh'), 'up'], { stdio: 'inherit', env });
  if (up.status !== 0) {
    console.error('integration tests need Kafka and ClickHouse; scripts/services.sh up failed (see above)');
    process.exit(1);
  }
  const exported = spawnSync('bash', [join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8', env });
  for (const line of exported.stdout.split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
}

// Unit tests run in parallel; integration tests one file at a time (they share two cores with
// the broker and the server). Each file gets its own process either way.
let failed = false;
let passed = 0;
let failedCount = 0;
let skipped = 0;
const tapDir = join(root, '.cache', 'test-results');
mkdirSync(tapDir, { recursive: true });
for (const [files, concurrency] of [
  [unit, 2],
  [integration, 1],
]) {
  if (files.length === 0) continue;
  console.log(`\n# running ${files.length} ${files === unit ? 'unit' : 'integration'} test file(s)`);
  for (const file of files) console.log(`#   ${relative(root, file)}`);
  const tap = join(tapDir, `${files === unit ? 'unit' : 'integration'}.tap`);
  rmSync(tap, { force: true });
  const run = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { stdio: 'inherit', env, cwd: root },
  );
  if (run.status !== 0) failed = true;
  const summary = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const countOf = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
  passed += countOf('pass');
  failedCount += countOf('fail') + countOf('cancelled');
  skipped += countOf('skipped') + countOf('todo');
  if (run.status !== 0 && countOf('fail') + countOf('cancelled') === 0) failedCount += 1;
}
const summary = `${passed} passed, ${failedCount} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
writeFileSync(join(tapDir, 'summary.txt'), `${summary}\n`);
console.log(`\n${summary}`);
process.exit(failed ? 1 : 0);
