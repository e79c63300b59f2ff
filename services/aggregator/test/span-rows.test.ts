import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spanCostRows, loadConfig, ConfigError } from '../src/index.js';
import { splitRequest } from '../src/ingest/request-splitter.js';
import { decodeSpanMessage, detectEncoding } from '../src/kafka/span-message-codec.js';
import { CardinalityLimiter } from '../src/otlp/cardinality-limiter.js';
import { spanCount } from '../src/otlp/span-rows.js';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import {
  bundledPricingView,
  ModelCallLedger,
  PriceSnapshot,
  priceFromRecord,
  PricingView,
  StaticPriceSource,
} from '@costtrace/core';
import { anthropicUsage, exportRequest, openAiUsage, span, stampedCost } from './support/otlp-fixtures.js';

const NOW_MS = 1_795_400_000_000;
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;
const origin = { topic: 't', partition: 1, offset: 42n };
const prices = new StaticPriceSource(bundledPricingView());

describe('span rows: pricing, validation, sanitising', () => {
  it('prices unpriced spans exactly, keeps stamped costs, marks requests', () => {
    const a = openAiUsage(48_213, 40_960, 1_021);
    const b = anthropicUsage(25, 18_000, 0, 1_337);
    const c = stampedCost(123_456_789n);
    const request = exportRequest({ 'service.name': 's', 'vcs.ref.head.revision': 'abc' }, [
      span({ name: 'a', attributes: a.attributes, startUnixNano: NOW_NS, kind: 2 }),
      span({ name: 'b', attributes: b.attributes, startUnixNano: NOW_NS, parent: true }),
      span({ name: 'c', attributes: c.attributes, startUnixNano: NOW_NS, parent: true }),
    ]);
    const result = spanCostRows(request, origin, NOW_MS, { prices });
    assert.equal(result.rejected.length, 0);
    assert.deepEqual(
      result.rows.map((r) => r.costTotal.subunits),
      [a.picos, b.picos, c.picos],
    );
    assert.deepEqual(
      result.rows.map((r) => r.isRequest),
      [true, false, false],
    );
    assert.deepEqual(
      result.rows.map((r) => r.pricingSource),
      ['aggregator:bundled', 'aggregator:bundled', ''],
    );
    assert.equal(result.pricedHere, 2);
    assert.equal(result.rows[0]!.commit, 'abc');
    assert.equal(result.rows[0]!.kafkaOffset, 42n);
  });

  it('rejects invalid spans with a reason and sanitises fixable ones', () => {
    const ok = openAiUsage(10, 0, 10).attributes;
    const spans = [
      span({ name: 'neg', attributes: { ...ok, 'gen_ai.usage.input_tokens': -1 }, startUnixNano: NOW_NS }),
      span({ name: 'absurd', attributes: { ...ok, 'gen_ai.usage.output_tokens': 1e12 }, startUnixNano: NOW_NS }),
      span({ name: 'nan', attributes: { ...ok, 'gen_ai.usage.output_tokens': Number.NaN }, startUnixNano: NOW_NS }),
      span({ name: 'future', attributes: ok, startUnixNano: NOW_NS + 7_200_000_000_000n }),
      span({ name: 'old', attributes: ok, startUnixNano: NOW_NS - 8n * 86_400_000_000_000n }),
      span({ name: 'cost', attributes: { 'cost.total': '-1' }, startUnixNano: NOW_NS }),
      span({ name: 'cost-nan', attributes: { 'cost.total': Number.NaN }, startUnixNano: NOW_NS }),
      span({ name: 'gpu', attributes: { 'costtrace.gpu.seconds': -2.5 }, startUnixNano: NOW_NS }),
      span({ name: 'fine', attributes: { ...ok, long: 'y'.repeat(1000) }, startUnixNano: NOW_NS }),
    ];
    const result = spanCostRows(exportRequest({}, spans), origin, NOW_MS, { prices });
    assert.deepEqual(
      result.rejected.map((r) => [r.spanIndex, r.reason]),
      [
        [0, 'invalid_token_count'],
        [1, 'invalid_token_count'],
        [2, 'not_a_number'],
        [3, 'timestamp_in_future'],
        [4, 'timestamp_too_old'],
        [5, 'invalid_cost'],
        [6, 'not_a_number'],
        [7, 'invalid_gpu_usage'],
      ],
    );
    assert.equal(result.rows.length, 1);
    assert.equal(result.rows[0]!.service, 'unknown_service');
    assert.deepEqual(result.rows[0]!.sanitized, ['missing_service_name', 'attribute_truncated']);
    assert.equal(result.rows[0]!.attributeValues[0]!.length, 256);
    assert.deepEqual(Object.fromEntries(result.sanitized), { missing_service_name: 1, attribute_truncated: 1 });
  });

  it('validates without pricing exactly as it validates when pricing (ingest)', () => {
    const ok = openAiUsage(10, 0, 10).attributes;
    const stamped = stampedCost(5_000_000n);
    const spans = [
      span({ name: 'a', attributes: openAiUsage(48_213, 40_960, 1_021).attributes, startUnixNano: NOW_NS }),
      span({ name: 'b', attributes: anthropicUsage(25, 18_000, 0, 1_337).attributes, startUnixNano: NOW_NS }),
      span({ name: 'c', attributes: stamped.attributes, startUnixNano: NOW_NS }),
      span({ name: 'unknown', attributes: { ...ok, 'gen_ai.request.model': 'no-such-model' }, startUnixNano: NOW_NS }),
      span({ name: 'neg', attributes: { ...ok, 'gen_ai.usage.input_tokens': -1 }, startUnixNano: NOW_NS }),
      span({ name: 'cost', attributes: { 'cost.total': '-1' }, startUnixNano: NOW_NS }),
      span({ name: 'old', attributes: ok, startUnixNano: NOW_NS - 8n * 86_400_000_000_000n }),
      span({ name: 'gpu', attributes: { 'costtrace.gpu.seconds': -2.5 }, startUnixNano: NOW_NS }),
    ];
    const request = exportRequest({ 'service.name': 's' }, spans);
    const priced = spanCostRows(request, origin, NOW_MS, { prices });
    const checked = spanCostRows(request, origin, NOW_MS, { prices, price: false });
    assert.deepEqual(checked.rejected, priced.rejected, 'the same spans rejected for the same reasons');
    assert.deepEqual(
      checked.rows.map((r) => r.spanName),
      priced.rows.map((r) => r.spanName),
    );
    assert.equal(priced.rejected.length, 4);
    assert.equal(checked.pricedHere, 0);
    assert.equal(checked.unpriced, 0);
    assert.deepEqual(
      checked.rows.map((r) => r.costTotal.subunits),
      [0n, 0n, stamped.picos, 0n],
      'stamped costs are still read (and checked); nothing is priced',
    );
  });

  it('never prices a roll-up span (its children carry the usage) and reads the instance type from host.type', () => {
    const call = openAiUsage(1000, 0, 500);
    const request = exportRequest({ 'service.name': 's', 'host.type': 'g6.xlarge' }, [
      span({
        name: 'rollup',
        attributes: { ...call.attributes, 'costtrace.usage.rollup': true },
        startUnixNano: NOW_NS,
      }),
      span({ name: 'call', attributes: call.attributes, startUnixNano: NOW_NS, parent: true }),
    ]);
    const result = spanCostRows(request, origin, NOW_MS, { prices });
    assert.deepEqual(
      result.rows.map((r) => [r.spanName, r.costTotal.subunits, r.unpricedReason]),
      [
        ['rollup', 0n, ''],
        ['call', call.picos, ''],
      ],
      'the model call is charged once',
    );
    assert.equal(result.pricedHere, 1);
    assert.equal(result.unpriced, 0);
    assert.deepEqual(
      result.rows.map((r) => r.instanceType),
      ['g6.xlarge', 'g6.xlarge'],
    );
  });

  it('charges one model call once across messages (the partition’s ledger), and keeps the SDK’s marks', () => {
    const ledger = new ModelCallLedger();
    const traceId = Buffer.alloc(16, 7);
    const id = (n: number): Buffer => Buffer.alloc(8, n);
    const call = anthropicUsage(10, 3000, 0, 7, { 'gen_ai.response.id': 'msg_01' });
    // Message 1: the Anthropic client's own span (child of the instrumentation's span, id 2).
    const client = {
      ...span({ name: 'client', attributes: call.attributes, startUnixNano: NOW_NS, traceId }),
      spanId: id(1),
      parentSpanId: id(2),
    };
    const first = spanCostRows(exportRequest({ 'service.name': 's' }, [client]), origin, NOW_MS, { prices, ledger });
    assert.equal(first.rows[0]!.costTotal.subunits, call.picos);
    assert.equal(first.rows[0]!.responseId, 'msg_01');
    assert.equal(first.rows[0]!.usageKey, '3010:7');
    // Message 2: the instrumentation's span (OpenLLMetry Python counts the cache in its input),
    // an AI SDK root over it, and a span the SDK already marked a duplicate.
    const wrapperAttributes = { ...call.attributes, 'gen_ai.usage.input_tokens': 3010 };
    const request = exportRequest({ 'service.name': 's' }, [
      {
        ...span({ name: 'wrapper', attributes: wrapperAttributes, startUnixNano: NOW_NS, traceId }),
        spanId: id(2),
        parentSpanId: id(3),
      },
      {
        ...span({
          name: 'root',
          attributes: { ...call.attributes, 'ai.operationId': 'ai.generateText' },
          startUnixNano: NOW_NS,
          traceId,
        }),
        spanId: id(3),
      },
      {
        ...span({
          name: 'marked',
          attributes: {
            ...call.attributes,
            'cost.usage_role': 'duplicate',
            'cost.duplicate_of': id(9).toString('hex'),
          },
          startUnixNano: NOW_NS,
          traceId,
        }),
        spanId: id(4),
        parentSpanId: id(3),
      },
    ]);
    request.resourceSpans[0]!.scopeSpans[0]!.scope = {
      name: 'opentelemetry.instrumentation.anthropic',
      version: '0.62.0',
      attributes: [],
      droppedAttributesCount: 0,
    };
    const second = spanCostRows(request, { ...origin, offset: 43n }, NOW_MS, { prices, ledger });
    assert.deepEqual(
      second.rows.map((r) => [
        r.spanName,
        r.usageRole,
        r.duplicateOf,
        r.costTotal.subunits,
        r.inputTokens,
        r.unpricedReason,
      ]),
      [
        ['wrapper', 'duplicate', id(1).toString('hex'), 0n, 0n, ''],
        ['root', 'rollup', '', 0n, 0n, ''],
        ['marked', 'duplicate', id(9).toString('hex'), 0n, 0n, ''],
      ],
    );
    assert.deepEqual([second.duplicates, second.rollups, second.pricedHere, second.unpriced], [2, 1, 0, 0]);
    // Redelivered: decided as the first time.
    const again = spanCostRows(request, { ...origin, offset: 43n }, NOW_MS, { prices, ledger });
    assert.deepEqual(
      again.rows.map((r) => r.usageRole),
      ['duplicate', 'rollup', 'duplicate'],
    );
    // Without a ledger the wrapper is its own charge, and only marked spans are uncharged.
    const alone = spanCostRows(request, { ...origin, offset: 43n }, NOW_MS, { prices });
    assert.deepEqual(
      alone.rows.map((r) => [r.usageRole, r.costTotal.subunits]),
      [
        ['', call.picos],
        ['rollup', 0n],
        ['duplicate', 0n],
      ],
    );
  });

  it('prices GPU and instance time without the SDK and records what priced them', () => {
    const request = exportRequest(
      {
        'service.name': 'trainer',
        'host.type': 'g6.xlarge',
        'cloud.provider': 'aws',
        'cloud.region': 'us-east-1',
        'costtrace.instance.pricing_model': 'on_demand',
      },
      [
        span({
          name: 'epoch',
          attributes: {
            'costtrace.gpu.seconds': 1.5,
            'costtrace.gpu.type': 'l4',
            'costtrace.gpu.count': 1,
            'costtrace.gpu.pricing_model': 'on_demand',
            'costtrace.instance.share_seconds': '1800',
          },
          startUnixNano: NOW_NS,
        }),
      ],
    );
    const [row] = spanCostRows(request, origin, NOW_MS, { prices }).rows;
    assert.ok(row);
    // 1.5 s of an L4 at the reference 0.8048 per hour (aws has no L4 GPU rate of its own in the
    // bundled catalog): 0.8048e12 × 1.5 / 3600 = 335333333.33… → 335333333 pico.
    assert.equal(row.costGpu.subunits, 335_333_333n);
    // 1800 s of a g6.xlarge at 0.8048 per hour = 0.4024.
    assert.equal(row.costCompute.toDecimalString(), '0.4024');
    assert.equal(row.costTotal.subunits, 335_333_333n + 402_400_000_000n);
    assert.deepEqual(row.priceIds, [
      'reference/l4/global/gpu_time@2026-11-01',
      'aws/g6.xlarge/us-east-1/instance_time@2026-11-01',
    ]);
    assert.deepEqual(
      [row.gpuSeconds, row.gpuProvider, row.gpuPricingModel, row.cloudProvider, row.cloudRegion, row.instanceSeconds],
      ['1.5', 'aws', 'on_demand', 'aws', 'us-east-1', '1800'],
    );
    assert.equal(row.instancePricingModel, 'on_demand');
    assert.equal(row.usageComplete, true);
  });

  it('marks costs that are upper bounds, priced here or stamped', () => {
    // What OpenTelemetry's openai instrumentation writes: no cached-token count at all.
    const call = {
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 10,
    };
    const request: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 's' } }],
            droppedAttributesCount: 0,
            entityRefs: [],
          },
          schemaUrl: '',
          scopeSpans: [
            {
              scope: {
                name: '@opentelemetry/instrumentation-openai',
                version: '0.19.0',
                attributes: [],
                droppedAttributesCount: 0,
              },
              schemaUrl: '',
              spans: [
                span({ name: 'unstamped', attributes: call, startUnixNano: NOW_NS }),
                span({
                  name: 'stamped',
                  attributes: { ...call, 'cost.total': '0.1', 'cost.upper_bound': true },
                  startUnixNano: NOW_NS,
                }),
              ],
            },
          ],
        },
      ],
    };
    const result = spanCostRows(request, origin, NOW_MS, { prices });
    assert.deepEqual(
      result.rows.map((r) => r.costUpperBound),
      [true, true],
    );
    assert.equal(result.upperBound, 2);
    assert.deepEqual(
      result.rows.map((r) => r.emitter),
      ['@opentelemetry/instrumentation-openai@0.19.0', '@opentelemetry/instrumentation-openai@0.19.0'],
      'the emitting instrumentation is recorded',
    );
  });

  it('compares a cost another tool wrote with its own, and never adds it', () => {
    const call = anthropicUsage(25, 18_000, 0, 1_337);
    const ours = Number(call.picos) / 1e12;
    const result = spanCostRows(
      exportRequest({ 'service.name': 's' }, [
        span({ name: 'same', attributes: { ...call.attributes, 'gen_ai.usage.cost': ours }, startUnixNano: NOW_NS }),
        span({ name: 'other', attributes: { ...call.attributes, 'llm.cost.total': ours * 2 }, startUnixNano: NOW_NS }),
      ]),
      origin,
      NOW_MS,
      { prices },
    );
    assert.deepEqual(
      result.rows.map((r) => r.costTotal.subunits),
      [call.picos, call.picos],
    );
    assert.deepEqual(
      result.emittedCosts.map((c) => [c.key, c.agrees]),
      [
        ['gen_ai.usage.cost', true],
        ['llm.cost.total', false],
      ],
    );
  });

  it('audits stamped costs against a recomputation', () => {
    const usage = openAiUsage(1000, 0, 1000);
    const stamped = { ...usage.attributes, 'cost.total': '1.0', 'cost.currency': 'USD' };
    const result = spanCostRows(
      exportRequest({ 'service.name': 's' }, [span({ name: 'x', attributes: stamped, startUnixNano: NOW_NS })]),
      origin,
      NOW_MS,
      { prices, audit: true },
    );
    assert.equal(result.rows[0]!.costTotal.toDecimalString(), '1', 'the stamped cost is kept');
    assert.equal(result.auditDifferences.length, 1);
    assert.equal(result.auditDifferences[0]!.recomputed, '0.00075');
  });

  it('prices with the prices in effect at the span start', () => {
    const price = (kind: string, amount: string, effectiveFrom: string) =>
      priceFromRecord({
        provider: 'openai',
        resourceType: 'model',
        sku: 'gpt-4o-mini',
        kind,
        unit: '1m_tokens',
        amount,
        effectiveFrom,
        source: 'test',
      });
    const changeAt = new Date(NOW_MS).toISOString();
    const snapshot = new PriceSnapshot(
      7n,
      [
        price('input_tokens', '1', '2026-01-01'),
        price('output_tokens', '0', '2026-01-01'),
        price('input_tokens', '2', changeAt),
      ],
      [],
      NOW_MS,
    );
    const attrs = openAiUsage(1_000_000, 0, 0).attributes;
    const result = spanCostRows(
      exportRequest({ 'service.name': 's' }, [
        span({ name: 'before', attributes: attrs, startUnixNano: NOW_NS - 1_000n }),
        span({ name: 'after', attributes: attrs, startUnixNano: NOW_NS }),
      ]),
      origin,
      NOW_MS,
      { prices: new StaticPriceSource(new PricingView(snapshot, 'pricing-cache', false)) },
    );
    assert.deepEqual(
      result.rows.map((r) => [r.pricingVersion, r.pricingSource, r.costTotal.toDecimalString(), r.priceIds]),
      [
        ['pcache-7', 'aggregator:pricing-cache', '1', ['openai/gpt-4o-mini/global/input_tokens@2026-01-01']],
        ['pcache-7', 'aggregator:pricing-cache', '2', [`openai/gpt-4o-mini/global/input_tokens@${changeAt}`]],
      ],
    );
  });

  it('folds dimension values beyond the bound into __other__ for rollups only', () => {
    const limiter = new CardinalityLimiter(2);
    const spans = ['/a', '/b', '/c', '/a'].map((route) =>
      span({ name: route, attributes: { 'http.route': route }, startUnixNano: NOW_NS }),
    );
    const result = spanCostRows(exportRequest({ 'service.name': 's' }, spans), origin, NOW_MS, {
      prices,
      cardinality: limiter,
    });
    assert.deepEqual(
      result.rows.map((r) => [r.route, r.rollupOverflow]),
      [
        ['/a', []],
        ['/b', []],
        ['/c', ['route']],
        ['/a', []],
      ],
    );
    assert.equal(limiter.foldedCount, 1);
    assert.equal(
      limiter.fold('route', '/z', Number(NOW_NS / 1_000_000_000n) + 3600),
      false,
      'a new window starts fresh',
    );
  });
});

describe('request splitting and message decoding', () => {
  it('splits a request into parts under the byte limit, keeping every span once', () => {
    const spans = Array.from({ length: 500 }, (_v, i) => span({ name: `s${i}`, attributes: { pad: 'p'.repeat(200) } }));
    const request = exportRequest({ 'service.name': 'big' }, spans);
    const { parts, oversizeSpans } = splitRequest(request, 16 * 1024);
    assert.equal(oversizeSpans, 0);
    assert.ok(parts.length > 5);
    for (const part of parts) assert.ok(ExportTraceServiceRequest.encode(part).finish().length <= 16 * 1024);
    assert.equal(
      parts.reduce((n, p) => n + spanCount(p), 0),
      500,
    );
    assert.deepEqual(
      parts.flatMap((p) => p.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)))),
      spans.map((s) => s.name),
    );
    const huge = splitRequest(
      exportRequest({}, [span({ name: 'h', attributes: { pad: 'x'.repeat(40_000) } })]),
      16 * 1024,
    );
    assert.equal(huge.oversizeSpans, 1);
    assert.equal(huge.parts.length, 0);
  });

  it('detects and decodes otlp_proto and otlp_json', () => {
    const request = exportRequest({ 'service.name': 'd' }, [span({ name: 'x', attributes: {} })]);
    const proto = Buffer.from(ExportTraceServiceRequest.encode(request).finish());
    assert.equal(detectEncoding(proto, undefined), 'otlp_proto');
    assert.equal(detectEncoding(Buffer.from(' {"resourceSpans":[]}'), undefined), 'otlp_json');
    assert.equal(detectEncoding(proto, 'application/json'), 'otlp_json');
    assert.equal(spanCount(decodeSpanMessage(proto)), 1);
    assert.throws(() => decodeSpanMessage(null), /no value/);
    assert.throws(
      () => decodeSpanMessage(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])),
      (e: Error & { reason?: string }) => e.reason === 'undecodable_protobuf',
    );
  });
});

describe('configuration', () => {
  it('validates cross-field rules with messages naming the variable', () => {
    assert.throws(
      () =>
        loadConfig({}, { COSTTRACE_KAFKA_SESSION_TIMEOUT_MS: '30000', COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS: '10000' }),
      (e: Error) =>
        e instanceof ConfigError && /COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS \(10000\) is below/.test(e.message),
    );
    assert.throws(
      () => loadConfig({}, { CLICKHOUSE_TIMEOUT_MS: '40000' }),
      /CLICKHOUSE_TIMEOUT_MS \(40000\) must be below/,
    );
    assert.throws(
      () => loadConfig({}, { COSTTRACE_MAX_SPAN_AGE_SECONDS: String(100 * 86_400) }),
      /COSTTRACE_RETENTION_SPAN_DAYS/,
    );
    assert.throws(
      () => loadConfig({}, { COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS: '5000' }),
      /COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS \(5000\) must be at most 3000 \(the heartbeat interval/,
    );
    const lingering = loadConfig(
      {},
      {
        COSTTRACE_KAFKA_FETCH_MIN_BYTES: '1048576',
        COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS: '5000',
        COSTTRACE_KAFKA_SESSION_TIMEOUT_MS: '60000',
      },
    );
    assert.equal(lingering.fetchMinBytes, 1_048_576);
    assert.equal(lingering.fetchMaxWaitMs, 5_000);
    assert.throws(() => loadConfig({}, { COSTTRACE_KAFKA_FETCH_MIN_BYTES: '0' }), /COSTTRACE_KAFKA_FETCH_MIN_BYTES/);
    assert.throws(() => loadConfig({}, { KAFKA_BROKERS: 'nope' }), /KAFKA_BROKERS entry "nope" is invalid/);
    assert.throws(() => loadConfig({}, { COSTTRACE_AUDIT_STAMPED_COSTS: 'maybe' }), /use true or false/);
    const config = loadConfig({}, {});
    assert.equal(config.spansTopic, 'otlp_spans');
    assert.equal(config.deadLetterTopic, 'otlp_spans.dlq');
    assert.equal(config.grpcPort, 4317);
    assert.equal(config.httpPort, 4318);
    assert.equal(config.clickhouseTimeoutMs, 15_000);
    assert.equal(config.fetchMinBytes, 1);
    assert.equal(config.fetchMaxWaitMs, 500);
  });
});

describe('span rows: jobs', () => {
  const gpu = { 'costtrace.gpu.type': 'h100-80gb', 'costtrace.gpu.count': 8, 'costtrace.gpu.seconds': 3_600 };

  it("reads a job's id, kind and epoch from the span, its ancestors in the request or the resource; samples only from the span", () => {
    const job = span({
      name: 'train',
      attributes: { 'costtrace.job.id': 'run-9', 'costtrace.job.samples': 10 },
      startUnixNano: NOW_NS,
    });
    const epoch = span({
      name: 'epoch',
      attributes: { 'costtrace.job.epoch': '3', 'costtrace.job.samples': 40_000, ...gpu },
      startUnixNano: NOW_NS,
    });
    const step = span({ name: 'step', attributes: gpu, startUnixNano: NOW_NS });
    const orphan = span({ name: 'orphan', attributes: gpu, startUnixNano: NOW_NS, parent: true });
    // step → epoch → train, in one trace (the order a batch span processor exports them).
    epoch.traceId = job.traceId;
    step.traceId = job.traceId;
    epoch.parentSpanId = job.spanId;
    step.parentSpanId = epoch.spanId;
    const request = exportRequest(
      {
        'service.name': 'trainer',
        'costtrace.job.kind': 'training',
        'costtrace.job.model': 'support-bot-v3',
      },
      [step, epoch, job, orphan],
    );
    const { rows, rejected } = spanCostRows(request, origin, NOW_MS, { prices });
    assert.equal(rejected.length, 0);
    const by = new Map(rows.map((r) => [r.spanName, r]));
    assert.deepEqual(
      ['step', 'epoch', 'train', 'orphan'].map((n) => {
        const r = by.get(n)!;
        return [n, r.jobId ?? '', r.jobKind ?? '', r.jobEpoch ?? -1, r.jobSamples ?? 0];
      }),
      [
        ['step', 'run-9', 'training', 3, 0],
        ['epoch', 'run-9', 'training', 3, 40_000],
        ['train', 'run-9', 'training', -1, 10],
        // Its parent is in no request seen here: the resource's kind, no id.
        ['orphan', '', 'training', -1, 0],
      ],
    );
    assert.ok(by.get('step')!.costGpu.subunits > 0n, 'the GPU time is priced');
    // The job's model stands in for a GenAI model the span does not have.
    assert.equal(by.get('step')!.model, 'support-bot-v3');
    assert.equal(by.get('orphan')!.model, 'support-bot-v3');
  });

  it('keeps the span but notes an epoch or sample count that is not a whole number', () => {
    const request = exportRequest({ 'service.name': 'trainer' }, [
      span({ name: 'a', attributes: { 'costtrace.job.id': 'j', 'costtrace.job.epoch': -1 }, startUnixNano: NOW_NS }),
      span({ name: 'b', attributes: { 'costtrace.job.id': 'j', 'costtrace.job.samples': 1.5 }, startUnixNano: NOW_NS }),
      span({ name: 'c', attributes: { 'costtrace.job.id': 'j', 'costtrace.job.epoch': 'two' }, startUnixNano: NOW_NS }),
    ]);
    const { rows, sanitized } = spanCostRows(request, origin, NOW_MS, { prices });
    assert.deepEqual(
      rows.map((r) => [r.jobEpoch ?? -1, r.jobSamples ?? 0, r.sanitized]),
      [
        [-1, 0, ['invalid_job_attribute']],
        [-1, 0, ['invalid_job_attribute']],
        [-1, 0, ['invalid_job_attribute']],
      ],
    );
    assert.equal(sanitized.get('invalid_job_attribute'), 3);
    // The job attributes are columns, not extra attributes.
    assert.deepEqual(rows[0]!.attributeKeys, []);
  });

  it('folds job ids past the cardinality bound in the rollup, keeping the truth on the span row', () => {
    const limiter = new CardinalityLimiter(1);
    const request = exportRequest({ 'service.name': 'trainer' }, [
      span({ name: 'a', attributes: { 'costtrace.job.id': 'j1', ...gpu }, startUnixNano: NOW_NS }),
      span({ name: 'b', attributes: { 'costtrace.job.id': 'j2', ...gpu }, startUnixNano: NOW_NS }),
    ]);
    const { rows } = spanCostRows(request, origin, NOW_MS, { prices, cardinality: limiter });
    assert.deepEqual(
      rows.map((r) => [r.jobId, r.rollupOverflow.includes('job_id')]),
      [
        ['j1', false],
        ['j2', true],
      ],
    );
  });
});
