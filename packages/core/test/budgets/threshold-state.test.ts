import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialThresholdState, parseBudget, stepThresholds } from '../../src/index.js';
import type { ThresholdEvent, ThresholdState } from '../../src/index.js';

const USD = 10n ** 12n;

describe('thresholds and throttle hysteresis', () => {
  const budget = parseBudget({
    id: 'b',
    window: '10m',
    limit_usd: '100',
    action: 'reject',
    release: { below_percent: 90, for: '1m' },
  });

  function run(steps: [number, bigint][]): ThresholdEvent[] {
    let state: ThresholdState = initialThresholdState('rolling');
    const events: ThresholdEvent[] = [];
    for (const [now, spend] of steps) {
      const r = stepThresholds(budget, state, { spend, nowMs: now, windowId: 'rolling' });
      state = r.state;
      events.push(...r.events);
    }
    return events;
  }

  it('fires each threshold once and engages exactly once while spend hovers at the limit', () => {
    const steps: [number, bigint][] = [];
    for (let i = 0; i < 200; i++) steps.push([i * 1000, (99n + BigInt(i % 3)) * USD]); // 99, 100, 101 …
    const events = run([[0, 85n * USD], ...steps]);
    assert.deepEqual(
      events.map((e) => e.type + ('threshold' in e ? `:${e.threshold}` : '')),
      [
        'budget.threshold_crossed:80',
        'budget.threshold_crossed:90',
        'budget.threshold_crossed:100',
        'throttle.engaged',
      ],
    );
  });

  it('releases only after spend stayed below the release level long enough', () => {
    const events = run([
      [0, 100n * USD],
      [10_000, 89n * USD],
      [50_000, 91n * USD], // back above 90 %: the timer restarts
      [60_000, 80n * USD],
      [119_999, 80n * USD],
      [120_000, 80n * USD],
      [121_000, 50n * USD],
      [130_000, 100n * USD],
    ]);
    const throttle = events.filter((e) => e.type.startsWith('throttle'));
    assert.deepEqual(throttle, [
      { type: 'throttle.engaged', breach: 1 },
      { type: 'throttle.released', breach: 1, reason: 'spend_below_release' },
      { type: 'throttle.engaged', breach: 2 },
    ]);
    const hundred = events.filter((e) => e.type === 'budget.threshold_crossed' && e.threshold === 100);
    assert.deepEqual(
      hundred.map((e) => (e.type === 'budget.threshold_crossed' ? e.episode : 0)),
      [1, 2],
      're-armed below 90 %',
    );
  });

  it('releases at a calendar rollover and fires a forecast before the spend crosses', () => {
    const daily = parseBudget({ id: 'd', window: 'day', limit_usd: '10', action: 'degrade' });
    let state = initialThresholdState('p1');
    let r = stepThresholds(daily, state, { spend: 5n * USD, nowMs: 1, windowId: 'p1', projected: 12n * USD });
    assert.deepEqual(r.events, [{ type: 'budget.forecast_exceeded', episode: 1 }]);
    state = r.state;
    r = stepThresholds(daily, state, { spend: 10n * USD, nowMs: 2, windowId: 'p1', projected: 20n * USD });
    assert.ok(r.events.some((e) => e.type === 'throttle.engaged'));
    assert.ok(!r.events.some((e) => e.type === 'budget.forecast_exceeded'));
    r = stepThresholds(daily, r.state, { spend: 0n, nowMs: 3, windowId: 'p2' });
    assert.deepEqual(r.events, [{ type: 'throttle.released', breach: 1, reason: 'window_rollover' }]);
    assert.equal(r.state.throttle.engaged, false);
  });

  it('never engages for alert-only budgets', () => {
    const alertOnly = parseBudget({ id: 'a', window: '1h', limit_usd: '1' });
    const r = stepThresholds(alertOnly, initialThresholdState('rolling'), {
      spend: 5n * USD,
      nowMs: 0,
      windowId: 'rolling',
    });
    assert.ok(r.events.every((e) => e.type === 'budget.threshold_crossed'));
    assert.equal(r.events.length, 4);
  });
});
