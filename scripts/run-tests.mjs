// Runs the compiled test files with node's test runner.
//   node scripts/run-tests.mjs unit|integration|runtimes|all [name-filter]
// Unit tests are dist/test/**/*.test.js and need no services. Integration tests are
// dist/test/**/*.itest.js and need Kafka and ClickHouse: for those this script runs
// `scripts/services.sh up` (which starts nothing when KAFKA_BROKERS / CLICKHOUSE_URL are set)
// and passes the addresses on in the environment. `runtimes` (also part of `all`) runs the unit
// tests of the packages users install (the SDK and the CLI) again on the other supported Node
// majors, installed by scripts/node-runtime.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [mode = 'all', filter] = process.argv.slice(2);
if (!['unit', 'integration', 'runtimes', 'all'].includes(mode)) {
  console.error(`usage: node scripts/run-tests.mjs unit|integration|runtimes|all [filter]; got ${mode}`);
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
const unit = mode === 'unit' || mode === 'all' ? pick('.test.js') : [];
const integration = mode === 'integration' || mode === 'all' ? pick('.itest.js') : [];
/** The other Node majors the SDK and the CLI support (the machine's own runs everything). */
const RUNTIMES = ['22', '24'];
const runtimeFiles =
  mode === 'runtimes' || mode === 'all'
    ? pick('.test.js').filter((file) => /[/\\]packages[/\\](otel|cli)[/\\]/.test(file))
    : [];
if (unit.length + integration.length + runtimeFiles.length === 0) {
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
const runs = [
  { label: 'unit', files: unit, concurrency: 2, node: process.execPath },
  { label: 'integration', files: integration, concurrency: 1, node: process.execPath },
];
for (const major of runtimeFiles.length > 0 ? RUNTIMES : []) {
  const installed = spawnSync('bash', [join(root, 'scripts/node-runtime.sh'), major], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const node = installed.stdout.trim().split('\n').pop() ?? '';
  if (installed.status !== 0 || node === '') {
    console.error(`could not install Node ${major} (scripts/node-runtime.sh ${major})`);
    failed = true;
    failedCount += 1;
    continue;
  }
  runs.push({ label: `node${major}`, files: runtimeFiles, concurrency: 2, node });
}
for (const { label, files, concurrency, node } of runs) {
  if (files.length === 0) continue;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n# running ${files.length} ${label} test file(s) on Node ${version}`);
  for (const file of files) console.log(`#   ${relative(root, file)}`);
  const tap = join(tapDir, `${label}.tap`);
  rmSync(tap, { force: true });
  const run = spawnSync(
    node,
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
