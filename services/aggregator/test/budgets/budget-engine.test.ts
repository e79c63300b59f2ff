// The evaluator's engine with an injected clock: thresholds, exactly one engagement, replays,
// restore without a second engagement, release after the spend ages out, key caps, calendar
// rollover. Expected totals are computed here independently.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBudget, SpendRateDetector } from '@costtrace/core';
import { BudgetCatalog, BudgetEngine, budgetDeltas } from '../../src/index.js';
import type { EngineOutput } from '../../src/budgets/budget-engine.js';
import type { CostDelta } from '../../src/budgets/cost-delta.js';
import { costRow } from '../support/cost-rows.js';

const USD = 10n ** 12n;
const T0 = Date.parse('2026-11-23T10:00:00Z');

function collect(outputs: EngineOutput[]): string[] {
  return outputs.flatMap((o) =>
    o.events.map(
      (e) =>
        `${e.event.type}${e.event.type === 'budget.threshold_crossed' ? `:${(JSON.parse(e.event.body) as { data: { threshold_percent: number } }).data.threshold_percent}` : ''}`,
    ),
  );
}

describe('budget engine', () => {
  const budget = parseBudget({
    id: 'tenant-10m',
    per: ['tenant'],
    window: '10m',
    limit_usd: '1',
    action: 'reject',
    release: { below_percent: 90, for: '1m' },
    webhooks: ['ops'],
    forecast: false,
  });
  const catalog = new BudgetCatalog([budget]);

  function deltasAt(ms: number, picos: bigint, tenant = 'acme', offset?: bigint): CostDelta[] {
    return budgetDeltas([costRow({ picos, tenant, endMs: ms, offset })], catalog, { anomalies: false });
  }

  it('fires thresholds, engages once, drops replays, survives a restore, releases once', () => {
    const engine = new BudgetEngine({ catalog: () => catalog });
    const outs: EngineOutput[] = [];
    const all: CostDelta[] = [];
    let expected = 0n;
    for (let i = 0; i < 12; i++) {
      const picos = USD / 10n + BigInt(i); // 0.1 $ + i picodollars
      const ds = deltasAt(T0 + i * 1000, picos);
      all.push(...ds);
      expected += picos;
      for (const d of ds) outs.push(engine.apply(d, 0, T0 + i * 1000));
    }
    assert.equal(engine.spend('tenant-10m|tenant=acme', T0 + 12_000), expected);
    assert.deepEqual(collect(outs), [
      'budget.threshold_crossed:80',
      'budget.threshold_crossed:90',
      'budget.threshold_crossed:100',
      'throttle.engaged',
      'budget.threshold_crossed:110',
    ]);
    const engaged = outs.flatMap((o) => o.engaged);
    assert.equal(engaged.length, 1);
    assert.deepEqual(engaged[0]!.selector, { tenant: 'acme' });
    assert.equal(engaged[0]!.action, 'reject');

    // Replaying every delta changes nothing.
    const replay = all.map((d) => engine.apply(d, 0, T0 + 13_000));
    assert.deepEqual(collect(replay), []);
    assert.equal(engine.spend('tenant-10m|tenant=acme', T0 + 13_000), expected);
    assert.equal(engine.stats.duplicatesDropped, all.length);

    // Restore into a fresh engine (a restart): same totals, still engaged, no second event.
    const snapshots = engine.takeDirty();
    const restarted = new BudgetEngine({ catalog: () => catalog });
    const reEngaged = restarted.restore(JSON.parse(JSON.stringify(snapshots)) as typeof snapshots, T0 + 14_000);
    assert.equal(reEngaged.length, 1, 'throttle re-published, not re-announced');
    assert.equal(restarted.spend('tenant-10m|tenant=acme', T0 + 14_000), expected);
    const after: EngineOutput[] = all.map((d) => restarted.apply(d, 0, T0 + 14_000));
    after.push(...deltasAt(T0 + 15_000, USD / 10n, 'acme').map((d) => restarted.apply(d, 0, T0 + 15_000)));
    assert.deepEqual(collect(after), [], 'no second throttle.engaged');

    // Spend ages out after 10 minutes; the release needs 1 more minute below 90 %.
    const ticks: EngineOutput[] = [];
    for (let t = T0 + 16_000; t <= T0 + 13 * 60_000; t += 5_000) ticks.push(restarted.tick(t));
    assert.deepEqual(collect(ticks), ['throttle.released']);
    const releasedAt = ticks.findIndex((o) => o.released.length > 0);
    const releaseTime = T0 + 16_000 + releasedAt * 5_000;
    assert.ok(
      releaseTime >= T0 + 11 * 60_000,
      `released at +${(releaseTime - T0) / 1000}s, after the window plus 1 min`,
    );
  });

  it('re-arms a rolling-window threshold once the spend has aged out', () => {
    const alert = new BudgetCatalog([
      parseBudget({ id: 'half', window: '10m', limit_usd: '1', thresholds: [50], forecast: false }),
    ]);
    const engine = new BudgetEngine({ catalog: () => alert });
    const spendAt = (t: number, offset: bigint) =>
      budgetDeltas([costRow({ picos: (USD * 6n) / 10n, endMs: t, offset })], alert, { anomalies: false }).map((d) =>
        engine.apply(d, 0, t),
      );
    const first = spendAt(T0, 1n);
    assert.deepEqual(collect(first), ['budget.threshold_crossed:50']);
    assert.deepEqual(collect([engine.tick(T0 + 11 * 60_000)]), [], 'aged out (and the idle key evicted)');
    const again = spendAt(T0 + 12 * 60_000, 2n);
    assert.deepEqual(collect(again), ['budget.threshold_crossed:50']);
    assert.notEqual(again[0]!.events[0]!.event.id, first[0]!.events[0]!.event.id, 'a new alert gets a new event id');
    // Replaying the first delta into a fresh engine re-creates the first event's id exactly.
    const replayed = new BudgetEngine({ catalog: () => alert });
    const ids = budgetDeltas([costRow({ picos: (USD * 6n) / 10n, endMs: T0, offset: 1n })], alert, {
      anomalies: false,
    }).map((d) => replayed.apply(d, 0, T0 + 5_000).events[0]!.event.id);
    assert.deepEqual(ids, [first[0]!.events[0]!.event.id]);
  });

  it('caps keys per budget and reports it once', () => {
    const capped = new BudgetCatalog([
      parseBudget({ id: 'cap', per: ['tenant'], window: '1h', limit_usd: '1', max_keys: 2 }),
    ]);
    const reported: string[] = [];
    const engine = new BudgetEngine({ catalog: () => capped, onKeyCap: (id) => reported.push(id) });
    for (const tenant of ['a', 'b', 'c', 'd']) {
      for (const d of budgetDeltas([costRow({ picos: 1n, tenant, endMs: T0 })], capped, { anomalies: false }))
        engine.apply(d, 0, T0);
    }
    assert.equal(engine.size, 2);
    assert.equal(engine.keysOverCapOf('cap'), 2);
    assert.deepEqual(reported, ['cap']);
  });

  it('rolls a calendar day over in its time zone and releases at the rollover', () => {
    const daily = parseBudget({
      id: 'daily',
      window: 'day',
      time_zone: 'America/New_York',
      limit_usd: '1',
      action: 'degrade',
      forecast: false,
    });
    const cat = new BudgetCatalog([daily]);
    const engine = new BudgetEngine({ catalog: () => cat });
    const evening = Date.parse('2026-11-23T04:30:00Z'); // 23:30 in New York
    const out = budgetDeltas([costRow({ picos: USD, endMs: evening })], cat, { anomalies: false }).map((d) =>
      engine.apply(d, 0, evening),
    );
    assert.deepEqual(collect(out).slice(-1), ['throttle.engaged']);
    assert.equal(engine.status('daily', evening)[0]!.windowEndMs, Date.parse('2026-11-23T05:00:00Z'));
    const next = engine.tick(Date.parse('2026-11-23T05:00:01Z'));
    assert.deepEqual(collect([next]), ['throttle.released']);
    assert.equal(JSON.parse(next.events[0]!.event.body).data.throttle.release_reason, 'window_rollover');
    assert.equal(engine.spend('daily', Date.parse('2026-11-23T05:00:01Z')), 0n);
  });

  it('raises budget.forecast_exceeded before the spend crosses', () => {
    const fc = parseBudget({ id: 'fc', window: '1h', limit_usd: '10', thresholds: [100] });
    const cat = new BudgetCatalog([fc]);
    const engine = new BudgetEngine({ catalog: () => cat });
    const outs: EngineOutput[] = [];
    // $0.25 per minute → $15 per hour at this rate; after 10 min (the sample) it projects over $10.
    for (let m = 0; m <= 12; m++) {
      for (const d of budgetDeltas([costRow({ picos: USD / 4n, endMs: T0 + m * 60_000 })], cat, { anomalies: false }))
        outs.push(engine.apply(d, 0, T0 + m * 60_000));
    }
    const events = collect(outs);
    assert.deepEqual(events, ['budget.forecast_exceeded']);
    const body = JSON.parse(outs.flatMap((o) => o.events)[0]!.event.body);
    assert.equal(body.data.forecast.projected_usd, '15');
    assert.ok(Number(body.data.spend_usd) < 10);
  });

  it('raises cost.anomaly for a route whose spend per minute jumps, to the anomaly webhooks', () => {
    const cat = new BudgetCatalog([], ['ops']);
    const engine = new BudgetEngine({ catalog: () => cat });
    const outs: EngineOutput[] = [];
    let offset = 0n;
    for (let minute = 0; minute < 20; minute++) {
      for (let i = 0; i < 10; i++) {
        const t = T0 + minute * 60_000 + i * 5_000;
        for (const d of budgetDeltas([costRow({ picos: USD / 100n, endMs: t, offset: offset++ })], cat))
          outs.push(engine.apply(d, 0, t));
      }
    }
    assert.deepEqual(collect(outs), [], 'steady traffic: no anomaly');
    const spike: EngineOutput[] = [];
    for (let i = 0; i < 50; i++) {
      const t = T0 + 20 * 60_000 + i * 1000;
      for (const d of budgetDeltas([costRow({ picos: USD / 100n, endMs: t, offset: offset++ })], cat))
        spike.push(engine.apply(d, 0, t));
    }
    const events = spike.flatMap((o) => o.events);
    assert.equal(events.length, 1, 'one anomaly for the minute');
    assert.deepEqual(events[0]!.webhooks, ['ops']);
    const body = JSON.parse(events[0]!.event.body);
    assert.equal(body.type, 'cost.anomaly');
    assert.equal(body.data.kind, 'spend_rate');
    assert.equal(body.data.scope.service, 'chat-api');
    assert.equal(body.data.scope.route, '/v1/chat');
    assert.equal(body.data.baseline_usd, '0.1', 'baseline: 10 requests × $0.01 per minute');
    assert.ok(Number(body.data.observed_usd) > Number(body.data.threshold_usd));
  });

  it('feeds each anomaly-scope delta to the detectors once, however often its span message is replayed', () => {
    const observed: bigint[] = [];
    class RecordingDetector extends SpendRateDetector {
      override observe(scope: string, timeMs: number, subunits: bigint) {
        observed.push(subunits);
        return super.observe(scope, timeMs, subunits);
      }
    }
    const engine = new BudgetEngine({ catalog: () => catalog, anomalies: { spendRate: new RecordingDetector() } });
    const first = [costRow({ picos: 3n, endMs: T0, offset: 10n }), costRow({ picos: 5n, endMs: T0, offset: 11n })];
    const scopeDeltas = (rows: ReturnType<typeof costRow>[]) =>
      budgetDeltas(rows, catalog).filter((d) => d.kind === 'scope');
    for (const d of scopeDeltas(first)) engine.apply(d, 0, T0);
    assert.deepEqual(observed, [3n, 5n]);
    // The span consumer hands a redelivered batch off again, ahead of the new message 12.
    const replay = [...first, costRow({ picos: 7n, endMs: T0, offset: 12n })];
    for (const d of scopeDeltas(replay)) engine.apply(d, 0, T0);
    assert.deepEqual(observed, [3n, 5n, 7n], 'only the new message reached the detector');
    assert.equal(engine.stats.duplicatesDropped, 2);
  });
});
