// The budgets path as the aggregator process runs it (no test relay): spans in over OTLP/HTTP →
// Kafka → the span consumer stores rows in ClickHouse and hands them to budgets → cost_deltas →
// evaluator → one signed throttle.engaged to a real receiver, and the throttle served by the
// aggregator's own API at /v1/throttles, next to the query API.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator, generateSecret } from '../../src/index.js';
import { budgetTopics, createBudgetTopics, harnessBudgetsConfig } from '../support/budget-harness.js';
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

describe('budgets wired into the aggregator process', () => {
  const services = liveServices();
  const names = uniqueNames('budgets_wired');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const receiver = new WebhookReceiver();
  const secret = generateSecret();
  let dir = '';
  let aggregator: Aggregator;
  let api = '';
  let provider: BasicTracerProvider;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-wired-'));
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
  - id: tenant-hour
    name: Per-tenant spend per hour
    scope: { service: wired-svc }
    per: [tenant]
    window: 1h
    limit_usd: "0.01"
    action: reject
    forecast: false
    webhooks: [ops]
`,
    );
    aggregator = new Aggregator({
      config: harnessConfig(names),
      budgets: harnessBudgetsConfig({
        budgetsFile: file,
        topics,
        groupId: `${names.groupId}-budgets`,
        instanceId: 'wired',
        outboxDirectory: join(dir, 'outbox'),
      }),
    });
    const addresses = await aggregator.start();
    api = `http://127.0.0.1:${addresses.api!.port}`;
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'wired-svc', 'costtrace.tenant': 'acme' }),
      spanProcessors: [
        new CostSpanProcessor(),
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${addresses.http!.port}/v1/traces` }), {
          scheduledDelayMillis: 200,
        }),
      ],
    });
  });

  after(async () => {
    await provider?.shutdown();
    await aggregator?.stop();
    await receiver.stop();
    const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic, topics.deltas, topics.deltasDlq, topics.throttles]);
    await rm(dir, { recursive: true, force: true });
  });

  it('engages one throttle from the span consumer’s hand-off and serves it on the API', async () => {
    // 20 calls × (10 000 input × 0.15 + 2 000 output × 0.60) USD per 1M = 20 × 0.0027 = 0.054 USD.
    const tracer = provider.getTracer('wired');
    for (let i = 0; i < 20; i++) {
      tracer
        .startSpan(`chat ${i}`, {
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 10_000,
            'gen_ai.usage.output_tokens': 2_000,
          },
        })
        .end();
    }
    await provider.forceFlush();

    const engaged = () =>
      receiver.received
        .filter((w) => w.status === 204)
        .map((w) => JSON.parse(w.body) as { type: string; scope_key?: string; scopeKey?: string })
        .filter((e) => e.type === 'throttle.engaged');
    await until('a throttle.engaged webhook', () => engaged().length > 0, 30_000);
    const first = receiver.received.find((w) => (JSON.parse(w.body) as { type: string }).type === 'throttle.engaged')!;
    assert.ok(await independentVerify(first.headers, first.body, secret), 'signature verified independently');

    // The throttle set follows the compacted throttles topic: it may show the engagement a moment
    // after the webhook went out.
    type ThrottleSet = { throttles: { budgetId: string; scope: Record<string, string>; action: string }[] };
    let body: ThrottleSet = { throttles: [] };
    await until(
      'the throttle on /v1/throttles',
      async () => {
        const res = await fetch(`${api}/v1/throttles`);
        assert.equal(res.status, 200);
        body = (await res.json()) as ThrottleSet;
        return body.throttles.some((t) => t.budgetId === 'tenant-hour');
      },
      10_000,
    );
    const throttle = body.throttles.find((t) => t.budgetId === 'tenant-hour');
    assert.ok(throttle, JSON.stringify(body));
    assert.equal(throttle.scope.tenant, 'acme');
    assert.equal(throttle.action, 'reject');

    // The query API still answers on the same server, and the stored spend is the exact sum.
    const costs = await fetch(`${api}/api/v1/costs?since=1h&group_by=tenant`);
    assert.equal(costs.status, 200);
    const rows = ((await costs.json()) as { rows: { dimensions: Record<string, string>; cost: string }[] }).rows;
    const acme = rows.find((r) => r.dimensions.tenant === 'acme');
    assert.ok(acme, JSON.stringify(rows));
    assert.equal(decimalToPicos(acme.cost), 20n * (10_000n * 150_000n + 2_000n * 600_000n));

    // One engagement for one breach (every further span of the tenant lands in the same breach).
    assert.equal(engaged().length, 1);
  });
});
