// Decisions before the spend, end to end on the real services: the aggregator answers
// POST /v1/preflight from the budgets file's preflight rules and a budget's remaining amount,
// records an approval, then the job runs (an OpenTelemetry SDK with CostSpanProcessor sends its
// GPU span over OTLP/HTTP → Kafka → ClickHouse) and its spans settle the hold; every decision and
// change is a webhook whose Standard Webhooks signature is checked independently. Expected money
// is the catalog's GPU rate × hours, computed here.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';
import { bundledPriceSnapshot } from '@costtrace/core';
import type { PreflightList, PreflightRecord } from '@costtrace/client';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator, generateSecret } from '../src/index.js';
import { budgetTopics, createBudgetTopics, startBudgetHarness } from './support/budget-harness.js';
import type { Harness } from './support/budget-harness.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';
import { independentVerify, until, WebhookReceiver } from './support/webhook-receiver.js';
import { harnessConfig } from './support/aggregator-harness.js';

describe('preflight end to end: decide, approve, run, settle, with signed webhooks', { timeout: 180_000 }, () => {
  const services = liveServices();
  const names = uniqueNames('preflight');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const receiver = new WebhookReceiver();
  const secret = generateSecret();
  let dir = '';
  let aggregator: Aggregator;
  let harness: Harness;
  let api = '';
  let http = '';
  let store: ClickHouseStore;

  // The GPU's per-hour rate in the catalog the aggregator and the SDK price with (data, not the pricer).
  const rate = bundledPriceSnapshot().prices.find(
    (p) => p.provider === 'reference' && p.sku === 'h100-80gb' && p.unit === 'gpu_hour',
  )!.amount.subunits;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }
  const preflight = async (jobId: string, hours: string): Promise<PreflightRecord> => {
    const { status, json } = await call('POST', '/v1/preflight', {
      job_id: jobId,
      job_kind: 'fine_tuning',
      dimensions: { team: 'ml' },
      plan: { gpus: [{ type: 'h100-80gb', count: 1, hours }] },
      requested_by: 'ci-pipeline',
    });
    assert.equal(status, 200, JSON.stringify(json));
    return json as PreflightRecord;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-preflight-'));
    const hook = await receiver.start();
    await createTopics(kafka, [names.topic, names.dlqTopic]);
    await createBudgetTopics(kafka, topics);
    const file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `webhooks:
  - id: ml
    url: ${hook}
    secrets: [${secret}]
budgets:
  - id: ml-month
    scope: { team: ml }
    window: month
    limit_usd: "100"
    forecast: false
preflight:
  - id: fine-tunes
    scope: { job_kind: fine_tuning }
    approval_above_usd: "50"
    deny_above_usd: "1000"
    approvers: [alice]
    webhooks: [ml]
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
      instanceId: 'preflight',
    });
    aggregator = new Aggregator({ config: harnessConfig(names), budgetService: harness.service });
    const addresses = await aggregator.start();
    api = `http://127.0.0.1:${addresses.api!.port}`;
    http = `http://127.0.0.1:${addresses.http!.port}`;
    store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  });

  after(async () => {
    await aggregator?.stop();
    await harness?.stop();
    await store?.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store?.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic, topics.deltas, topics.deltasDlq, topics.throttles]);
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('allows, asks, denies over budget, records the approver, and settles the hold with the job’s spans', async () => {
    const a = await preflight('ft-a', '2');
    assert.equal(a.decision, 'allow');
    assert.equal(a.status, 'reserved');
    assert.equal(decimalToPicos(a.amount_usd), 2n * rate);
    const b = await preflight('ft-b', '8');
    assert.equal(decimalToPicos(b.amount_usd), 8n * rate);
    assert.equal(b.decision, 'needs_approval', `8 h at ${rate} pico-USD is at least the $50 threshold`);
    const denied = await call('POST', `/v1/preflight/${b.id}/approve`, { by: 'mallory' });
    assert.equal(denied.status, 403);
    const approved = await call('POST', `/v1/preflight/${b.id}/approve`, { by: 'alice', note: 'Q1 plan' });
    assert.equal(approved.status, 200, JSON.stringify(approved.json));
    assert.equal((approved.json as PreflightRecord).decided_by, 'alice');
    assert.equal((approved.json as PreflightRecord).status, 'reserved');
    // $100 − 2 h − 8 h held: what remains is less than 6 h.
    const d = await preflight('ft-d', '6');
    assert.ok(100n * 10n ** 12n - 10n * rate < 6n * rate, 'the fixture needs 16 h over $100');
    assert.equal(d.decision, 'deny');
    assert.deepEqual(
      d.reasons.map((r) => r.code),
      ['over_budget'],
    );
    assert.equal(decimalToPicos(d.budgets[0]!.reserved_usd), 10n * rate);

    // The job runs: its GPU span carries the job from the resource and is priced by the SDK.
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'trainer',
        'costtrace.team': 'ml',
        'costtrace.job.id': 'ft-a',
        'costtrace.job.kind': 'fine_tuning',
      }),
      spanProcessors: [
        new CostSpanProcessor(),
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${http}/v1/traces` }), { scheduledDelayMillis: 100 }),
      ],
    });
    provider
      .getTracer('trainer')
      .startSpan('epoch', {
        attributes: { 'costtrace.gpu.type': 'h100-80gb', 'costtrace.gpu.count': 1, 'costtrace.gpu.seconds': 7200 },
      })
      .end();
    await provider.forceFlush();
    await provider.shutdown();
    await waitFor(
      'the job span in ClickHouse',
      () =>
        store.select<{ n: string }>(
          `SELECT toString(count()) AS n FROM ${names.database}.span_costs WHERE job_id = 'ft-a'`,
        ),
      (r) => r[0]?.n === '1',
    );
    await aggregator.preflight!.tick();
    const settled = (await call('GET', `/v1/preflight/${a.id}`)).json as PreflightRecord;
    assert.equal(settled.status, 'settled');
    assert.equal(decimalToPicos(settled.reservation!.settled_usd), 2n * rate);
    const released = await call('POST', `/v1/preflight/${b.id}/release`, { by: 'alice', note: 'cancelled' });
    assert.equal((released.json as PreflightRecord).status, 'released');
    const list = (await call('GET', '/v1/preflight?status=settled')).json as PreflightList;
    assert.deepEqual(
      list.preflights.map((p) => p.id),
      [a.id],
    );

    // Every decision and change, signed.
    const expected = [
      ['preflight.decided', a.id],
      ['preflight.decided', b.id],
      ['preflight.approved', b.id],
      ['preflight.decided', d.id],
      ['preflight.reservation_settled', a.id],
      ['preflight.reservation_released', b.id],
    ];
    await until('six preflight webhooks', () => receiver.acknowledged().length >= expected.length, 30_000);
    const events = receiver.acknowledged() as unknown as {
      id: string;
      type: string;
      data: { preflight: PreflightRecord };
    }[];
    assert.deepEqual(events.map((e) => [e.type, e.data.preflight.id]).sort(), [...expected].sort());
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'one id per event');
    for (const r of receiver.received)
      assert.ok(await independentVerify(r.headers, r.body, secret), 'signature verifies');
  });

  it('answers what it cannot price or read with a 400 naming the field', async () => {
    const unknown = await call('POST', '/v1/preflight', {
      plan: { gpus: [{ type: 'h1000', count: 1, hours: '1' }] },
      requested_by: 'x',
    });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.json as { error: { code: string } }).error.code, 'UNKNOWN_PRICE');
    const bad = await call('POST', '/v1/preflight', { plan: {}, requested_by: 'x' });
    assert.equal(bad.status, 400);
    assert.match((bad.json as { error: { message: string } }).error.message, /plan: name the work/);
    assert.equal((await call('GET', '/v1/preflight/pf_nope')).status, 400);
    assert.equal((await call('GET', `/v1/preflight/pf_${'0'.repeat(26)}`)).status, 404);
  });
});
