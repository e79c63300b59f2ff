import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetError, evaluateDrift, parseDriftRule } from '../../src/index.js';
import type { ReconcileRow } from '../../src/index.js';

function row(provider: string, over: Partial<ReconcileRow>): ReconcileRow {
  const zero = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
  return {
    dimensions: { provider },
    currency: 'USD',
    billedTokens: zero,
    tracedTokens: zero,
    billedRequests: 0n,
    tracedRequests: 0,
    spans: 0,
    unpricedSpans: 0,
    billedCost: '200',
    billedCostKnown: 'all',
    billedListCost: '220',
    tracedListCost: '200',
    tracedCost: '190',
    untracedListCost: '10',
    drift: '10',
    categories: { untraced: '10', cacheOrTier: '0', unpriced: '0', rate: '0', timing: '0', unexplained: '0' },
    ...over,
  };
}

describe('drift rules', () => {
  it('parses a rule and names the field of every mistake', () => {
    const rule = parseDriftRule(
      {
        id: 'openai-untraced',
        provider: 'openai',
        measure: 'untraced',
        above_percent: '5',
        window: '30d',
        webhooks: ['ops'],
      },
      'drift[0]',
    );
    assert.equal(rule.abovePercent, 50_000n);
    assert.equal(rule.windowDays, 30);
    for (const [doc, field] of [
      [{ id: 'x', above_percent: '0' }, 'drift[0].above_percent'],
      [{ id: 'x', above_percent: 'five' }, 'drift[0].above_percent'],
      [{ id: 'x', above_percent: 5, measure: 'vibes' }, 'drift[0].measure'],
      [{ id: 'x', above_percent: 5, window: '12h' }, 'drift[0].window'],
      [{ id: 'bad id', above_percent: 5 }, 'drift[0].id'],
      [{ id: 'x', above_percent: 5, colour: 'red' }, 'drift[0].colour'],
    ] as const) {
      assert.throws(
        () => parseDriftRule(doc, 'drift[0]'),
        (err: unknown) => err instanceof BudgetError && err.field === field,
        JSON.stringify(doc),
      );
    }
  });

  it('measures each provider against its bill, above or not', () => {
    const rule = parseDriftRule({ id: 'u', measure: 'untraced', above_percent: '5' }, 'drift[0]');
    const findings = evaluateDrift(rule, [
      row('openai', {}), // 10 of 200 = 5 %: at the threshold, above
      row('anthropic', {
        categories: { untraced: '-9.99', cacheOrTier: '0', unpriced: '0', rate: '0', timing: '0', unexplained: '0' },
      }),
      row('azure', { billedCostKnown: 'some' }), // a bill without cost for some days: not measured
      row('gcp', { billedCost: '0' }), // nothing billed: no share
    ]);
    assert.deepEqual(
      findings.map((f) => [f.provider, f.percent, f.above]),
      [
        ['openai', '5', true],
        ['anthropic', '4.995', false],
      ],
    );
    const openaiOnly = parseDriftRule({ id: 'd', provider: 'openai', above_percent: '5.0001' }, 'drift[0]');
    assert.deepEqual(
      evaluateDrift(openaiOnly, [row('openai', {}), row('anthropic', {})]).map((f) => [f.provider, f.above]),
      [['openai', false]],
    );
  });
});
