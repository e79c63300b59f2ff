import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetError, budgetToDocument, parseBudget, percentOfLimit } from '../../src/index.js';
import { reachesPercent } from '../../src/budgets/budget.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BudgetError, `expected BudgetError, got ${String(err)}`);
    return err.field;
  }
  assert.fail('expected an error');
}

describe('budget definitions', () => {
  it('parses a full document with defaults and round-trips it', () => {
    const budget = parseBudget({
      id: 'tenant-daily',
      scope: { service: 'chat-*', route: '/v1/chat' },
      per: ['tenant'],
      window: 'day',
      time_zone: 'Europe/Berlin',
      limit_usd: '50',
      action: 'reject',
      webhooks: ['ops'],
    });
    assert.equal(budget.name, 'tenant-daily');
    assert.deepEqual(budget.thresholds, [80, 90, 100, 110]);
    assert.equal(budget.throttleAtPercent, 100);
    assert.deepEqual(budget.release, { belowPercent: 90, forMs: 60_000 });
    assert.equal(budget.limit.subunits, 50n * 10n ** 12n);
    assert.deepEqual(budget.window, { kind: 'calendar', period: 'day', timeZone: 'Europe/Berlin' });
    assert.equal(budget.maxKeys, 10_000);
    const again = parseBudget(budgetToDocument(budget));
    assert.deepEqual(budgetToDocument(again), budgetToDocument(budget));
  });

  it('parses rolling windows and exact limits', () => {
    const b = parseBudget({ id: 'b', window: '10m', limit_usd: '0.000000000001', thresholds: [50, 75.5] });
    assert.deepEqual(b.window, { kind: 'rolling', durationMs: 600_000 });
    assert.equal(b.limit.subunits, 1n);
    assert.deepEqual(b.thresholds, [50, 75.5]);
  });

  it('names the field of every error', () => {
    assert.equal(
      fieldOf(() => parseBudget({ window: '1h', limit_usd: '1' })),
      'budget.id',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '30s', limit_usd: '1' })),
      'budget.window',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '31d', limit_usd: '1' })),
      'budget.window',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: 'fortnight', limit_usd: '1' })),
      'budget.window',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1.0000000000001' })),
      'budget.limit_usd',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '-1' })),
      'budget.limit_usd',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', scope: { region: 'eu' } })),
      'budget.scope.region',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: 'day', time_zone: 'Mars/Olympus', limit_usd: '1' })),
      'budget.time_zone',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', action: 'block' })),
      'budget.action',
    );
    assert.equal(
      fieldOf(() =>
        parseBudget({
          id: 'x',
          window: '1h',
          limit_usd: '1',
          throttle_at_percent: 100,
          release: { below_percent: 120 },
        }),
      ),
      'budget.release.below_percent',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', thresholds: [80, 80] })),
      'budget.thresholds',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', per: ['tenant', 'planet'] })),
      'budget.per[1]',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', colour: 'red' })),
      'budget.colour',
    );
    assert.equal(
      fieldOf(() => parseBudget({ id: 'x', window: '1h', limit_usd: '1', max_keys: 5 })),
      'budget.max_keys',
    );
  });

  it('compares spend with percents exactly', () => {
    const limit = 3n;
    assert.equal(reachesPercent(2n, limit, 66.66), true);
    assert.equal(reachesPercent(2n, limit, 66.67), false);
    assert.equal(percentOfLimit(2n, limit), 66.66);
    assert.equal(reachesPercent(100n, 100n, 100), true);
    assert.equal(reachesPercent(99n, 100n, 100), false);
  });
});
