// The drift monitor on an embedded DuckDB store: a bill with untraced usage above the rule's
// threshold fires reconcile.drift once (a second check does not repeat it), an import that
// brings the bill back in line fires reconcile.drift_resolved, and the payload carries the
// figures reconcile computes. Money is checked against hand-computed values.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { bundledPriceSnapshot, catalogListPrices, Money, parseDriftRule } from '@costtrace/core';
import type { BilledLine } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import { DriftMonitor } from '../../src/reconcile/drift-monitor.js';
import type { WebhookEvent } from '../../src/webhooks/webhook-event.js';
import { parseBudgetFile } from '../../src/budgets/budget-registry.js';
import { costRow } from '../support/cost-rows.js';

const DAY = Date.UTC(2026, 10, 10) / 1000;
const NOW = (DAY + 12 * 3600) * 1000;
const prices = catalogListPrices(bundledPriceSnapshot()).tokenPrices('openai', 'gpt-4o', 'standard', DAY * 1000)!;

function usage(quantity: string, kind: BilledLine['kind'], billedCost?: string): BilledLine {
  return {
    source: 'openai-usage',
    provider: 'openai',
    account: '',
    project: '',
    apiKey: '',
    model: 'gpt-4o',
    serviceTier: '',
    periodStart: DAY,
    periodEnd: DAY + 86_400,
    kind,
    quantity,
    unit: billedCost === undefined ? 'tokens' : '',
    billedCost,
    listCost: undefined,
    currency: 'USD',
    description: '',
    chargeCategory: 'Usage',
    service: 'completions',
    resourceId: '',
  };
}

describe('drift monitor', () => {
  let dir: string;
  let store: DuckDbStore;
  const events: { event: WebhookEvent; endpoints: readonly string[] }[] = [];
  let monitor: DriftMonitor;
  const rule = parseDriftRule(
    {
      id: 'openai-untraced',
      provider: 'openai',
      measure: 'untraced',
      above_percent: '5',
      window: '1d',
      webhooks: ['ops'],
    },
    'drift[0]',
  );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-drift-'));
    store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    await store.migrate();
    // Spans: 1,000,000 output tokens of gpt-4o at list.
    const cost = (1_000_000n * prices.output) / 1_000_000n;
    await store.insertSpanCosts([
      costRow({
        picos: cost,
        endMs: (DAY + 3600) * 1000,
        provider: 'openai',
        model: 'gpt-4o',
        outputTokens: 1_000_000n,
        usageKey: 'k',
        // Token cost: what a provider's token bill is compared with.
        costOutput: Money.fromSubunits(cost),
        costCompute: Money.zero(),
      }),
    ]);
    monitor = new DriftMonitor({
      store,
      snapshot: bundledPriceSnapshot,
      rules: () => [rule],
      publish: (event, endpoints) => {
        events.push({ event, endpoints });
        return Promise.resolve(true);
      },
      logger: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
      now: () => NOW,
    });
  });

  after(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function bill(id: string, output: bigint, at: bigint): Promise<void> {
    const cost = (output * prices.output) / 1_000_000n;
    await store.insertBilledLines(id, [
      usage(output.toString(), 'output'),
      usage('0', 'other', Money.fromSubunits(cost).toDecimalString()),
    ]);
    await store.commitBillImport([
      {
        importId: id,
        source: 'openai-usage',
        account: '',
        days: [DAY],
        importedAtMicros: at,
        lines: 2,
        origin: 'test',
      },
    ]);
  }

  it('fires reconcile.drift once when untraced usage passes 5 % of the bill', async () => {
    // Billed 1,100,000 output tokens: 100,000 untraced = 1/11 of the bill = 9.0909 %.
    await bill('b1', 1_100_000n, 1n);
    const findings = await monitor.check();
    assert.deepEqual(
      findings.map((f) => [f.provider, f.percent, f.above]),
      [['openai', '9.0909', true]],
    );
    assert.equal(events.length, 1);
    const { event, endpoints } = events[0]!;
    assert.deepEqual(endpoints, ['ops']);
    assert.equal(event.type, 'reconcile.drift');
    const body = JSON.parse(event.body) as { id: string; data: Record<string, unknown> };
    assert.equal(body.id, event.id);
    const untraced = Money.fromSubunits((100_000n * prices.output) / 1_000_000n).toDecimalString();
    assert.equal(body.data.measured, untraced);
    assert.equal(body.data.percent, '9.0909');
    assert.deepEqual(body.data.rule, { id: 'openai-untraced', measure: 'untraced', above_percent: '5', window: '1d' });
    // Still above: no second event.
    await monitor.check();
    assert.equal(events.length, 1);
    // Every check saved what it saw.
    const runs = await store.savedReconcileRuns(10);
    assert.deepEqual(
      runs.map((r) => [r.rows, r.untraced, r.groupBy, r.billedCost]),
      [
        [1, untraced, 'provider', body.data.billed_cost],
        [1, untraced, 'provider', body.data.billed_cost],
      ],
    );
  });

  it('fires reconcile.drift_resolved when a restated bill brings it back below', async () => {
    await bill('b2', 1_020_000n, 2n); // 20,000 untraced = 1.9608 %
    const findings = await monitor.check();
    assert.deepEqual(
      findings.map((f) => [f.percent, f.above]),
      [['1.9608', false]],
    );
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['reconcile.drift', 'reconcile.drift_resolved'],
    );
  });
});

describe('drift rules in the budgets file', () => {
  it('reads them beside budgets and webhooks, and names the field of a mistake', () => {
    const file = parseBudgetFile(`
webhooks:
  - { id: ops, url: "https://hooks.example.com/x", secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw] }
drift:
  - { id: untraced-openai, provider: openai, measure: untraced, above_percent: "5", window: 30d, webhooks: [ops] }
`);
    assert.deepEqual(
      file.drift.map((d) => [d.id, d.provider, d.measure, d.windowDays, d.webhooks]),
      [['untraced-openai', 'openai', 'untraced', 30, ['ops']]],
    );
    assert.throws(
      () => parseBudgetFile('drift:\n  - { id: x, above_percent: "5", webhooks: [nowhere] }\n'),
      /drift\[0\]\.webhooks\[0\]: no webhook endpoint with id nowhere/,
    );
    assert.throws(() => parseBudgetFile('drift:\n  - { id: x, above_percent: "-1" }\n'), /drift\[0\]\.above_percent/);
  });
});
