// Aggregator restarted mid-window: the new evaluator restores the window totals and throttle
// state from ClickHouse (budget_key_state), so it neither forgets spend nor announces the breach
// again — even with an empty outbox of its own and with the span path re-delivering deltas.
// Totals equal a ClickHouse query over the stored span rows.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClickHouseStore } from '@costtrace/store';
import { budgetDeltas, generateSecret } from '../../src/index.js';
import { CostDeltaProducer } from '../../src/budgets/cost-delta-producer.js';
import type { SpanCostRow } from '@costtrace/store';
import { budgetTopics, createBudgetTopics, startBudgetHarness } from '../support/budget-harness.js';
import type { Harness } from '../support/budget-harness.js';
import { costRow } from '../support/cost-rows.js';
import {
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  testMessageLog,
  uniqueNames,
} from '../support/live-services.js';
import { until, WebhookReceiver } from '../support/webhook-receiver.js';

const CENT = 10_000_000_000n;

describe('budgets: evaluator restarted mid-window', () => {
  const services = liveServices();
  const names = uniqueNames('budgets_restart');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const receiver = new WebhookReceiver();
  let dir = '';
  let file = '';
  let store: ClickHouseStore;
  let a: Harness | undefined;
  let b: Harness | undefined;
  const producer = new CostDeltaProducer(testMessageLog(services.kafkaBrokers), topics.deltas);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-restart-'));
    const hook = await receiver.start();
    await createBudgetTopics(kafka, topics);
    store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
    await store.migrate();
    file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `webhooks: [{ id: ops, url: "${hook}", secrets: ["${generateSecret()}"] }]
budgets:
  - { id: team-hour, per: [team], window: 1h, limit_usd: "1", action: reject, forecast: false, webhooks: [ops] }
`,
    );
    await producer.connect();
  });

  after(async () => {
    await a?.stop().catch(() => undefined);
    await b?.stop();
    await producer.disconnect();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`);
    await store.close();
    await deleteTopics(kafka, [topics.deltas, topics.deltasDlq, topics.throttles]);
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const harness = (instanceId: string) =>
    startBudgetHarness({
      brokers: services.kafkaBrokers,
      clickhouseUrl: services.clickhouseUrl,
      database: names.database,
      topics,
      groupId: names.groupId,
      budgetsFile: file,
      outboxDirectory: join(dir, `outbox-${instanceId}`),
      instanceId,
    });

  async function spend(rows: SpanCostRow[], h: Harness): Promise<void> {
    await store.insertSpanCosts(rows);
    await producer.send(budgetDeltas(rows, h.service.registry.catalog()));
  }

  it('keeps the spend and does not fire a second throttle.engaged', async () => {
    a = await harness('first');
    const t = Date.now();
    const first = Array.from({ length: 12 }, (_, i) =>
      costRow({ picos: 10n * CENT + BigInt(i), team: 'ml', endMs: t - 1000 + i, offset: BigInt(100 + i) }),
    );
    const other = [costRow({ picos: 3n * CENT, team: 'web', endMs: t, offset: 200n })];
    await spend([...first, ...other], a);
    await until('throttle.engaged', () => receiver.acknowledged().some((e) => e.type === 'throttle.engaged'), 20_000);
    await until('state persisted', async () => {
      const rows = await store.select<{ n: string }>(
        `SELECT count() AS n FROM ${names.database}.budget_key_state WHERE engaged = 1`,
      );
      return Number(rows[0]!.n) >= 1;
    });
    await a.stop();
    a = undefined;

    // While it is down: more spend, and the span path re-delivers the first batch.
    const more = Array.from({ length: 3 }, (_, i) =>
      costRow({ picos: 7n * CENT, team: 'ml', endMs: t + 10 + i, offset: BigInt(300 + i) }),
    );
    await store.insertSpanCosts(more);
    const catalogRows = [...first, ...more];
    b = await harness('second');
    await producer.send(budgetDeltas(catalogRows, b.service.registry.catalog()));

    const key = 'team-hour|team=ml';
    const expected = first.reduce((s, r) => s + r.costTotal.subunits, 0n) + 21n * CENT;
    await until(
      'restarted evaluator caught up',
      () => b!.service.evaluator!.engine.spend(key, Date.now()) === expected,
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // any second event would be delivered by now
    const engaged = receiver.acknowledged().filter((e) => e.type === 'throttle.engaged');
    assert.equal(engaged.length, 1, 'no second throttle.engaged after the restart');
    assert.equal(
      b.service.outbox.recentEvents({ type: 'throttle.engaged' }).length,
      0,
      'the new instance created no engagement event at all',
    );
    assert.equal(b.service.evaluator!.engine.stats.duplicatesDropped, first.length, 're-delivered deltas dropped');
    assert.equal(b.service.board.list().length, 1, 'the throttle is still active');

    const fromClickHouse = await store.select<{ total: string }>(
      `SELECT toString(sum(cost_total)) AS total FROM ${names.database}.span_costs
       WHERE team = 'ml' AND end_time_unix_nano >= ${BigInt(t - 3_600_000) * 1_000_000n}`,
    );
    assert.equal(
      decimalToPicos(fromClickHouse[0]!.total),
      expected,
      'evaluator total = ClickHouse query over the window',
    );
    assert.equal(b.service.evaluator!.engine.spend('team-hour|team=web', Date.now()), 3n * CENT);
  });
});
