import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBudget } from '@costtrace/core';
import { budgetDeltas, decodeDelta, encodeDelta } from '../../src/index.js';
import type { BudgetCostDelta } from '../../src/index.js';
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
