// Deterministic span and correction rows for store tests (no I/O): a realistic mix of routes,
// models, tenants and commits, money with all 12 decimal places used, request and non-request
// spans, folded rollup dimensions, spread over two hours at non-minute-aligned seconds.
import { Money } from '@costtrace/core';
import type { CostCorrectionRow, SpanCostRow } from '../src/index.js';

/** Start of the fixture data: a whole hour, unix seconds. */
export const FIXTURE_START = 1_795_000_000 - (1_795_000_000 % 3600);
export const FIXTURE_SECONDS = 2 * 3600;

const ROUTES = ['/v1/chat', '/v1/embed', '/v1/summarize', '/v1/train'];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'text-embedding-3-small', ''];
const PROVIDERS = ['openai', 'openai', 'anthropic', 'openai', ''];
const TENANTS = ['acme', 'globex', 'initech', "o'reilly"];
const TEAMS = ['search', 'assist', ''];
const COMMITS = ['a1b2c3d', 'e4f5a6b'];

/** A small linear congruential generator: the same rows on every run. */
function generator(seed: number): () => number {
  let state = BigInt(seed);
  return () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    return Number(state >> 33n);
  };
}

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[next() % list.length]!;
}

function amount(next: () => number, maxUnits: number): Money {
  const subunits = BigInt(next() % maxUnits) * 1_000_000_000_000n + BigInt(next()) * 1000n + BigInt(next() % 1000);
  return Money.fromSubunits(subunits % (BigInt(maxUnits) * 1_000_000_000_000n));
}

/** `count` span rows on `topic`, offsets 0.. per partition (3 partitions). */
const JOB_KINDS_CYCLE = ['training', 'fine_tuning', 'evaluation', 'batch_inference'];

export function fixtureSpanRows(count: number, topic: string, seed = 7): SpanCostRow[] {
  const next = generator(seed);
  const offsets = [0n, 0n, 0n];
  const rows: SpanCostRow[] = [];
  for (let i = 0; i < count; i++) {
    const modelIndex = next() % MODELS.length;
    const second = BigInt(FIXTURE_START + (next() % FIXTURE_SECONDS));
    const startNanos = second * 1_000_000_000n + BigInt(next() % 1_000_000_000);
    const input = BigInt(next() % 5000);
    const output = BigInt(next() % 2000);
    const costInput = amount(next, 2);
    const costOutput = amount(next, 3);
    const costGpu = i % 9 === 0 ? amount(next, 40) : Money.zero();
    const total = costInput.add(costOutput).add(costGpu);
    const partition = next() % 3;
    const offset = offsets[partition]!;
    offsets[partition] = offset + 1n;
    const isRequest = next() % 4 !== 0;
    rows.push({
      startTimeUnixNano: startNanos,
      endTimeUnixNano: startNanos + BigInt(next() % 3_000_000_000),
      traceId: (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32),
      spanId: (BigInt(i + 1) * 0x2545f4914f6cdd1dn).toString(16).padStart(16, '0').slice(-16),
      parentSpanId: isRequest ? '' : 'b7ad6b7169203331',
      spanName: isRequest ? 'POST' : 'llm.call',
      spanKind: isRequest ? 2 : 3,
      statusCode: next() % 17 === 0 ? 2 : 0,
      isRequest,
      service: pick(next, ['gateway', 'worker']),
      environment: 'prod',
      route: pick(next, ROUTES),
      commit: i < count / 2 ? COMMITS[0]! : COMMITS[1]!,
      model: MODELS[modelIndex]!,
      provider: PROVIDERS[modelIndex]!,
      team: pick(next, TEAMS),
      tenant: pick(next, TENANTS),
      feature: pick(next, ['', 'autocomplete', 'review']),
      // GPU rows belong to jobs (derived from i, so the random sequence is the same as before).
      ...(costGpu.subunits > 0n
        ? {
            jobId: `job-${i % 4}`,
            jobKind: JOB_KINDS_CYCLE[i % 4]!,
            jobEpoch: Math.floor(i / 9) % 5,
            jobSamples: (i % 7) * 1_000,
          }
        : {}),
      inputTokens: input,
      outputTokens: output,
      cacheReadTokens: BigInt(next() % 100),
      cacheWriteTokens: 0n,
      reasoningTokens: 0n,
      gpuType: costGpu.subunits > 0n ? 'H100' : '',
      gpuCount: costGpu.subunits > 0n ? 8 : 0,
      gpuSeconds: costGpu.subunits > 0n ? `${next() % 900}.${String(next() % 1000).padStart(3, '0')}` : '0',
      instanceType: costGpu.subunits > 0n ? 'p5.48xlarge' : '',
      costInput,
      costOutput,
      costCacheRead: Money.zero(),
      costCacheWrite: Money.zero(),
      costReasoning: Money.zero(),
      costGpu,
      costCompute: Money.zero(),
      costTotal: total,
      currency: 'USD',
      pricingVersion: 'v1',
      pricingSource: 'bundled',
      priceIds: ['p1', 'p2'],
      unpricedReason: MODELS[modelIndex] === '' ? 'no_model' : '',
      kafkaTopic: topic,
      kafkaPartition: partition,
      kafkaOffset: offset,
      kafkaSpanIndex: 0,
      attributeKeys: ['k'],
      attributeValues: ['v'],
      rollupOverflow: i % 13 === 0 ? ['tenant'] : [],
      sanitized: [],
    });
  }
  return rows;
}

/** Corrections for every `step`-th span: a re-price up by a fixed fraction. */
export function fixtureCorrections(rows: readonly SpanCostRow[], step = 5): CostCorrectionRow[] {
  return rows
    .filter((_, i) => i % step === 0)
    .map((r) => ({
      correctionId: 'corr-1',
      snapshotVersion: 'v2',
      appliedAtUnixSeconds: FIXTURE_START + FIXTURE_SECONDS,
      reason: 'price change',
      startTimeUnixSeconds: Number(r.startTimeUnixNano / 1_000_000_000n),
      traceId: r.traceId,
      spanId: r.spanId,
      service: r.service,
      environment: r.environment,
      route: r.route,
      commit: r.commit,
      model: r.model,
      provider: r.provider,
      team: r.team,
      tenant: r.tenant,
      currency: r.currency,
      previousTotal: r.costTotal,
      correctedTotal: Money.fromSubunits((r.costTotal.subunits * 11n) / 10n + 1n),
    }));
}
