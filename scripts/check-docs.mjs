// Keeps README.md and docs/*.md true. Needs no Kafka, no ClickHouse and no network; the
// runnable blocks need `npm run build` first. Run by scripts/test.sh (also in `unit` mode).
//   node scripts/check-docs.mjs            every check
//   node scripts/check-docs.mjs --no-run   links and environment variables only
// 1. Every relative link (also ../ and with #anchor) resolves to a file of the repository; an
//    #anchor into a Markdown file names one of its headings, slugged as GitHub does.
// 2. Every environment variable the services, the SDK and the CLI read is in
//    docs/configuration.md, and every variable listed there is read somewhere.
// 3. Every fenced block whose info string is `sh runnable` runs with bash from the repository
//    root and exits 0. Mark a block runnable only when it works after `npm ci && npm run build`
//    with no service running and no network.
// Exits 1 with one line per problem.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CONFIGURATION = 'docs/configuration.md';
const RUN_TIMEOUT_S = 120;
/** An environment variable name costtrace reads: its own, ClickHouse's, Kafka's, the demo's, OTel's. */
const ENV_NAME = /(?:COSTTRACE|CLICKHOUSE|KAFKA|DEMO|OTEL)_[A-Z0-9_]*[A-Z0-9]/;
/** Names that match ENV_NAME in the sources but are not environment variables. */
const NOT_ENV = new Set([]);

const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

const docFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

// ------------------------------------------------------------------------------ markdown

/**
 * Splits a Markdown file into prose (fenced code blanked out, line numbers kept), its ATX
 * headings and its fenced code blocks.
 */
function parseMarkdown(text) {
  const lines = text.split(/\r?\n/);
  const prose = [];
  const headings = [];
  const blocks = [];
  let fence;
  for (const [index, line] of lines.entries()) {
    const marker = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence === undefined && marker) {
      fence = { marker: marker[1], info: marker[2].trim(), line: index + 1, body: [] };
      prose.push('');
    } else if (fence !== undefined) {
      if (marker && marker[1][0] === fence.marker[0] && marker[1].length >= fence.marker.length && !marker[2].trim()) {
        blocks.push({ info: fence.info, line: fence.line, code: fence.body.join('\n') });
        fence = undefined;
      } else {
        fence.body.push(line);
      }
      prose.push('');
    } else {
      const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
      if (heading) headings.push(heading[1]);
      prose.push(line);
    }
  }
  return { prose: prose.join('\n'), headings, blocks };
}

/** GitHub's heading anchor: lower case, punctuation removed (not '-' or '_'), spaces to '-'. */
function slug(heading) {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a file's headings, repeated headings numbered -1, -2, … as GitHub does. */
function anchors(headings) {
  const seen = new Set();
  for (const heading of headings) {
    const base = slug(heading);
    let candidate = base;
    for (let n = 1; seen.has(candidate); n++) candidate = `${base}-${n}`;
    seen.add(candidate);
  }
  return seen;
}

const parsed = new Map();
function markdown(file) {
  if (!parsed.has(file)) parsed.set(file, parseMarkdown(readFileSync(join(root, file), 'utf8')));
  return parsed.get(file);
}

// ------------------------------------------------------------------------------ 1. links

/** Inline links and images, and reference definitions, outside code, with their line numbers. */
function links(prose) {
  // Code spans may hold brackets and parentheses; blank them, keeping line breaks.
  const text = prose.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ' '));
  const found = [];
  const lineOf = (index) => text.slice(0, index).split('\n').length;
  for (const match of text.matchAll(
    /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>\n]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g,
  )) {
    found.push({ target: match[1].replace(/^<|>$/g, ''), line: lineOf(match.index) });
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)/gm)) {
    found.push({ target: match[1].replace(/^<|>$/g, ''), line: lineOf(match.index) });
  }
  return found;
}

let linkCount = 0;
for (const file of docFiles) {
  for (const { target, line } of links(markdown(file).prose)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    linkCount++;
    const where = `${file}:${line}`;
    const hash = target.indexOf('#');
    const pathPart = hash === -1 ? target : target.slice(0, hash);
    const anchor = hash === -1 ? undefined : target.slice(hash + 1);
    let path;
    try {
      path = decodeURIComponent(pathPart);
    } catch {
      problem(where, `link ${target} is not valid percent-encoding`);
      continue;
    }
    const absolute =
      path === ''
        ? join(root, file)
        : resolve(path.startsWith('/') ? root : dirname(join(root, file)), `.${sep}${path}`);
    const inRepo = relative(root, absolute);
    if (inRepo.startsWith('..')) {
      problem(where, `link ${target} points outside the repository`);
      continue;
    }
    if (!existsSync(absolute)) {
      problem(where, `link ${target}: ${inRepo} does not exist`);
      continue;
    }
    if (anchor !== undefined && absolute.endsWith('.md')) {
      const known = anchors(markdown(inRepo.split(sep).join('/')).headings);
      if (!known.has(anchor)) {
        problem(where, `link ${target}: ${inRepo.split(sep).join('/')} has no heading with the anchor #${anchor}`);
      }
    }
  }
}

// ------------------------------------------------------------------------------ 2. environment

function walk(dir, accept) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'gen'].includes(entry.name) ? [] : walk(path, accept);
    return accept(entry.name) ? [path] : [];
  });
}

const sourceFiles = ['packages', 'services'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => walk(join(root, group, entry.name, 'src'), (name) => name.endsWith('.ts'))),
);

/** Documented variables that a dependency reads, not our code (the OpenTelemetry SDK's resource detector). */
const READ_BY_DEPENDENCIES = new Set(['OTEL_RESOURCE_ATTRIBUTES']);

/** Variables read: a string literal that is exactly a name (env['X'], lists of names) or `env.X`. */
const read = new Map();
const literal = new RegExp(String.raw`(['"\`])(${ENV_NAME.source})\1`, 'g');
const property = new RegExp(String.raw`\b[A-Za-z_$]*[Ee]nv\??\.(${ENV_NAME.source})\b`, 'g');
for (const path of sourceFiles) {
  const text = readFileSync(path, 'utf8');
  const lineOf = (index) => text.slice(0, index).split('\n').length;
  for (const [pattern, group] of [
    [literal, 2],
    [property, 1],
  ]) {
    for (const match of text.matchAll(pattern)) {
      const name = match[group];
      if (NOT_ENV.has(name) || read.has(name)) continue;
      read.set(name, `${relative(root, path).split(sep).join('/')}:${lineOf(match.index)}`);
    }
  }
}

const configuration = readFileSync(join(root, CONFIGURATION), 'utf8');
const documented = new Set(
  configuration.match(new RegExp(String.raw`(?<![A-Za-z0-9_])${ENV_NAME.source}(?![A-Za-z0-9_])`, 'g')),
);
for (const [name, where] of [...read].sort(([a], [b]) => a.localeCompare(b))) {
  if (!documented.has(name))
    problem(CONFIGURATION, `${name} (read in ${where}) is not documented: add it to its service's table`);
}
// Scripts read variables too (scripts/services.sh, the test helpers): a documented name must be
// read by the sources or by a script, or it is stale.
const scriptText = walk(join(root, 'scripts'), (name) => /\.(sh|mjs|js|py)$/.test(name))
  .map((path) => readFileSync(path, 'utf8'))
  .join('\n');
for (const name of [...documented].sort()) {
  if (
    !read.has(name) &&
    !READ_BY_DEPENDENCIES.has(name) &&
    !new RegExp(String.raw`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`).test(scriptText)
  ) {
    problem(CONFIGURATION, `${name} is documented but nothing reads it: remove it or fix its name`);
  }
}

// ------------------------------------------------------------------------------ 3. runnable blocks

let runCount = 0;
if (!process.argv.includes('--no-run')) {
  const hasTimeout = spawnSync('timeout', ['--version'], { stdio: 'ignore' }).status === 0;
  for (const file of docFiles) {
    for (const block of markdown(file).blocks) {
      if (!/^sh\s+runnable$/.test(block.info)) continue;
      runCount++;
      const started = Date.now();
      // The script goes in with -c, so a command that reads stdin cannot eat the rest of it; the
      // ERR trap names the command that failed, -e stops there. GNU timeout ends the whole group.
      const script = `trap 'echo "check-docs: failed: $BASH_COMMAND" >&2' ERR\n${block.code}\n`;
      const bash = ['bash', '-e', '-o', 'pipefail', '-c', script];
      const [command, ...args] = hasTimeout ? ['timeout', '-k', '5', `${RUN_TIMEOUT_S}`, ...bash] : bash;
      const run = spawnSync(command, args, {
        cwd: root,
        // npx runs the workspace's own bins; it must never fetch a package of that name instead.
        env: { ...process.env, npm_config_yes: 'false' },
        input: '',
        encoding: 'utf8',
        timeout: (RUN_TIMEOUT_S + 10) * 1000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (run.status !== 0) {
        const why = run.error
          ? run.error.message
          : run.status === 124
            ? `timed out after ${RUN_TIMEOUT_S} s`
            : run.signal
              ? `killed by ${run.signal}`
              : `exit status ${run.status}`;
        const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trimEnd() || '(no output)';
        const tail = output.split('\n').slice(-15).join('\n    ');
        problem(`${file}:${block.line}`, `runnable block failed (${why}, ${seconds} s):\n    ${tail}`);
      } else {
        console.log(`ran ${file}:${block.line} (${seconds} s)`);
      }
    }
  }
}

const summary = `docs check: ${linkCount} links, ${read.size} env vars, ${runCount} runnable blocks`;
if (problems.length > 0) {
  for (const line of problems) console.error(line);
  console.error(`${summary}: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`${summary}: ok`);
