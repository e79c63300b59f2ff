// The packages as users get them (issue 15): `scripts/pack.sh` packs every package users install
// in lock-step, the tarballs are published to a local registry this test starts (verdaccio,
// pinned in scripts/registry; everything else is proxied to the registry npm is configured
// with), and scratch projects outside the workspace install from it, so dependencies resolve the
// way they will for users:
// - the SDK alone, in a service: the five-line NodeSDK setup with OpenTelemetry's real openai
//   instrumentation, calling a local fake OpenAI server, in ESM and in CommonJS, the cost checked
//   on the exported span against figures worked out here, and no warning on stderr;
// - the CLI alone, for an operator: `costtrace --help` and an offline price quote.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const NPM_CACHE = join(ROOT, '.cache', 'npm');

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a process and resolves with its first stdout line (its readiness signal). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before it was ready`)));
  });
}

// The service's code, as a user writes it: the five-line setup plus an exporter the test reads.
const SERVICE_BODY = (load: string) => `
const collected = [];
const exporter = { export(spans, done) { collected.push(...spans); done({ code: 0 }); }, shutdown: async () => {}, forceFlush: async () => {} };
const sdk = new NodeSDK({
  spanProcessors: [new CostSpanProcessor(), new SimpleSpanProcessor(exporter)],
  instrumentations: [new OpenAIInstrumentation()],
});
sdk.start();
${load}
const client = new OpenAI({ baseURL: process.env.FAKE_LLM_URL + '/v1', apiKey: 'sk-not-a-key' });
async function main() {
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello. usage:in=1200,cached=800,out=150' }],
  });
  await sdk.shutdown();
}
// Spans are exported once the resource's asynchronous detectors settle, which may be after
// shutdown resolved: print them when nothing is left to run.
process.once('beforeExit', () => {
  console.log(JSON.stringify(collected.map((s) => ({ name: s.name, attributes: s.attributes }))));
});
`;

const ESM_SERVICE = `import { createRequire } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { CostSpanProcessor } from '@costtrace/otel';
${SERVICE_BODY("// The client is loaded after the instrumentation is registered (it patches require).\nconst OpenAI = createRequire(import.meta.url)('openai');")}
await main();
`;

const CJS_SERVICE = `const { NodeSDK } = require('@opentelemetry/sdk-node');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
const { CostSpanProcessor } = require('@costtrace/otel');
${SERVICE_BODY("const OpenAI = require('openai');")}
main().catch((err) => { console.error(err); process.exit(1); });
`;

describe('published packages, installed from a local registry', { timeout: 20 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-published-'));
  const npmrc = join(dir, 'npmrc');
  let registry: ChildProcess | undefined;
  let fake: ChildProcess | undefined;
  let fakeUrl = '';
  const npmEnv = (): NodeJS.ProcessEnv => ({
    npm_config_userconfig: npmrc,
    npm_config_cache: NPM_CACHE,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  });

  before(async () => {
    const verdaccio = (
      await run('bash', [join(ROOT, 'scripts/registry/install.sh')], { timeoutMs: 10 * 60_000 })
    ).stdout
      .trim()
      .split('\n')
      .pop()!;
    const packed = await run('bash', [join(ROOT, 'scripts/pack.sh'), join(dir, 'tarballs')], {
      timeoutMs: 10 * 60_000,
    });
    assert.equal(packed.code, 0, packed.stderr);
    const tarballs = packed.stdout.trim().split('\n');
    assert.equal(tarballs.length, 12, packed.stdout);

    // The registry: costtrace's packages published here, everything else proxied upstream.
    const upstream = (await run('npm', ['config', 'get', 'registry'], { timeoutMs: 30_000 })).stdout.trim();
    const port = await freePort();
    const config = join(dir, 'verdaccio.yaml');
    writeFileSync(
      config,
      [
        `storage: ${join(dir, 'storage')}`,
        `auth:\n  htpasswd:\n    file: ${join(dir, 'htpasswd')}\n    max_users: 10`,
        `uplinks:\n  upstream:\n    url: ${upstream}\n    timeout: 60s\n    max_fails: 5`,
        "packages:\n  '@costtrace/*':\n    access: $all\n    publish: $authenticated\n  '**':\n    access: $all\n    proxy: upstream",
        'max_body_size: 200mb',
        'log: { type: stdout, format: json, level: warn }',
      ].join('\n') + '\n',
    );
    // verdaccio 6 needs Node >= 22 (the workspace's other supported runtime).
    const node22 = (await run('bash', [join(ROOT, 'scripts/node-runtime.sh'), '22'], { timeoutMs: 5 * 60_000 })).stdout
      .trim()
      .split('\n')
      .pop()!;
    registry = spawn(node22, [verdaccio, '--config', config, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${url}-/ping`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('verdaccio did not answer /-/ping within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const user = await fetch(`${url}-/user/org.couchdb.user:ci`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', password: 'not-a-secret-ci-only' }),
    });
    const created = await user.text();
    assert.equal(user.status, 201, created);
    const { token } = JSON.parse(created) as { token: string };
    writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    for (const tarball of tarballs) {
      const published = await run('npm', ['publish', tarball], { env: npmEnv(), timeoutMs: 5 * 60_000 });
      assert.equal(published.code, 0, `npm publish ${tarball}:\n${published.stderr}`);
    }

    fake = spawn(
      process.execPath,
      [join(ROOT, 'scripts/compat/fake-llm-server.mjs'), '--log', join(dir, 'truth.jsonl')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    fakeUrl = `http://127.0.0.1:${(JSON.parse(await firstLine(fake)) as { port: number }).port}`;
  });

  after(() => {
    fake?.kill();
    registry?.kill();
    // COSTTRACE_KEEP_SCRATCH=1 keeps the scratch projects (and the registry's storage) to look into.
    if (process.env.COSTTRACE_KEEP_SCRATCH === '1') console.log(`scratch projects kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  async function scratch(name: string, dependencies: Record<string, string>): Promise<string> {
    const project = join(dir, name);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, dependencies }, null, 2));
    const installed = await run('npm', ['install', '--no-package-lock'], {
      cwd: project,
      env: npmEnv(),
      timeoutMs: 10 * 60_000,
    });
    assert.equal(installed.code, 0, `npm install in ${name}:\n${installed.stderr}`);
    return project;
  }

  it('the SDK alone prices a real instrumentation’s span, in ESM and in CommonJS, on Node 20, 22 and 24, without warnings', async () => {
    const project = await scratch('service', {
      '@costtrace/otel': '0.1.0',
      '@opentelemetry/api': '1.9.1',
      '@opentelemetry/sdk-node': '0.223.0',
      '@opentelemetry/sdk-trace-base': '2.12.0',
      '@opentelemetry/instrumentation-openai': '0.21.0',
      openai: '6.49.0',
    });
    writeFileSync(join(project, 'service.mjs'), ESM_SERVICE);
    writeFileSync(join(project, 'service.cjs'), CJS_SERVICE);
    // On this machine's Node and on the other supported majors.
    const runtimes = [process.execPath];
    for (const major of ['22', '24']) {
      const installed = await run('bash', [join(ROOT, 'scripts/node-runtime.sh'), major], { timeoutMs: 5 * 60_000 });
      assert.equal(installed.code, 0, installed.stderr);
      runtimes.push(installed.stdout.trim().split('\n').pop()!);
    }
    for (const [node, file] of runtimes.flatMap((n) => [
      [n, 'service.mjs'],
      [n, 'service.cjs'],
    ])) {
      const label = `${file} on Node ${(await run(node!, ['--version'], { timeoutMs: 30_000 })).stdout.trim()}`;
      const result = await run(node!, [file!], {
        cwd: project,
        env: {
          FAKE_LLM_URL: fakeUrl,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_TRACES_EXPORTER: 'none',
        },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, `${label}:\n${result.stderr}`);
      assert.equal(result.stderr.trim(), '', `${label} starts and runs without warnings`);
      const spans = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
        name: string;
        attributes: Record<string, unknown>;
      }[];
      const chat = spans.find((s) => s.attributes['gen_ai.usage.input_tokens'] !== undefined);
      assert.ok(chat !== undefined, `${label}: the instrumentation's span: ${result.stdout}`);
      // The instrumentation reports 1200 input and 150 output tokens and no cached count, so the
      // cost is the upper bound at the bundled gpt-4o-mini list prices ($0.15 and $0.60 per 1M):
      // 1200 × 0.15 + 150 × 0.60 = 270 micro-dollars.
      assert.equal(chat.attributes['cost.total'], '0.00027', label);
      assert.equal(chat.attributes['cost.upper_bound'], true, label);
      assert.equal(chat.attributes['cost.currency'], 'USD', label);
    }
  });

  it('the CLI alone answers --help and quotes prices offline', async () => {
    const project = await scratch('operator', { '@costtrace/cli': '0.1.0' });
    const bin = join(project, 'node_modules', '.bin', 'costtrace');
    const help = await run(bin, ['--help'], { cwd: project, timeoutMs: 60_000 });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: costtrace <command>/);
    // The CLI depends on packages only: installing it brings no service along.
    for (const service of ['aggregator', 'pricing-cache', 'demo-inference', 'embedded']) {
      assert.equal(existsSync(join(project, 'node_modules', '@costtrace', service)), false, service);
    }
    // `costtrace dev` runs the services of @costtrace/embedded, and says how to get them.
    const dev = await run(bin, ['dev'], { cwd: project, timeoutMs: 60_000 });
    assert.equal(dev.code, 1, dev.stdout);
    assert.match(dev.stderr, /npm install @costtrace\/embedded/);
    const quote = await run(
      bin,
      [
        'pricing',
        'quote',
        '--offline',
        '--model',
        'openai/gpt-4o',
        '--input-tokens',
        '1000000',
        '--output-tokens',
        '1000',
      ],
      { cwd: project, timeoutMs: 60_000 },
    );
    assert.equal(quote.code, 0, quote.stderr);
    // 1M input tokens at $2.50 and 1000 output tokens at $10 per 1M (bundled list prices).
    assert.match(quote.stdout, /^effective cost\s+2\.51 USD$/m);
  });
});
