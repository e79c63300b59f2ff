// End to end on the real services: an instrumented service (OpenTelemetry SDK with
// CostSpanProcessor, low-latency BatchSpanProcessor) → OTLP/HTTP ingest → Kafka → span consumer
// → ClickHouse, and the budgets path → cost_deltas → evaluator → signed webhook to a real
// receiver. A breach yields exactly one throttle.engaged (signature checked independently), the
// throttle list makes a guard reject, and once the spend ages out exactly one throttle.released.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';
import { Aggregator, generateSecret } from '../../src/index.js';
import { budgetTopics, createBudgetTopics, startBudgetHarness } from '../support/budget-harness.js';
import type { Harness } from '../support/budget-harness.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
} from '../support/live-services.js';
import { independentVerify, until, WebhookReceiver } from '../support/webhook-receiver.js';
import { harnessConfig } from '../support/aggregator-harness.js';

/** gpt-4o-mini list prices, 10^-12 USD per token. */
const INPUT = 150_000n;
const OUTPUT = 600_000n;

/** What an SDK guard does with GET /v1/throttles: a request is throttled when a selector matches it. */
function guardRejects(
  throttles: { selector: Record<string, string>; action: string }[],
  request: Record<string, string>,
): boolean {
  const match = (pattern: string, value: string) =>
    pattern === '*'
      ? value !== ''
      : pattern.endsWith('*') && !pattern.endsWith('\\*')
        ? value.startsWith(pattern.slice(0, -1))
        : value === pattern.replaceAll('\\*', '*');
  return throttles.some(
    (t) => t.action === 'reject' && Object.entries(t.selector).every(([dim, p]) => match(p, request[dim] ?? '')),
  );
}

describe('budgets end to end: breach → one signed throttle.engaged → guard rejects → one throttle.released', () => {
  const services = liveServices();
  const names = uniqueNames('budgets_e2e');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const receiver = new WebhookReceiver();
  const secret = generateSecret();
  let skewMs = 0;
  const now = () => Date.now() + skewMs;
  let dir = '';
  let aggregator: Aggregator;
  let harness: Harness;
  let provider: BasicTracerProvider;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-e2e-'));
    const hook = await receiver.start();
    await createTopics(kafka, [names.topic, names.dlqTopic]);
    await createBudgetTopics(kafka, topics);
    const file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `webhooks:
  - id: ops
    url: ${hook}
    secrets: [${secret}]
budgets:
  - id: tenant-minute
    name: Per-tenant spend per minute
    scope: { service: e2e-svc }
    per: [tenant]
    window: 1m
    limit_usd: "0.01"
    action: reject
    release: { below_percent: 50, for: 2s }
    forecast: false
    webhooks: [ops]
`,
    );
    harness = await startBudgetHarness({
      brokers: services.kafkaBrokers,
      clickhouseUrl: services.clickhouseUrl,
      database: names.database,
      topics,
      groupId: `${names.groupId}-budgets`,
      budgetsFile: file,
      outboxDirectory: join(dir, 'outbox'),
      instanceId: 'e2e',
      now,
    });
    // The production path: the aggregator's span consumer stores the rows and hands them to the
    // budgets (here the harness's service, whose clock the test moves).
    aggregator = new Aggregator({
      config: harnessConfig(names),
      budgetService: harness.service,
    });
    const { http } = await aggregator.start();
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'e2e-svc', 'costtrace.tenant': 'acme' }),
      spanProcessors: [
        new CostSpanProcessor(),
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${http!.port}/v1/traces` }), {
          scheduledDelayMillis: 200,
          maxExportBatchSize: 512,
        }),
      ],
    });
  });

  after(async () => {
    await provider?.shutdown();
    await aggregator?.stop();
    await harness?.stop();
    await harness?.store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await deleteTopics(kafka, [names.topic, names.dlqTopic, topics.deltas, topics.deltasDlq, topics.throttles]);
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('engages once with a verified signature, the guard rejects, and releases once', async () => {
    const tracer = provider.getTracer('e2e');
    // The receiver is down for its first 3 requests: those events are retried until acknowledged.
    receiver.respond = (n) => (n < 3 ? 503 : 204);
    // 10 calls of 1000 input + 500 output tokens: 0.00045 $ each; the limit 0.01 $ needs 23.
    let expected = 0n;
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      tracer
        .startSpan(`chat-${i}`, {
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 1000,
            'gen_ai.usage.output_tokens': 500,
          },
        })
        .end();
      expected += 1000n * INPUT + 500n * OUTPUT;
    }
    await provider.forceFlush();
    await until(
      'throttle.engaged delivered',
      () => receiver.acknowledged().some((e) => e.type === 'throttle.engaged'),
      30_000,
    );
    const engagedAfter = Date.now() - started;
    // More spend after the breach must not engage again.
    for (let i = 0; i < 10; i++)
      tracer
        .startSpan(`more-${i}`, {
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 1000,
            'gen_ai.usage.output_tokens': 500,
          },
        })
        .end();
    expected += 10n * (1000n * INPUT + 500n * OUTPUT);
    await provider.forceFlush();
    const key = 'tenant-minute|tenant=acme';
    await until('all spend evaluated', () => harness.service.evaluator!.engine.spend(key, now()) === expected, 30_000);

    await until(
      'every event acknowledged after the receiver came back',
      () => {
        const ids = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));
        const acked = new Set(
          receiver.received.filter((r) => r.status < 300).map((r) => String(r.headers['webhook-id'])),
        );
        return ids.size > 0 && [...ids].every((id) => acked.has(id));
      },
      20_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // a retry after acknowledgement would show now
    // Every event acknowledged exactly once; retries carried the same id and the same body.
    const byId = new Map<string, { bodies: Set<string>; acked: number }>();
    for (const r of receiver.received) {
      const id = String(r.headers['webhook-id']);
      const entry = byId.get(id) ?? { bodies: new Set<string>(), acked: 0 };
      entry.bodies.add(r.body);
      if (r.status < 300) entry.acked++;
      byId.set(id, entry);
    }
    assert.ok(receiver.received.length > byId.size, 'some deliveries were retried');
    for (const [id, entry] of byId) {
      assert.equal(entry.acked, 1, `${id} acknowledged once`);
      assert.equal(entry.bodies.size, 1, `${id} retried with the same body`);
    }
    const engaged = receiver.received.filter((r) => r.status < 300 && JSON.parse(r.body).type === 'throttle.engaged');
    assert.equal(engaged.length, 1, 'exactly one throttle.engaged');
    assert.equal(
      await independentVerify(engaged[0]!.headers, engaged[0]!.body, secret),
      true,
      'signature verified independently',
    );
    const payload = JSON.parse(engaged[0]!.body);
    assert.equal(payload.id, engaged[0]!.headers['webhook-id']);
    assert.equal(payload.schema_version, '1');
    assert.equal(payload.data.budget.id, 'tenant-minute');
    assert.equal(payload.data.scope.key, key);
    assert.deepEqual(payload.data.scope.selector, { service: 'e2e-svc', tenant: 'acme' });
    assert.equal(payload.data.limit_usd, '0.01');
    assert.ok(decimalToPicos(String(payload.data.spend_usd)) >= 10_000_000_000n);
    assert.equal(payload.data.throttle.state, 'engaged');
    assert.ok(payload.data.throttle.expected_until);
    const types = receiver.acknowledged().map((e) => e.type);
    assert.deepEqual(
      types.filter((t) => t === 'budget.threshold_crossed').length,
      4,
      '80, 90, 100 and 110 % each once',
    );

    // The spend in the evaluator equals ClickHouse's sum over the same spans (once stored).
    let stored = 0n;
    await until(
      'span rows stored',
      async () => {
        const [row] = await harness.store.select<{ total: string }>(
          `SELECT toString(sum(cost_total)) AS total FROM ${names.database}.span_costs WHERE service = 'e2e-svc' AND tenant = 'acme'`,
        );
        stored = decimalToPicos(row!.total);
        return stored === expected;
      },
      20_000,
    ).catch(() => undefined);
    assert.equal(stored, expected);
    assert.equal(harness.service.evaluator!.engine.spend(key, now()), stored);

    // A guard reading GET /v1/throttles rejects acme's requests and lets others through.
    const list = (await (await fetch(`${harness.base}/v1/throttles`)).json()) as {
      throttles: {
        selector: Record<string, string>;
        action: string;
        budget_id: string;
        spend_usd: string;
        limit_usd: string;
        expected_until: string;
      }[];
    };
    assert.equal(list.throttles.length, 1);
    assert.equal(list.throttles[0]!.budget_id, 'tenant-minute');
    // The fields the SDK guard (packages/otel ThrottleSet) reads.
    const sdkView = list.throttles[0] as unknown as {
      id: string;
      budgetId: string;
      scope: Record<string, string>;
      spend: { currency: string };
      until: string | null;
    };
    assert.equal(sdkView.id, payload.id, 'throttle id = the throttle.engaged event id');
    assert.equal(sdkView.budgetId, 'tenant-minute');
    assert.deepEqual(sdkView.scope, { service: 'e2e-svc', tenant: 'acme' });
    assert.equal(sdkView.spend.currency, 'USD');
    assert.equal(sdkView.until, null, 'rolling window: holds until released');
    assert.equal(guardRejects(list.throttles, { service: 'e2e-svc', tenant: 'acme' }), true);
    assert.equal(guardRejects(list.throttles, { service: 'e2e-svc', tenant: 'globex' }), false);

    // Let the minute pass (clock moved forward): spend ages out, 2 s below 50 %, one release.
    skewMs = 70_000;
    await until(
      'throttle.released delivered',
      () => receiver.acknowledged().some((e) => e.type === 'throttle.released'),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const acked = receiver.acknowledged();
    assert.equal(acked.filter((e) => e.type === 'throttle.engaged').length, 1);
    assert.equal(acked.filter((e) => e.type === 'throttle.released').length, 1);
    const released = acked.find((e) => e.type === 'throttle.released')!;
    assert.equal((released.data.throttle as { release_reason: string }).release_reason, 'spend_below_release');
    const after = (await (await fetch(`${harness.base}/v1/throttles`)).json()) as { throttles: unknown[] };
    assert.deepEqual(after.throttles, []);
    console.log(`breach → throttle.engaged received ${engagedAfter} ms after the first span ended`);
  });
});
