import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetToDocument, Money, parseBudget } from '@costtrace/core';
import { budgetDeltas } from '../../src/index.js';
import { decodeDelta, encodeDelta } from '../../src/budgets/cost-delta.js';
import type { BudgetCostDelta } from '../../src/budgets/cost-delta.js';
import { costRow } from '../support/cost-rows.js';

describe('budgetDeltas (span path → budgets hand-off)', () => {
  const perTenant = parseBudget({
    id: 'tenant-daily',
    scope: { route: '/v1/*' },
    per: ['tenant'],
    window: 'day',
    limit_usd: '50',
  });
  const gpt = parseBudget({ id: 'gpt', scope: { model: 'gpt-4o-mini' }, window: '1h', limit_usd: '10' });
  const other = parseBudget({ id: 'other-service', scope: { service: 'batch' }, window: '1h', limit_usd: '10' });

  it('yields one exact delta per matching budget key with the span identity', () => {
    const rows = [
      costRow({ picos: 1_500_000n, tenant: 'acme', offset: 7n }),
      costRow({ picos: 2n, tenant: 'globex', offset: 7n }),
      costRow({ picos: 5n, tenant: 'acme', route: '/healthz', offset: 8n }),
      costRow({ picos: 0n, tenant: 'acme', offset: 9n }),
      costRow({ picos: 9n, tenant: 'acme', offset: 9n, unpricedReason: 'unknown_model' }),
    ];
    const deltas = budgetDeltas(rows, [perTenant, gpt, other], { anomalies: false }) as BudgetCostDelta[];
    const sum = (key: string) => deltas.filter((d) => d.scopeKey === key).reduce((a, d) => a + d.subunits, 0n);
    assert.equal(sum('tenant-daily|tenant=acme'), 1_500_000n);
    assert.equal(sum('tenant-daily|tenant=globex'), 2n);
    assert.equal(sum('gpt'), 1_500_000n + 2n + 5n);
    assert.equal(sum('other-service'), 0n);
    assert.equal(deltas.length, 5);
    const globex = deltas.find((d) => d.scopeKey === 'tenant-daily|tenant=globex')!;
    assert.equal(globex.source.offset, 7n);
    assert.equal(globex.source.seq, 1, 'second span of message 7');
    assert.equal(globex.source.spanId, rows[1]!.spanId);
    assert.deepEqual(globex.dimensions, { tenant: 'globex' });
    assert.equal(globex.eventTimeMs, Number(rows[1]!.endTimeUnixNano / 1_000_000n));
    assert.deepEqual(decodeDelta(encodeDelta(globex)), globex);
  });

  it('keeps one budget per job: scope by job kind, per job id', () => {
    const perJob = parseBudget({
      id: 'fine-tunes',
      scope: { job_kind: 'fine_tuning' },
      per: ['job_id'],
      window: 'month',
      limit_usd: '5000',
    });
    const rows = [
      costRow({ picos: 7_000_000n, jobId: 'ft-1', jobKind: 'fine_tuning', offset: 1n }),
      costRow({ picos: 3n, jobId: 'ft-2', jobKind: 'fine_tuning', offset: 1n }),
      costRow({ picos: 11n, jobId: 'ft-1', jobKind: 'fine_tuning', offset: 2n }),
      costRow({ picos: 5n, jobId: 'ev-1', jobKind: 'evaluation', offset: 2n }),
      costRow({ picos: 13n, offset: 3n }),
    ];
    const deltas = budgetDeltas(rows, [perJob], { anomalies: false }) as BudgetCostDelta[];
    assert.deepEqual(
      deltas.map((d) => [d.scopeKey, d.subunits, d.dimensions]),
      [
        ['fine-tunes|job_id=ft-1', 7_000_000n, { job_id: 'ft-1' }],
        ['fine-tunes|job_id=ft-2', 3n, { job_id: 'ft-2' }],
        ['fine-tunes|job_id=ft-1', 11n, { job_id: 'ft-1' }],
      ],
    );
    assert.deepEqual(decodeDelta(encodeDelta(deltas[0]!)), deltas[0]);
  });

  it('counts unpriced spend as zero by default, or as the budget’s estimate', () => {
    const estimating = parseBudget({
      id: 'estimating',
      window: '1h',
      limit_usd: '10',
      unpriced: { count_as: 'estimate', usd_per_million_tokens: '15', usd_per_span: '0.000001' },
    });
    const zero = parseBudget({ id: 'zero', window: '1h', limit_usd: '10' });
    const rows = [
      // An unknown model: 1234 + 0 + 100 + 0 tokens, nothing priced.
      costRow({ picos: 0n, offset: 1n, unpricedReason: 'unknown_model', inputTokens: 1234n, cacheReadTokens: 100n }),
      // Tokens priced, GPU unknown: the priced part stands, tokens are not estimated again.
      costRow({
        picos: 700n,
        offset: 2n,
        unpricedReason: 'unknown_gpu',
        inputTokens: 10n,
        costInput: Money.fromSubunits(700n, 'USD'),
      }),
      // A duplicate's missing price is its charged sibling's business.
      costRow({ picos: 0n, offset: 3n, unpricedReason: 'unknown_model', inputTokens: 5n, usageRole: 'duplicate' }),
    ];
    const stats = { nonUsdRows: 0, unpricedAsZero: 0, unpricedEstimated: 0 };
    const deltas = budgetDeltas(rows, [estimating, zero], { anomalies: false, stats }) as BudgetCostDelta[];
    // Worked out by hand: 1334 tokens × $15 / 1M = $0.02001 = 20_010_000_000 pico, + $0.000001 per span.
    assert.deepEqual(
      deltas.map((d) => [d.budgetId, d.source.offset, d.subunits]),
      [
        ['estimating', 1n, 20_010_000_000n + 1_000_000n],
        ['estimating', 2n, 700n + 1_000_000n],
      ],
    );
    assert.deepEqual(stats, { nonUsdRows: 0, unpricedAsZero: 2, unpricedEstimated: 2 });
    assert.throws(
      () => parseBudget({ id: 'x', window: '1h', limit_usd: '1', unpriced: { count_as: 'estimate' } }),
      /budget\.unpriced: count_as: estimate needs usd_per_million_tokens or usd_per_span/,
    );
    assert.throws(
      () => parseBudget({ id: 'x', window: '1h', limit_usd: '1', unpriced: { usd_per_span: '1' } }),
      /budget\.unpriced\.usd_per_span: only applies with count_as: estimate/,
    );
    assert.throws(
      () => parseBudget({ id: 'x', window: '1h', limit_usd: '1', unpriced: { count_as: 'guess' } }),
      /budget\.unpriced\.count_as: must be "zero" or "estimate"/,
    );
    assert.throws(
      () => parseBudget({ id: 'x', window: '1h', limit_usd: '1', unpriced: { count_as: 'estimate', usd_per_span: 1 } }),
      /usd_per_span: must be an exact decimal USD string/,
    );
    assert.deepEqual(budgetToDocument(estimating).unpriced, {
      count_as: 'estimate',
      usd_per_million_tokens: '15',
      usd_per_span: '0.000001',
    });
    assert.deepEqual(parseBudget(budgetToDocument(estimating)), estimating, 'the document round-trips');
  });

  it('aggregates anomaly scope deltas per message, service, route and commit', () => {
    const rows = [
      costRow({ picos: 3n, offset: 1n }),
      costRow({ picos: 4n, offset: 1n }),
      costRow({ picos: 5n, offset: 2n, commit: 'c2' }),
    ];
    const scopes = budgetDeltas(rows, []).filter((d) => d.kind === 'scope');
    assert.equal(scopes.length, 2);
    assert.equal(scopes[0]!.subunits, 7n);
    assert.equal(scopes[0]!.kind === 'scope' && scopes[0]!.requests, 2);
  });

  it('rejects malformed wire deltas with a reason', () => {
    assert.throws(() => decodeDelta('{"kind":"budget","source":{}}'), /source.topic/);
    assert.throws(
      () =>
        decodeDelta(
          '{"kind":"nope","source":{"topic":"t","partition":0,"offset":"1","seq":0,"spanId":"","traceId":""}}',
        ),
      /unknown kind/,
    );
  });
});
