// The compatibility suite (issue 14): real LLM clients, instrumented by the instrumentation
// libraries people use (pinned, from npm and PyPI; scripts/compat), call a local fake OpenAI /
// Anthropic server that reports cached, cache-write and reasoning tokens, streaming and not, and
// export their spans to the aggregator (the JavaScript ones also through costtrace's SDK). Each
// call is its own trace. The stored cost of every trace must equal an independent calculation
// exactly (scripts/compat/expected_cost.py: Python Decimal over the usage the server reported and
// the prices file), the call must be charged on exactly one span, and what cannot be exact must
// say so: an upper bound flagged as one, a call without usage unpriced with a reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClickHouseStore } from '@costtrace/store';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import {
  createTestTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const COMPAT = join(ROOT, 'scripts/compat');
const PRICES = join(COMPAT, 'prices.json');

/** What a call's stored cost must be. */
type Outcome =
  /** The exact cost of the usage the server reported. */
  | 'exact'
  /** The emitter writes no cached-token count: cached input billed as uncached, flagged. */
  | 'upper_bound'
  /** The emitter reports no usage for this call: unpriced, with the reason no_usage. */
  | 'no_usage'
  /** The instrumentation emits no span for this call at all (nothing to price or to mark). */
  | 'no_span';

interface Setup {
  readonly side: 'js' | 'py';
  readonly name: string;
  readonly calls: 'openai' | 'anthropic';
  /** Per call of the calls file; one entry for all. */
  readonly outcomes: readonly Outcome[];
  readonly venv?: 'main' | 'openai-v2' | 'openlit';
}

// calls/openai.json: chat gpt-4o-mini; chat o4-mini; chat o4-mini streamed; Responses o4-mini;
// Responses o4-mini streamed. calls/anthropic.json: four claude-sonnet-4-5 calls, two streamed,
// with cache reads and writes (and thinking on the last two).
const SETUPS: readonly Setup[] = [
  { side: 'js', name: 'otel-openai', calls: 'openai', outcomes: ['upper_bound'] },
  {
    side: 'js',
    name: 'traceloop-openai',
    calls: 'openai',
    outcomes: ['upper_bound', 'upper_bound', 'no_usage', 'upper_bound', 'no_usage'],
  },
  {
    side: 'js',
    name: 'openinference-openai',
    calls: 'openai',
    outcomes: ['exact', 'exact', 'no_usage', 'exact', 'exact'],
  },
  { side: 'js', name: 'openlit-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'js', name: 'ai-sdk-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'js', name: 'ai-sdk-legacy-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'js', name: 'anthropic-builtin', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'js', name: 'traceloop-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'js', name: 'openinference-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'js', name: 'openlit-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'js', name: 'ai-sdk-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'js', name: 'ai-sdk-legacy-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  {
    side: 'py',
    name: 'otel-openai-v2',
    venv: 'openai-v2',
    calls: 'openai',
    outcomes: ['upper_bound', 'upper_bound', 'upper_bound', 'no_span', 'no_span'],
  },
  { side: 'py', name: 'otel-genai-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'py', name: 'traceloop-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'py', name: 'openinference-openai', calls: 'openai', outcomes: ['exact'] },
  { side: 'py', name: 'openlit-openai', venv: 'openlit', calls: 'openai', outcomes: ['exact'] },
  { side: 'py', name: 'anthropic-builtin', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'py', name: 'otel-genai-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'py', name: 'traceloop-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'py', name: 'openinference-anthropic', calls: 'anthropic', outcomes: ['exact'] },
  { side: 'py', name: 'openlit-anthropic', venv: 'openlit', calls: 'anthropic', outcomes: ['exact'] },
];

interface DriverLine {
  call: number;
  trace_id: string;
  response_id: string | null;
  error?: string;
}

interface Run {
  readonly setup: Setup;
  readonly sdk: boolean;
  readonly service: string;
  readonly lines: DriverLine[];
}

/** Runs a command to completion (asynchronously: the aggregator runs in this process). */
function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...options.env } });
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
    child.stdin.end(options.input ?? '');
  });
}

async function install(script: string, args: readonly string[] = []): Promise<string> {
  const result = await run('bash', [join(COMPAT, script), ...args], { timeoutMs: 20 * 60_000 });
  assert.equal(result.code, 0, `${script} ${args.join(' ')} failed:\n${result.stderr.slice(-4000)}`);
  return result.stdout.trim().split('\n').pop()!;
}

interface Expected {
  id: string;
  cost: string | null;
}

async function expectedCosts(python: string, truth: string, cachedAsInput: boolean): Promise<Map<string, bigint>> {
  const result = await run(
    python,
    [join(COMPAT, 'expected_cost.py'), ...(cachedAsInput ? ['--cached-as-input'] : []), truth, PRICES],
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const out = new Map<string, bigint>();
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as Expected;
    assert.ok(e.cost !== null, `no price for ${line}`);
    out.set(e.id, decimalToPicos(e.cost));
  }
  return out;
}

interface TraceRow {
  trace_id: string;
  cost: string;
  charged: string;
  upper_bound: string;
  reasons: string[];
  usage_spans: string;
}

describe('compatibility: real instrumentation libraries, priced exactly and once', { timeout: 40 * 60_000 }, () => {
  const services = liveServices();
  const names = uniqueNames('compat');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-compat-'));
  const truth = join(dir, 'truth.jsonl');
  let harness: Harness | undefined;
  let fake: ChildProcess | undefined;
  let fakeUrl = '';
  let node22 = '';
  let modules = '';
  const pythons = new Map<string, string>();

  before(async () => {
    modules = await install('install-js.sh');
    node22 = join(modules, '.bin/node');
    for (const venv of ['main', 'openai-v2', 'openlit'] as const) {
      pythons.set(venv, await install('install-python.sh', [venv]));
    }
    fake = spawn(process.execPath, [join(COMPAT, 'fake-llm-server.mjs'), '--log', truth], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: fake!.stdout! });
      lines.once('line', resolve);
      fake!.once('exit', (code) => reject(new Error(`fake-llm-server exited (${code})`)));
    });
    fakeUrl = `http://127.0.0.1:${(JSON.parse(first) as { port: number }).port}`;
    await createTestTopics(kafka, [names.topic, names.dlqTopic]);
    harness = await startAggregator(names, { priceSnapshotFile: PRICES });
  });

  after(async () => {
    fake?.kill();
    await harness?.aggregator.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prices every call of every setup exactly, once, or says why not', async () => {
    const endpoint = `http://127.0.0.1:${harness!.addresses.http!.port}/v1/traces`;
    const runs: Run[] = [];
    const plan = [
      ...SETUPS.map((setup) => ({ setup, sdk: false })),
      ...SETUPS.filter((s) => s.side === 'js').map((setup) => ({ setup, sdk: true })),
    ];
    for (const { setup, sdk } of plan) {
      const service = `compat-${setup.side}-${setup.name}${sdk ? '-sdk' : ''}`;
      const command = setup.side === 'js' ? node22 : pythons.get(setup.venv ?? 'main')!;
      const script = setup.side === 'js' ? join(COMPAT, 'js/drive.mjs') : join(COMPAT, 'python/drive.py');
      const result = await run(command, [script, setup.name], {
        env: {
          OTLP_ENDPOINT: endpoint,
          FAKE_LLM_URL: fakeUrl,
          OTEL_SERVICE_NAME: service,
          COMPAT_JS_MODULES: modules,
          COSTTRACE_PRICE_SNAPSHOT_FILE: PRICES,
          ...(sdk ? { COSTTRACE_SDK: '1' } : {}),
        },
        input: readFileSync(join(COMPAT, 'calls', `${setup.calls}.json`), 'utf8'),
        timeoutMs: 180_000,
      });
      assert.equal(result.code, 0, `${service} failed:\n${result.stderr.slice(-4000)}`);
      const lines = result.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as DriverLine);
      const calls = (JSON.parse(readFileSync(join(COMPAT, 'calls', `${setup.calls}.json`), 'utf8')) as unknown[])
        .length;
      assert.equal(lines.length, calls, `${service}: one line per call`);
      runs.push({ setup, sdk, service, lines });
    }

    // Every span the drivers exported is stored (the ingest acknowledged each export).
    const api = `http://127.0.0.1:${harness!.addresses.api!.port}`;
    await waitFor(
      'every received span stored',
      async () => {
        const health = (await (await fetch(`${api}/api/v1/health`)).json()) as {
          spans: { received: number; out: number; rejected: number };
        };
        return health.spans;
      },
      (s) => s.received > 0 && s.out + s.rejected >= s.received,
      120_000,
    );
    const rows = await store.select<TraceRow>(
      `SELECT trace_id, toString(sum(cost_total)) AS cost, ` +
        `toString(countIf(usage_role = '' AND (usage_key != '' OR unpriced_reason != ''))) AS charged, ` +
        `toString(max(cost_upper_bound)) AS upper_bound, groupArray(unpriced_reason) AS reasons, ` +
        `toString(countIf(usage_key != '' OR usage_role != '')) AS usage_spans ` +
        `FROM ${names.database}.span_costs GROUP BY trace_id`,
    );
    const byTrace = new Map(rows.map((r) => [r.trace_id, r]));
    const python = pythons.get('main')!;
    const exact = await expectedCosts(python, truth, false);
    const upper = await expectedCosts(python, truth, true);

    // One line per call: what we expected and what is stored, compared as a whole.
    const expectedTable: string[] = [];
    const actualTable: string[] = [];
    for (const r of runs) {
      for (const line of r.lines) {
        const outcome = r.setup.outcomes[line.call] ?? r.setup.outcomes[0]!;
        const label = `${r.service} call ${line.call}`;
        assert.equal(line.error, undefined, `${label}: ${line.error}`);
        assert.ok(line.response_id !== null, `${label}: the fake server's response id`);
        const stored = byTrace.get(line.trace_id);
        const cost = stored === undefined ? 0n : decimalToPicos(stored.cost);
        const reasons = (stored?.reasons ?? []).filter((x) => x !== '').sort();
        const want =
          outcome === 'exact'
            ? exact.get(line.response_id)
            : outcome === 'upper_bound'
              ? upper.get(line.response_id)
              : 0n;
        assert.ok(want !== undefined, `${label}: no ground truth for ${line.response_id}`);
        expectedTable.push(
          `${label}: ${outcome} cost=${want} charged=${outcome === 'no_span' ? 0 : 1}` +
            ` upper_bound=${outcome === 'upper_bound' ? 1 : 0} reasons=${outcome === 'no_usage' ? 'no_usage' : ''}`,
        );
        actualTable.push(
          `${label}: ${outcome} cost=${cost} charged=${stored?.charged ?? 0}` +
            ` upper_bound=${stored?.upper_bound ?? 0} reasons=${reasons.join(',')}`,
        );
      }
    }
    const differences = actualTable.flatMap((actual, i) =>
      actual === expectedTable[i] ? [] : [`expected ${expectedTable[i]}`, `  stored ${actual}`],
    );
    assert.deepEqual(differences, [], `${differences.length / 2} of ${actualTable.length} calls differ`);
  });
});
